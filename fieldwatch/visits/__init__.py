"""Visits (现场协商): leaders plan routes through problems on a map, hold them, and the
agreed actions move the problems through their lifecycle."""

from flask import Flask


def register(app: Flask) -> None:
    import importlib

    for name in ("api", "routes"):
        module = f"fieldwatch.visits.{name}"
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                continue
            raise
        mod.register_routes(app)
