"""walk organisations as ids: each walk's participating organisations stored by their id from
data/organisations.toml, not by the label in the language of whoever recorded the walk

Before: walks.organisations = [{"name": "Beboere", "count": 9}, ...]
After:  walks.organisations = [{"organisation": "beboere", "count": 9}, ...]

A label is looked up, ignoring case and surrounding spaces, among the labels the recording page offered before
this revision (Danish and English), the labels of data/organisations.toml at this revision (Danish and
English), the demo data's "Hjemmeplejen, nattevagt", and the ids themselves. A label it cannot map is not
dropped: the entry becomes organisation `andre` (other) with the original text kept as `label`, so the walk
still reads "Andre: <original text> (n)"; the downgrade gives that text back.

The tables below are frozen copies on purpose: what this revision means must not change when
data/organisations.toml changes later.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

OTHER = "andre"

# id -> (Danish, English) in data/organisations.toml at this revision; the downgrade writes the Danish one
_ORGANISATIONS = {
    "dke": ("Den Kriminalpræventive Enhed (DKE)", "Crime Prevention Unit (DKE)"),
    "bo-vest": ("Bo-Vest / boligselskabet", "Bo-Vest / the housing association"),
    "miljo-teknik": ("Miljø & Teknik", "Environment & Technical Services"),
    "kultur": ("Kultur", "Culture"),
    "plan-digitalisering": ("Plan & Digitalisering", "Planning & Digitalisation"),
    "politiet": ("Politiet", "Police"),
    "boligsociale-helhedsplan": ("Den boligsociale helhedsplan", "The social housing plan team"),
    "hjemmeplejen": ("Hjemmeplejen", "Home care"),
    "forsyning": ("Forsyningen (vej og belysning)", "Utilities (roads and lighting)"),
    "beboere": ("Beboere", "Residents"),
    "andre": ("Andre", "Other"),
}

# labels the recording page stored before this revision (strings record.org_*, Danish and English), and the demo's
_OLD_LABELS = {
    "Den Kriminalpræventive Enhed": "dke", "Crime Prevention Unit": "dke",
    "Boligselskabet": "bo-vest", "Housing association": "bo-vest",
    "Miljø & Teknik": "miljo-teknik", "Environment & Technical Services": "miljo-teknik",
    "Politiet": "politiet", "Police": "politiet",
    "Beboere": "beboere", "Residents": "beboere",
    "Hjemmeplejen": "hjemmeplejen", "Home care": "hjemmeplejen",
    "Hjemmeplejen, nattevagt": "hjemmeplejen",
}

_IDS = {text.strip().casefold(): org_id for text, org_id in [
    *_OLD_LABELS.items(),
    *((label, org_id) for org_id, labels in _ORGANISATIONS.items() for label in labels),
    *((org_id, org_id) for org_id in _ORGANISATIONS),
]}

_walks = sa.table("walks", sa.column("id", sa.String), sa.column("organisations", sa.JSON))


def _to_id(entry):
    """One stored entry {"name": label, "count": n} as {"organisation": id, "count": n}; anything else as it is."""
    if not isinstance(entry, dict) or "organisation" in entry or "name" not in entry:
        return entry
    rest = {k: v for k, v in entry.items() if k != "name"}
    text = str(entry["name"] if entry["name"] is not None else "").strip()
    org_id = _IDS.get(text.casefold())
    if org_id is None:
        return {"organisation": OTHER, **({"label": text} if text else {}), **rest}
    return {"organisation": org_id, **rest}


def _to_label(entry):
    """One entry {"organisation": id, "count": n[, "label": text]} as {"name": label, "count": n}."""
    if not isinstance(entry, dict) or "organisation" not in entry:
        return entry
    rest = {k: v for k, v in entry.items() if k not in ("organisation", "label")}
    org_id = entry["organisation"]
    name = entry.get("label") or _ORGANISATIONS.get(org_id, (org_id,))[0]
    return {"name": name, **rest}


def _rewrite(convert) -> None:
    conn = op.get_bind()
    changed = []
    for walk_id, stored in conn.execute(sa.select(_walks.c.id, _walks.c.organisations)).all():
        if not isinstance(stored, list):
            continue  # not a list of organisations: nothing this revision knows how to read; left as it is
        new = [convert(e) for e in stored]
        if new != stored:
            changed.append({"walk_id": walk_id, "new": new})
    if changed:
        conn.execute(sa.update(_walks).where(_walks.c.id == sa.bindparam("walk_id"))
                     .values(organisations=sa.bindparam("new", type_=sa.JSON)), changed)


def upgrade() -> None:
    _rewrite(_to_id)


def downgrade() -> None:
    _rewrite(_to_label)
