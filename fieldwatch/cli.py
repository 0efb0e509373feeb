"""The `fieldwatch` command: a Flask CLI group over the app factory.

Commands are thin wrappers over services. Any error ends with one line on
stderr and a non-zero exit.
"""

from __future__ import annotations

import os
import secrets
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from fieldwatch import config as settings
from fieldwatch import pg
from fieldwatch.errors_core import FieldwatchError


def _create_app():
    from fieldwatch import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False)
def cli() -> None:
    """fieldwatch: stations, problems, visits and look-backs on a map."""


# --- the local cluster ------------------------------------------------------
@cli.group("pg")
def pg_group() -> None:
    """The instance's own PostGIS cluster."""


@pg_group.command("start")
def pg_start() -> None:
    """Start (creating if needed) the cluster; print the database URL last."""
    url = pg.start(settings.instance_path())
    click.echo(url)


@pg_group.command("stop")
def pg_stop() -> None:
    """Stop the cluster."""
    was = pg.stop(settings.instance_path())
    click.echo("stopped" if was else "not running")


@pg_group.command("status")
def pg_status() -> None:
    """Say whether the cluster runs, and its URL."""
    running, state = pg.status(settings.instance_path())
    if state is None:
        click.echo("no cluster (run `fieldwatch pg start`)")
        sys.exit(3)
    click.echo(
        f"{'running' if running else 'stopped'} on 127.0.0.1:{state['port']} ({state['data']})"
    )
    if not running:
        sys.exit(3)


# --- users ------------------------------------------------------------------
@cli.group("users")
def users_group() -> None:
    """Users and API tokens."""


@users_group.command("create")
@click.argument("login")
@click.option("--role", required=True, help="admin | leader | member | supervisor | unit")
@click.option("--name", default=None, help="display name")
@click.option("--township", "township_code", default=None, help="township code (scope)")
@click.option("--unit", "unit_code", default=None, help="unit code (for the unit role)")
@click.option("--sector", default=None, help="界别")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@with_appcontext
def users_create(login, role, name, township_code, unit_code, sector, password_stdin) -> None:
    """Create a user; without --password-stdin a random password is printed."""
    from fieldwatch.auth.services import create_user
    from fieldwatch.extensions import db

    password = sys.stdin.readline().rstrip("\n") if password_stdin else secrets.token_urlsafe(12)
    create_user(login, role, name, password, township_code, unit_code, sector)
    db.session.commit()
    click.echo(f"created {login} ({role})")
    if not password_stdin:
        click.echo(f"password: {password}")


@users_group.command("token")
@click.argument("login")
@click.option("--name", default="cli", help="what the token is for")
@with_appcontext
def users_token(login, name) -> None:
    """Print a new API token for LOGIN as the last line."""
    from fieldwatch.auth.services import get_user, issue_token
    from fieldwatch.extensions import db

    token = issue_token(get_user(login), name)
    db.session.commit()
    click.echo(token)


# --- demo, serving ----------------------------------------------------------
@cli.group("demo")
def demo_group() -> None:
    """The demo county."""


@demo_group.command("load")
@with_appcontext
def demo_load() -> None:
    """Load the demo county (idempotent) and print the demo logins."""
    from fieldwatch.demo.loader import DEMO_PASSWORD, load_demo

    counts = load_demo()
    click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()))
    click.echo(f"demo logins (password {DEMO_PASSWORD}): admin, leader, member, supervisor, unit")


@cli.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option(
    "--workers",
    default=None,
    type=int,
    help="gunicorn workers (default: 2 per core + 1, at most 5)",
)
@click.option("--certfile", default=None, type=click.Path(exists=True, dir_okay=False))
@click.option("--keyfile", default=None, type=click.Path(exists=True, dir_okay=False))
def serve(host, port, workers, certfile, keyfile) -> None:
    """Serve the app with gunicorn (TLS with --certfile/--keyfile)."""
    from fieldwatch.server import run

    if bool(certfile) != bool(keyfile):
        raise click.UsageError("--certfile and --keyfile go together")
    run(host, port, workers or min(2 * (os.cpu_count() or 1) + 1, 5), certfile, keyfile)


def _register_feature_commands() -> None:
    """Let areas add their commands (areas import, backup, notify ...)."""
    import importlib

    for module in (
        "fieldwatch.areas.cli",
        "fieldwatch.backup",
        "fieldwatch.notify.cli",
        "fieldwatch.privacy.cli",
    ):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                continue
            raise
        mod.register_cli(cli)


def _one_line(exc: BaseException) -> str:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    if isinstance(exc, FieldwatchError):
        details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
        return (
            exc.message if not details or details in exc.message else f"{exc.message} ({details})"
        )
    if isinstance(exc, OperationalError | ProgrammingError):
        url = current_url()
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        if (
            "FIELDWATCH_DATABASE_URL" not in os.environ
            and pg.load_state(settings.instance_path()) is None
        ):
            return "the local database is not set up: run `fieldwatch pg start` (or set FIELDWATCH_DATABASE_URL)"
        return f"cannot use the database at {url}: {reason}"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def current_url() -> str:
    """Return the database URL in use, with the password hidden."""
    from sqlalchemy.engine import make_url

    try:
        url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    except RuntimeError:
        url = os.environ.get("FIELDWATCH_DATABASE_URL") or pg.database_url(settings.instance_path())
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable URL)"


def main() -> None:
    """Entry point: run the group, turning errors into one line and exit 1."""
    _register_feature_commands()
    try:
        cli.main(prog_name="fieldwatch", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001  one line, not a traceback
        if os.environ.get("FIELDWATCH_DEBUG"):
            raise
        click.echo(f"error: {_one_line(exc)}", err=True)
        sys.exit(1)
