"""The main map: folium skeleton, live layers for the view, base maps (incl. GCJ-02 for AMap)."""

from flask import Flask


def register(app: Flask) -> None:
    from fieldwatch.api import register_blueprint
    from fieldwatch.map.api import blp

    register_blueprint(app, blp)
