"""Consultation stations (协商工作站 / 议事平台)."""

from flask import Flask


def register(app: Flask) -> None:
    try:
        from fieldwatch.stations.routes import register_routes
    except ModuleNotFoundError as exc:
        if not (exc.name and "fieldwatch.stations.routes".startswith(exc.name)):
            raise
        return
    register_routes(app)
