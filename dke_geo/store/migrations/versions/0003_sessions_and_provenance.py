"""sessions that can be revoked, the client of a login attempt, and where an imported finding came from

- `sessions`: one row per login (a local password or the municipality's OpenID Connect). The browser holds a
  random token; the table holds its SHA-256 only. A session ends when it expires, when its user logs out, or
  when it is revoked (the account removed, its password or role changed): every open tab and every copy of the
  cookie is checked against this row at its next interaction.
- `login_attempts.client`: the client (address) an attempt came from, for a limit per client beside the one per
  name.
- `observations.source_created_by`: for an imported finding, who the file says recorded it (provenance only;
  `created_by` is the importing user).

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_name", sa.String(length=120), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index("ix_sessions_user_name", ["user_name"], unique=False)
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client", sa.String(length=64), nullable=False, server_default=""))
        batch_op.create_index("ix_login_attempts_client_at", ["client", "at"], unique=False)
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_created_by", sa.String(length=120), nullable=False,
                                      server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_column("source_created_by")
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempts_client_at")
        batch_op.drop_column("client")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_user_name")
    op.drop_table("sessions")
