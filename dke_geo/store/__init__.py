"""The database: SQLAlchemy Core tables (`tables`), Alembic migrations (`migrations/`), engines and transactions
(`db`), whole-column reads (`columnar`), backups (`backup`), and one module of repository functions per table.
The only place that builds SQL; it works the same on the embedded SQLite file and on PostgreSQL + PostGIS."""
