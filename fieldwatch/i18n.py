"""Locale and timezone choice for Flask-Babel.

Catalogs are keyed `zh` and `en` (not Babel's zh_Hans_CN), so that a browser
sending `zh-CN,zh;q=0.9,en;q=0.8` is matched to Chinese by Werkzeug.
"""

from __future__ import annotations

from flask import current_app, request, session
from flask_login import current_user

LOCALES = ("zh", "en")


def select_locale() -> str:
    """Return the user's saved choice, else the session's, else the browser's, else zh."""
    user = current_user if current_user and current_user.is_authenticated else None
    if user is not None and getattr(user, "locale", None) in LOCALES:
        return user.locale
    chosen = session.get("lang")
    if chosen in LOCALES:
        return chosen
    if request:
        best = request.accept_languages.best_match(LOCALES)
        if best:
            return best
    return "zh"


def select_timezone() -> str:
    return current_app.config["FIELDWATCH_TIMEZONE"]
