"""`fieldwatch notify`: queue what has come due, then deliver the outbox (run from a timer)."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext


@click.command("notify")
@click.option(
    "--no-scan", is_flag=True, help="only deliver; do not look for due look-backs or visits"
)
@click.option("--limit", type=int, default=None, help="send at most this many messages")
@with_appcontext
def notify(no_scan: bool, limit: int | None) -> None:
    """Queue due look-backs, overdue ones and visit invitations; send the outbox."""
    from fieldwatch.extensions import db
    from fieldwatch.notify.delivery import deliver
    from fieldwatch.notify.services import scan

    if not no_scan:
        queued = scan()
        db.session.commit()
        click.echo("queued: " + ", ".join(f"{k} {v}" for k, v in queued.items()))
    report = deliver(limit)
    for line in report.errors[:20]:
        click.echo(f"  {line}", err=True)
    click.echo(
        f"sent {report.sent}, will retry {report.retry}, failed {report.failed}, "
        f"interrupted {report.interrupted}"
    )
    if report.sent == 0 and (report.retry or report.failed):
        sys.exit(2)  # nothing got through: the timer's unit shows as failed


def register_cli(cli) -> None:
    cli.add_command(notify)
