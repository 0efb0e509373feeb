"""Problems (issues): reporting, the lifecycle, photos, the issue pages and API."""

from flask import Flask


def register(app: Flask) -> None:
    import importlib

    for name in ("routes", "api"):
        module = f"fieldwatch.issues.{name}"
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                continue
            raise
        mod.register_routes(app)
