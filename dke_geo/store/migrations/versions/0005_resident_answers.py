"""residents' answers, the English public text, the user's theme

- `resident_answers`: a resident's answer to "Er det stadig et problem?" on a published finding whose fix is
  planned or resolved: yes/no, an optional short text and the time. Stored apart from the findings, with no name,
  e-mail, address or client of any kind; never read for the public side.
- `observations.public_text_en`: the optional English public text beside the Danish one ("": the Danish text is
  shown, marked as Danish); `publication_events.public_text_en` keeps it in the publication history.
- `users.theme`: the colour theme the user chose for the recording page (light, or dark for walks after dark).

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resident_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("observation_id", sa.String(length=36), nullable=False),
        sa.Column("still_a_problem", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["observation_id"], ["observations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("resident_answers", schema=None) as batch_op:
        batch_op.create_index("ix_resident_answers_observation_at", ["observation_id", "at"], unique=False)
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_text_en", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("publication_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_text_en", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("theme", sa.String(length=16), nullable=False, server_default="light"))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("theme")
    with op.batch_alter_table("publication_events", schema=None) as batch_op:
        batch_op.drop_column("public_text_en")
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_column("public_text_en")
    with op.batch_alter_table("resident_answers", schema=None) as batch_op:
        batch_op.drop_index("ix_resident_answers_observation_at")
    op.drop_table("resident_answers")
