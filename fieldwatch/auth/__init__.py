"""Sign-in, users, API tokens, language choice."""

from flask import Flask


def register(app: Flask) -> None:
    from fieldwatch.auth import loaders
    from fieldwatch.auth.routes import bp

    loaders.init(app)
    app.register_blueprint(bp)
