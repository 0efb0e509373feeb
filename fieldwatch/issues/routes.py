"""Issue pages: the phone form, the list, the detail with its next moves."""

from __future__ import annotations

from flask import Flask

from fieldwatch.issues import offline


def register_routes(app: Flask) -> None:
    offline.register(app)
