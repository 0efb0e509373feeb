"""What every page form does with a service: validate, save all or nothing, show errors.

A page route builds its form, then::

    done = submit(form, lambda: services.save_thing(...))
    if done:
        flash(...)
        return redirect(...)
    return render_template(..., problems=done.problems), form_status()

The service raises `ValidationError(message, {field: [messages]})`; its field
errors go under the form's fields (`aliases` maps a service key to a form field
name), the rest come back in `problems` for the page to show above the form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from flask import request

from fieldwatch.errors_core import FieldwatchError, ValidationError
from fieldwatch.extensions import db


def put_errors(form, exc: FieldwatchError, aliases: Mapping[str, str] | None = None) -> list[str]:
    """Put `exc`'s field errors on the form's fields; return the messages no field shows.

    With no field errors at all, the error's own message is returned.
    """
    rest: list[str] = []
    for key, messages in exc.errors.items():
        target = getattr(form, (aliases or {}).get(key, key), None)
        if target is not None and hasattr(target, "errors"):
            shown = target.errors if isinstance(target.errors, list | tuple) else []
            target.errors = [*shown, *messages]
        else:
            rest.extend(messages)
    if not exc.errors:
        rest.append(exc.message)
    return rest


@dataclass
class Submitted:
    """The outcome of `submit`: true once saved and committed."""

    saved: bool = False
    value: object = None
    problems: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.saved


def submit(form, save: Callable[[], object], aliases: Mapping[str, str] | None = None) -> Submitted:
    """Validate `form` and run `save()`, committing once; a ValidationError rolls all of it back.

    Returns a false `Submitted` when the form was not posted, did not validate or
    the service refused it (its errors are on the form and in `problems`).
    """
    if not form.validate_on_submit():
        return Submitted()
    try:
        value = save()
    except ValidationError as exc:
        db.session.rollback()
        return Submitted(problems=put_errors(form, exc, aliases))
    db.session.commit()
    return Submitted(saved=True, value=value)


def form_status() -> int:
    """422 for a form page shown again after a post (it was refused), 200 otherwise."""
    return 422 if request.method == "POST" else 200
