"""A place's history (per place: problems, visits and look-backs there, as a timeline)."""

from flask import Flask


def register(app: Flask) -> None:
    from fieldwatch.places import api, routes

    routes.register_routes(app)
    api.register_routes(app)
