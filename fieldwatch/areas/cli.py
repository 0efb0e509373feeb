"""`fieldwatch areas import`: a thin wrapper over the importer (one transaction)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("areas")
def areas_group() -> None:
    """Townships, villages and communities."""


@areas_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--level", required=True, type=click.Choice(["township", "village"]))
@click.option("--code-field", default=None, help="attribute with the 12-digit code")
@click.option("--name-field", default=None, help="attribute with the name")
@click.option("--parent-field", default=None, help="attribute with the parent's code")
@click.option("--kind-field", default=None, help="attribute with the kind (镇/乡/街道, 村/社区)")
@click.option(
    "--srid", default=None, type=int, help="EPSG code when the file has none (or a wrong one)"
)
@click.option("--layer", default=None, help="layer name (GeoPackage with several layers)")
@click.option(
    "--encoding", default=None, help="attribute encoding of a .dbf without .cpg, e.g. GBK"
)
@with_appcontext
def import_command(
    file, level, code_field, name_field, parent_field, kind_field, srid, layer, encoding
):
    """Import GeoJSON, Shapefile (.shp or .zip) or GeoPackage: all features or none."""
    from fieldwatch.areas.importer import FieldMap, import_areas
    from fieldwatch.extensions import db

    fields = FieldMap(code_field, name_field, parent_field, kind_field)
    try:
        result = import_areas(file, level, fields, srid=srid, layer=layer, encoding=encoding)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    click.echo(result.summary())


def register_cli(cli: click.Group) -> None:
    """Add the `areas` group to the main command (once)."""
    if "areas" not in cli.commands:
        cli.add_command(areas_group)
