"""Vector tiles: /tiles/<layer>/<z>/<x>/<y>.pbf from ST_AsMVT."""

from flask import Flask


def register(app: Flask) -> None:
    from fieldwatch.tiles.routes import bp

    app.register_blueprint(bp)
