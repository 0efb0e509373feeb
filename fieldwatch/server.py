"""Production serving with gunicorn."""

from __future__ import annotations

import os

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from fieldwatch import create_app

        return create_app()


def _on_starting(server) -> None:
    """Before workers fork: clean files a crash left behind."""
    from fieldwatch import create_app

    app = create_app()
    with app.app_context():
        try:
            from fieldwatch.photos.storage import sweep_orphans
        except ModuleNotFoundError:
            return
        try:
            # before any worker exists, nothing of ours is mid-transaction: sweep everything
            # (several servers sharing one uploads folder: set FIELDWATCH_SWEEP_MIN_AGE=600)
            removed = sweep_orphans(float(os.environ.get("FIELDWATCH_SWEEP_MIN_AGE", "0")))
        except Exception as exc:  # noqa: BLE001  the database may be down; serve anyway
            server.log.warning("orphan sweep skipped: %s", str(exc).splitlines()[0])
            return
        if removed:
            server.log.info("removed %d orphan upload(s)", removed)


def run(host: str, port: int, workers: int, certfile: str | None, keyfile: str | None) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "sync",
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": "-",
        "errorlog": "-",
        "forwarded_allow_ips": "127.0.0.1",
        "on_starting": _on_starting,
    }
    if certfile:
        options.update(certfile=certfile, keyfile=keyfile)
    _Gunicorn(options).run()
