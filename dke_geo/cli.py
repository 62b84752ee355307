"""The command line: `python -m dke_geo COMMAND`. Commands run as the operator (admin role)."""
from __future__ import annotations

from pathlib import Path

import typer

from dke_geo import fixtures
from dke_geo.errors import DkeError
from dke_geo.roles import SYSTEM
from dke_geo.services import areas as area_service
from dke_geo.store.db import default_engine, migrate

app = typer.Typer(help="dke-geo: area walks and safety mapping for Albertslund Kommune.", no_args_is_help=True,
                  add_completion=False)
areas_app = typer.Typer(help="Housing areas: list them, or replace the outlines with the municipality's own.",
                        no_args_is_help=True)
app.add_typer(areas_app, name="areas")


def _fail(exc: DkeError) -> None:
    typer.secho(exc.message("en"), fg="red", err=True)
    raise typer.Exit(1)


@app.command("init-db")
def init_db() -> None:
    """Create the database or migrate it to the newest schema (safe to run again), and store the
    shipped area outlines if there are none."""
    engine = default_engine()
    migrate(engine)
    seeded = area_service.seed_if_empty(engine)
    typer.echo(f"database ready: {engine.url.render_as_string(hide_password=True)}"
               + (" (areas seeded from data/geo/areas.geojson)" if seeded else ""))


@app.command()
def demo(if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing (exit 0) when the "
                                                 "database already holds data, instead of refusing.")) -> None:
    """Fill an empty database with the demo walks and made-up findings (all flagged as demo)."""
    engine = default_engine()
    migrate(engine)
    if not fixtures.is_empty(engine):
        if if_empty:
            typer.echo("database already holds data: demo not loaded")
            return
        typer.secho("the database is not empty: demo data is only loaded into an empty database", fg="red", err=True)
        raise typer.Exit(1)
    counts = fixtures.load_demo(engine)
    typer.echo(f"demo loaded: {counts['walks']} walks, {counts['observations']} findings (all flagged as demo)")
    typer.echo("demo accounts (public passwords: remove them before real use):")
    for name, role, password in fixtures.DEMO_USERS:
        typer.echo(f"  {role:<8} {name:<18} password: {password}")


@areas_app.command("list")
def areas_list() -> None:
    """List the areas with their number of findings."""
    table = area_service.summary(default_engine())
    for row in table.itertuples():
        typer.echo(f"{row.id:<18} {row.name:<18} {row.confidence:<11} {row.area_ha:>7.1f} ha "
                   f"{row.observations:>6} findings")


@areas_app.command("import")
def areas_import(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="GeoJSON, GeoPackage or "
                                             "Shapefile, any CRS"),
                 name_field: str = typer.Option(..., "--name-field", help="The attribute holding the area name")) -> None:
    """Replace the shipped outlines with the municipality's own and re-assign findings to them."""
    try:
        result = area_service.replace_from_file(default_engine(), SYSTEM, file, name_field)
    except DkeError as exc:
        _fail(exc)
    typer.echo(f"{result['areas']} areas imported; {result['reassigned']} of {result['observations']} "
               "findings moved to another area")
