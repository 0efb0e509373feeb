"""fieldwatch: stations, problems, visits and look-backs on a map."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Flask, g, request

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the app: config from FIELDWATCH_* (or `config`), extensions, areas."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    from fieldwatch import config as settings

    app.config.update(settings.DEFAULTS)
    if config is None or "SQLALCHEMY_DATABASE_URI" not in config:
        app.config.update(settings.from_environment())
    if config:
        app.config.update(config)
    Path(app.config.setdefault("UPLOAD_FOLDER", str(ROOT / "instance" / "uploads"))).mkdir(
        parents=True, exist_ok=True
    )

    _init_extensions(app)
    _register_areas(app)
    from fieldwatch.security import wrap_wsgi

    wrap_wsgi(app)

    @app.before_request
    def _nonce() -> None:
        g.csp_nonce = secrets.token_urlsafe(16)

    @app.after_request
    def _security_headers(response):
        from fieldwatch.security import apply_headers

        return apply_headers(response, request)

    return app


def _init_extensions(app: Flask) -> None:
    from fieldwatch import i18n
    from fieldwatch.extensions import api, babel, csrf, db, login, migrate

    db.init_app(app)
    with app.app_context():
        from fieldwatch import pool

        for engine in db.engines.values():
            pool.install(engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), compare_type=True)
    csrf.init_app(app)
    login.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    api.init_app(app)
    import fieldwatch.models  # noqa: F401  (register the tables)


def _register_areas(app: Flask) -> None:
    """Register every area's blueprints; each area's `register(app)` adds its own."""
    import importlib

    for name in app.config.get("FIELDWATCH_AREAS", AREAS):
        module = importlib.import_module(f"fieldwatch.{name}")
        module.register(app)


#: user-facing areas, in the order their blueprints are registered
AREAS = ("errors", "auth", "main", "api", "areas", "stations", "ogc", "open311", "admin", "notify", "visits",
         "issues", "photos", "coverage", "map", "tiles", "followups", "places", "todos")  # fmt: skip
