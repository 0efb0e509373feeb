"""What the lifecycle announces; look-back and notifications listen (never the reverse)."""

from blinker import Namespace

_signals = Namespace()

#: sender: the new Issue; kwargs: actor (User or None)
issue_reported = _signals.signal("issue-reported")
#: sender: the Issue after the move; kwargs: event (IssueEvent), actor, from_status, followup
issue_moved = _signals.signal("issue-moved")
#: sender: the Issue; kwargs: event (IssueEvent), actor
issue_commented = _signals.signal("issue-commented")
