"""The home page and what every page shares (navigation, nonce, clock)."""

from flask import Flask


def register(app: Flask) -> None:
    from fieldwatch.main.routes import bp, inject

    app.register_blueprint(bp)
    app.context_processor(inject)
