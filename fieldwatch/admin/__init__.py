"""Administration (政协办公室): users, lists, the base map, the audit log, notifications, ledger import."""

from flask import Flask


def register(app: Flask) -> None:
    from fieldwatch.admin import routes_ledger, routes_lists, routes_log, routes_users  # noqa: F401
    from fieldwatch.admin.routes import bp

    app.register_blueprint(bp)
