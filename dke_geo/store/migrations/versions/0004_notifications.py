"""telling the responsible organisations: the outbox, contact overrides with their events, the link page's hits

- `outbox`: every message to an organisation, written in the transaction of the fix event (or the reminder, the
  digest) that causes it, and delivered later by the sender (`notify send`, or the app's scheduler). A unique
  `dedupe_key` per cause makes queueing idempotent; `message_id` is the Message-ID, the same on every resend.
  `state` (queued, sending, sent, failed), `attempts`, `next_attempt_at` and `last_error` record the retries.
- `organisation_contacts`: an administrator's override of an organisation's contact e-mail and language from
  data/organisations.toml; `organisation_contact_events` records every change with who and when.
- `report_link_hits`: the recent loads and reports of the signed report-back links, for their rate limit.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("organisation", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("fix_id", sa.String(length=36), nullable=True),
        sa.Column("fix_version", sa.Integer(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("photo_ids", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=120), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["fix_id"], ["fixes.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_state_next", ["state", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_outbox_fix", ["fix_id"], unique=False)
    op.create_table(
        "organisation_contacts",
        sa.Column("organisation", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("organisation"),
    )
    op.create_table(
        "organisation_contact_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organisation", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=120), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("organisation_contact_events", schema=None) as batch_op:
        batch_op.create_index("ix_organisation_contact_events_org", ["organisation", "at"], unique=False)
    op.create_table(
        "report_link_hits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("report_link_hits", schema=None) as batch_op:
        batch_op.create_index("ix_report_link_hits_key_at", ["key", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("report_link_hits", schema=None) as batch_op:
        batch_op.drop_index("ix_report_link_hits_key_at")
    op.drop_table("report_link_hits")
    with op.batch_alter_table("organisation_contact_events", schema=None) as batch_op:
        batch_op.drop_index("ix_organisation_contact_events_org")
    op.drop_table("organisation_contact_events")
    op.drop_table("organisation_contacts")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_fix")
        batch_op.drop_index("ix_outbox_state_next")
    op.drop_table("outbox")
