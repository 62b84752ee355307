"""area_events: every change of an area's outline (drawn on the map by a planner, or imported), with who, when,
the name and outline before and after, and how many findings were re-assigned.

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "area_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("area_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("old_name", sa.String(length=200), nullable=True),
        sa.Column("new_name", sa.String(length=200), nullable=False),
        sa.Column("old_geojson", sa.Text(), nullable=True),
        sa.Column("new_geojson", sa.Text(), nullable=False),
        sa.Column("reassigned", sa.Integer(), nullable=False),
        sa.Column("overlap_confirmed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("area_events", schema=None) as batch_op:
        batch_op.create_index("ix_area_events_area_id", ["area_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("area_events", schema=None) as batch_op:
        batch_op.drop_index("ix_area_events_area_id")
    op.drop_table("area_events")
