"""Look-backs (回头看): scheduling from the issue lifecycle, recording on site, the board."""

from flask import Flask


def register(app: Flask) -> None:
    from fieldwatch.followups import api, routes, scheduling

    scheduling.connect()
    routes.register_routes(app)
    api.register_routes(app)
