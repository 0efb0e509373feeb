"""`fieldwatch privacy purge [--dry-run]`: erase expired residents' contacts (run daily)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("privacy")
def privacy() -> None:
    """Residents' personal data (PIPL)."""


@privacy.command("purge")
@click.option("--dry-run", is_flag=True, help="only count what would be erased")
@with_appcontext
def purge(dry_run: bool) -> None:
    """Erase contact names and phones of problems ended longer ago than the retention."""
    from fieldwatch import clock
    from fieldwatch.extensions import db
    from fieldwatch.privacy.services import purge_contacts

    try:
        report = purge_contacts(dry_run=dry_run)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    cutoff = clock.local(report.cutoff).strftime("%Y-%m-%d %H:%M")
    verb = "would erase" if dry_run else "erased"
    click.echo(
        f"retention {report.retention_days} days (ended before {cutoff}): "
        f"{verb} the contacts of {report.issues} problems"
    )


def register_cli(cli) -> None:
    cli.add_command(privacy)
