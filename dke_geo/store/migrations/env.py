"""Alembic environment: run by dke_geo.store.db.migrate() with a live connection, or by the alembic
command line (alembic.ini) against DKE_GEO_DATABASE_URL."""
from alembic import context
from sqlalchemy import create_engine

from dke_geo import config
from dke_geo.store.tables import metadata


def _include(obj, name, type_, reflected, compare_to):
    """The PostGIS-only geometry columns are kept by a trigger, not by the table definitions."""
    return not (type_ == "column" and name == "geom")


def _run(connection):
    context.configure(connection=connection, target_metadata=metadata, include_object=_include,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    with create_engine(config.database_url()).begin() as conn:
        _run(conn)
