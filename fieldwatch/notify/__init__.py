"""Notifications: the outbox, filled by the lifecycle and a scan, sent by `fieldwatch notify`."""

from flask import Flask


def register(app: Flask) -> None:
    from fieldwatch.notify import services
    from fieldwatch.notify.routes import bp

    services.connect()
    app.register_blueprint(bp)
