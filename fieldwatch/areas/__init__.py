"""Places: the administrative hierarchy county → township → village/community."""

from flask import Flask


def register(app: Flask) -> None:
    try:
        from fieldwatch.areas.routes import register_routes
    except ModuleNotFoundError as exc:
        if not (exc.name and "fieldwatch.areas.routes".startswith(exc.name)):
            raise
        return
    register_routes(app)
