"""Open311 GeoReport v2 at /open311/v2: hotline and civic-tech systems read and report problems."""

from flask import Flask


def register(app: Flask) -> None:
    from fieldwatch.extensions import csrf
    from fieldwatch.open311.routes import bp

    csrf.exempt(bp)
    app.register_blueprint(bp)
