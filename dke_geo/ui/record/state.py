"""The recording page's session state: the pending finding's form, the draft kept over a reload, the one
message slot (flash), the scroll request, and the wrappers that turn service errors into that message.

Every key starts with `record_`. The pending finding's id is made when its form opens (`new_form`) and kept
until its save succeeds, so a double tap or a rerun during the save stores one finding; the form's widgets
carry the form's generation (`record_gen`) in their keys, so a new form gets new, empty widgets.
"""
from __future__ import annotations

import uuid

import streamlit as st

from dke_geo import drafts, photos
from dke_geo.errors import DatabaseBusy, DatabaseUnavailable, DkeError
from dke_geo.services import recording
from dke_geo.ui import browser, session
from dke_geo.ui.session import t

LIST_STEP = 10  # findings shown at first, and added by "show more"
ss = st.session_state


def new_form() -> None:
    """A fresh form for the next finding: a new id, no point, no photos. The category stays chosen; severity,
    safety, note and the photo fields are new widgets (their keys carry the form's generation)."""
    ss.record_pending_id = str(uuid.uuid4())
    ss.record_location = None
    ss.record_camera_photos = []
    ss.record_gen = ss.get("record_gen", 0) + 1


def restore_draft() -> None:
    """After a reload, bring back the finding that was being recorded, its photos included, and say so. The
    photos come back as ones the page holds (as camera shots are): the file picker cannot be refilled."""
    draft = drafts.load(session.actor().name)
    if not draft:
        return
    try:
        still_open = recording.get_walk(session.context(), session.actor(), draft["walk_id"]).is_open
    except DkeError:
        still_open = False
    if not still_open:  # the walk was ended or is gone: nothing to go back to
        drafts.clear(session.actor().name)
        return
    gen = ss.record_gen
    ss.record_walk, ss.record_pending_id, ss.record_location = draft["walk_id"], draft["id"], draft["location"]
    if draft.get("category"):
        ss.record_category = draft["category"]
    ss[f"record_safety_{gen}"] = draft.get("safety")
    ss[f"record_note_{gen}"] = draft.get("note", "")
    ss.record_camera_photos = drafts.photos(session.actor().name, draft)
    flash("info", t("record.draft_restored", photos=len(ss.record_camera_photos)))


def keep_draft(gen: int, unsaved: bool) -> None:
    """Keep the unsaved finding on the server on every rerun; forget it once nothing is unsaved."""
    if not unsaved:
        drafts.clear(session.actor().name)
        return
    drafts.save(session.actor().name, {
        "walk_id": ss.record_walk, "id": ss.record_pending_id, "location": ss.get("record_location"),
        "category": ss.get("record_category"), "safety": ss.get(f"record_safety_{gen}"),
        "note": ss.get(f"record_note_{gen}", "")}, photos=uploads(gen))


def uploads(gen: int) -> list[photos.Upload]:
    """The photos attached to form `gen`: the picked files, then the camera shots."""
    files = ss.get(f"record_files_{gen}") or []
    return [photos.Upload(f.name, f.getvalue()) for f in files] + ss.get("record_camera_photos", [])


def flash(kind: str, text: str) -> None:
    """The page's one message for this run (`kind`: success, info, warning or error)."""
    ss.record_flash = (kind, text)


def show_flash(slot) -> None:
    """Show this run's message in `slot` (a fixed place above the map); a success also as a toast, seen wherever
    the page is scrolled to."""
    message = ss.get("record_flash")
    if message:
        getattr(slot, message[0])(message[1])
        if message[0] == "success":
            st.toast(message[1], icon="✅")
        ss.pop("record_flash", None)  # after it was shown: a run cut short by the next tap keeps it for the next run


def set_value(key: str, value) -> None:
    """A button's callback that sets one session key."""
    ss[key] = value


def scroll_to(container_key: str) -> None:
    """After this run, bring a container to the top of the screen (Streamlit keeps the scroll position
    across reruns: after a save the tablet should show the map again, not the bottom of the form)."""
    ss.record_scroll = (container_key, ss.get("record_scroll_n", 0) + 1)
    ss.record_scroll_n = ss.record_scroll[1]


def scroll() -> None:
    """Carry out a `scroll_to` request; last on the page, so it moves nothing above the map. The number makes each
    request a new component, whose script runs once."""
    request = ss.pop("record_scroll", None)
    if request:
        browser.scroll_into_view(*request)


def call(action, *args, **kwargs):
    """Run a service call; a DkeError becomes the page's message (and None), never a stack trace."""
    try:
        return action(session.context(), session.actor(), *args, **kwargs)
    except DkeError as exc:
        flash("error", exc.message(session.lang()))
        return None


def last_good(key: str, read, *args):
    """`read(*args)`, remembered under `key`. While the database is away or busy, the last answer instead, with
    the reason as the page's message: the form stays on the page, so nothing typed or chosen into it is lost
    (Streamlit forgets the values of widgets a run does not draw), and saving works again once it is back."""
    try:
        ss[key] = read(*args)
    except (DatabaseUnavailable, DatabaseBusy) as exc:
        if key not in ss:
            raise
        flash("error", exc.message(session.lang()))
    return ss[key]
