"""The schema as SQLAlchemy Core tables. Alembic migrations (store/migrations) create it; these
definitions are what the repository code queries. On PostGIS, `observations.geom` and
`incident_reports.geom` (geometry(Point, 4326), GiST-indexed) are kept from lon/lat by a trigger, so
the same queries work on both databases."""
from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from dke_geo.store.types import UtcDateTime

metadata = MetaData()
UUID = String(36)

meta = Table(
    "meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Integer, nullable=False),
)

areas = Table(
    "areas", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("confidence", String(32), nullable=False),
    Column("source", Text, nullable=False, default=""),
    Column("geojson", Text, nullable=False),
)

area_events = Table(  # every change of an outline: who, when, what it was and what it became
    "area_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("area_id", String(64), nullable=False, index=True),  # no foreign key: `areas import` replaces the rows
    Column("at", UtcDateTime, nullable=False),
    Column("by", String(120), nullable=False),
    Column("action", String(16), nullable=False),  # created, changed, imported
    Column("old_name", String(200)),
    Column("new_name", String(200), nullable=False),
    Column("old_geojson", Text),
    Column("new_geojson", Text, nullable=False),
    Column("reassigned", Integer, nullable=False, default=0),
    Column("overlap_confirmed", Boolean, nullable=False, default=False),
)

walks = Table(
    "walks", metadata,
    Column("id", UUID, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("area_ids", JSON, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime),
    Column("kind", String(16), nullable=False),
    Column("focus", String(200), nullable=False, default=""),
    Column("organisations", JSON, nullable=False),
    Column("notes", Text, nullable=False, default=""),
    Column("light_condition", String(16), nullable=False),
    Column("light_condition_override", String(16)),
    Column("is_demo", Boolean, nullable=False, default=False),
    Column("created_by", String(120), nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_walks_started_at", "started_at"),
)

observations = Table(
    "observations", metadata,
    Column("id", UUID, primary_key=True),
    Column("walk_id", UUID, ForeignKey("walks.id")),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("location_source", String(16), nullable=False),
    Column("gps_accuracy_m", Float),
    Column("area_id", String(64)),
    Column("category", String(64), nullable=False),
    Column("severity", Integer, nullable=False),
    Column("perceived_safety", Integer),
    Column("internal_note", Text, nullable=False, default=""),
    Column("public_text", Text, nullable=False, default=""),
    Column("observed_at", UtcDateTime, nullable=False),
    Column("light_condition", String(16), nullable=False),
    Column("created_by", String(120), nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_by", String(120), nullable=False, default=""),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("deleted_by", String(120)),
    Column("deleted_at", UtcDateTime),
    Column("published", Boolean, nullable=False, default=False),
    Column("published_by", String(120)),
    Column("published_at", UtcDateTime),
    Column("is_demo", Boolean, nullable=False, default=False),
    Column("external_id", String(200), unique=True),
    Column("source_created_by", String(120), nullable=False, default="", server_default=""),
    Column("public_text_en", Text, nullable=False, default="", server_default=""),
    Index("ix_observations_walk", "walk_id"),
    Index("ix_observations_area", "area_id"),
    Index("ix_observations_observed_at", "observed_at"),
)

photos = Table(
    "photos", metadata,
    Column("id", UUID, primary_key=True),
    Column("observation_id", UUID, ForeignKey("observations.id"), nullable=False),
    Column("fix_id", UUID, ForeignKey("fixes.id")),
    Column("full_path", Text, nullable=False),
    Column("thumb_path", Text, nullable=False),
    Column("original_path", Text, nullable=False, default=""),
    Column("width", Integer, nullable=False, default=0),
    Column("height", Integer, nullable=False, default=0),
    Column("sha256", String(64), nullable=False, default=""),
    Column("exif", JSON, nullable=False),
    Column("public_approved", Boolean, nullable=False, default=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("created_by", String(120), nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_photos_observation", "observation_id"),
)

fixes = Table(
    "fixes", metadata,
    Column("id", UUID, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("organisation", String(200), nullable=False, default=""),
    Column("contact_role", String(200), nullable=False, default=""),
    Column("due_date", Date),
    Column("cost_dkk", Integer),
    Column("priority", String(16), nullable=False),
    Column("state", String(32), nullable=False),
    Column("reject_reason", Text, nullable=False, default=""),
    Column("version", Integer, nullable=False, default=1),
    Column("created_by", String(120), nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_by", String(120), nullable=False, default=""),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("is_demo", Boolean, nullable=False, default=False),
    Index("ix_fixes_state", "state"),
)

fix_observations = Table(
    "fix_observations", metadata,
    Column("fix_id", UUID, ForeignKey("fixes.id"), primary_key=True),
    Column("observation_id", UUID, ForeignKey("observations.id"), primary_key=True),
    Index("ix_fix_observations_observation", "observation_id"),
)

fix_events = Table(
    "fix_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("fix_id", UUID, ForeignKey("fixes.id"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("by", String(120), nullable=False),
    Column("from_state", String(32)),
    Column("to_state", String(32), nullable=False),
    Column("comment", Text, nullable=False, default=""),
    Column("photo_id", UUID, ForeignKey("photos.id")),
    Column("version", Integer, nullable=False),
    UniqueConstraint("fix_id", "version", name="uq_fix_events_fix_version"),
)

publication_events = Table(
    "publication_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("observation_id", UUID, ForeignKey("observations.id"), nullable=False),
    Column("photo_id", UUID, ForeignKey("photos.id")),
    Column("at", UtcDateTime, nullable=False),
    Column("by", String(120), nullable=False),
    Column("action", String(32), nullable=False),
    Column("public_text", Text, nullable=False, default=""),
    Column("public_text_en", Text, nullable=False, default="", server_default=""),
)

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(120), nullable=False, unique=True),
    Column("email", String(320)),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text),
    Column("active", Boolean, nullable=False, default=True),
    Column("is_demo", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("theme", String(16), nullable=False, default="light", server_default="light"),
)

login_attempts = Table(
    "login_attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(120), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("success", Boolean, nullable=False),
    Column("client", String(64), nullable=False, default="", server_default=""),
    Index("ix_login_attempts_name_at", "name", "at"),
    Index("ix_login_attempts_client_at", "client", "at"),
)

sessions = Table(
    "sessions", metadata,
    Column("id", String(64), primary_key=True),  # SHA-256 of the browser's token: the token itself is not kept
    Column("user_name", String(120), nullable=False),
    Column("method", String(16), nullable=False),  # password or oidc
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    Column("revoked_reason", String(32)),
    Index("ix_sessions_user_name", "user_name"),
)

resident_answers = Table(
    "resident_answers", metadata,  # never read for the public side: see store/answers.py
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("observation_id", UUID, ForeignKey("observations.id"), nullable=False),
    Column("still_a_problem", Boolean, nullable=False),
    Column("text", Text, nullable=False, default=""),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_resident_answers_observation_at", "observation_id", "at"),
)

incident_reports = Table(
    "incident_reports", metadata,
    Column("id", UUID, primary_key=True),
    Column("external_id", String(200), unique=True),
    Column("source", String(120), nullable=False),
    Column("reported_at", UtcDateTime, nullable=False),
    Column("type", String(200), nullable=False),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("area_id", String(64)),
    Column("is_demo", Boolean, nullable=False, default=False),
    Column("imported_at", UtcDateTime, nullable=False),
    Index("ix_incident_reports_reported_at", "reported_at"),
)

outbox = Table(
    "outbox", metadata,  # the transactional outbox: a message is written in the transaction of what causes it
    Column("id", UUID, primary_key=True),
    Column("message_id", String(200), nullable=False, unique=True),  # the Message-ID: the same on every resend
    Column("dedupe_key", String(200), nullable=False, unique=True),  # one message per cause (event, due date, week)
    Column("kind", String(32), nullable=False),
    Column("organisation", String(64), nullable=False),
    Column("language", String(2), nullable=False),
    Column("fix_id", UUID, ForeignKey("fixes.id")),
    Column("fix_version", Integer),
    Column("subject", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("photo_ids", JSON, nullable=False),  # approved photos to attach (approval checked again when sent)
    Column("state", String(16), nullable=False),  # queued, sending, sent, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("last_error", Text, nullable=False, default=""),
    Column("recipient", String(320), nullable=False, default=""),  # where it went (the contact when sent)
    Column("created_by", String(120), nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("claimed_by", String(120)),
    Column("claimed_at", UtcDateTime),
    Column("sent_at", UtcDateTime),
    Index("ix_outbox_state_next", "state", "next_attempt_at"),
    Index("ix_outbox_fix", "fix_id"),
)

organisation_contacts = Table(
    "organisation_contacts", metadata,  # an administrator's override of data/organisations.toml's contact
    Column("organisation", String(64), primary_key=True),
    Column("email", String(320), nullable=False),
    Column("language", String(2), nullable=False),
    Column("updated_by", String(120), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

organisation_contact_events = Table(
    "organisation_contact_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("organisation", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("by", String(120), nullable=False),
    Column("email", String(320), nullable=False),  # the address set ("" = back to the file's)
    Column("language", String(2), nullable=False),
    Index("ix_organisation_contact_events_org", "organisation", "at"),
)

report_link_hits = Table(
    "report_link_hits", metadata,  # what the report-back page's rate limit counts (per link, per client)
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_report_link_hits_key_at", "key", "at"),
)

POINT_TABLES = ("observations", "incident_reports")
