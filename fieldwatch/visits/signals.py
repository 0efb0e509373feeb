"""What visits announce; look-back and notifications may listen (never the reverse)."""

from blinker import Namespace

_signals = Namespace()

#: sender: the Visit after planning; kwargs: actor
visit_planned = _signals.signal("visit-planned")
#: sender: the Visit once held (its actions applied); kwargs: actor, events (IssueEvents)
visit_held = _signals.signal("visit-held")
#: sender: the Visit once cancelled; kwargs: actor
visit_cancelled = _signals.signal("visit-cancelled")
