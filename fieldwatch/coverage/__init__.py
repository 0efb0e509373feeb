"""Coverage (覆盖): how far the stations reach, per township, as of any date."""

from flask import Flask


def register(app: Flask) -> None:
    from fieldwatch.coverage.routes import register_routes

    register_routes(app)
