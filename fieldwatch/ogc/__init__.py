"""OGC API – Features at /ogc: the map layers for GIS tools (QGIS, GDAL)."""

from flask import Flask


def register(app: Flask) -> None:
    from fieldwatch.extensions import csrf
    from fieldwatch.ogc.routes import bp

    csrf.exempt(bp)
    app.register_blueprint(bp)
