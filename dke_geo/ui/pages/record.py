"""Recording in the field, on a tablet: start or resume a walk; place a finding by tapping the map, with the
tablet's GPS or from a photo's position; choose category and severity, add a note and photos; save; correct
earlier findings.

Sections, top to bottom: the walk, recording (messages, map, form, save), the walk's findings. Every action
reads the widgets, calls one function of dke_geo/services/recording.py (where the rules and role checks live)
and shows its result; a DkeError is shown as its message and the form is kept. Session keys start with
`record_`. The pending finding's id is made when its form opens and kept until its save succeeds, so a double
tap or a rerun during the save stores one finding.
"""
from __future__ import annotations

import functools
import uuid
from datetime import datetime

import streamlit as st
from streamlit_js_eval import streamlit_js_eval

from dke_geo import drafts, light, photos
from dke_geo.categories import categories
from dke_geo.errors import DatabaseBusy, DatabaseUnavailable, DkeError
from dke_geo.light import LightCondition
from dke_geo.maps import field
from dke_geo.model import TZ, LocationSource, Observation, WalkKind, now
from dke_geo.services import recording
from dke_geo.ui import browser, followup, session, widgets
from dke_geo.ui.session import t

GPS_WARN_M = 30
TEAMS = ("dke", "housing", "technical", "police", "residents", "homecare")  # who usually takes part in a walk
LIST_STEP = 10
ss = st.session_state

# Touch targets of at least 48 px; category and save buttons larger; map beside the form in landscape,
# above it in portrait; the save button stays in reach at the bottom of the screen.
CSS = """<style>
.st-key-record_page button { min-height: 3rem; }
.st-key-record_page [data-testid="stButtonGroup"] button { min-height: 3rem; min-width: 3rem; }
.st-key-record_categories [data-testid="stButtonGroup"] > div,
.st-key-record_categories_edit [data-testid="stButtonGroup"] > div {
  display: grid; grid-template-columns: 1fr 1fr; gap: .5rem; }
.st-key-record_categories button, .st-key-record_categories_edit button { min-height: 3.5rem; width: 100%;
  white-space: normal; }
.st-key-record_page [data-testid="stButtonGroup"] button[aria-checked="true"],
[role="dialog"] [data-testid="stButtonGroup"] button[aria-checked="true"] {
  background: #b3263a !important; border-color: #b3263a !important; color: #fff !important; font-weight: 600; }
[data-testid="stLayoutWrapper"]:has(> .st-key-record_save_bar) { position: sticky; bottom: 0; z-index: 10; }
.st-key-record_save_bar { padding: .5rem 0; background: var(--st-background-color, #fff); }
.st-key-record_save_bar button { min-height: 3.75rem; font-size: 1.15rem; }
.st-key-record_page img { max-width: 100%; height: auto; }
.st-key-record_page [data-testid="stCheckbox"] label, [role="dialog"] [data-testid="stCheckbox"] label {
  min-height: 3rem; align-items: center; }
[role="dialog"] button { min-height: 3rem; }
.st-key-record_page [data-testid="stFileUploaderDropzoneInstructions"],
[role="dialog"] [data-testid="stFileUploaderDropzoneInstructions"] { display: none; }
.st-key-record_walk_header, .st-key-record_layout { scroll-margin-top: 4.5rem; }
.st-key-record_gps_probe { height: 0; overflow: hidden; }
[data-testid="stLayoutWrapper"]:has(> .st-key-record_gps_probe) { height: 0; margin: 0; }
@media (max-width: 900px) {
  .st-key-record_layout > div > [data-testid="stHorizontalBlock"] { flex-direction: column; }
  .st-key-record_layout > div > [data-testid="stHorizontalBlock"] > [data-testid="stColumn"] {
    width: 100% !important; flex: 1 1 100% !important; }
}
</style>"""


# ---------------------------------------------------------------- state
def _new_form() -> None:
    """A fresh form for the next finding: a new id, no point, no photos. The category stays chosen; severity,
    safety, note and the photo fields are new widgets (their keys carry the form's generation)."""
    ss.record_pending_id = str(uuid.uuid4())
    ss.record_location = None
    ss.record_camera_photos = []
    ss.record_gen = ss.get("record_gen", 0) + 1


def _restore_draft() -> None:
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
    _flash("info", t("record.draft_restored", photos=len(ss.record_camera_photos)))


def _keep_draft(gen: int, unsaved: bool) -> None:
    """Keep the unsaved finding on the server on every rerun; forget it once nothing is unsaved."""
    if not unsaved:
        drafts.clear(session.actor().name)
        return
    drafts.save(session.actor().name, {
        "walk_id": ss.record_walk, "id": ss.record_pending_id, "location": ss.get("record_location"),
        "category": ss.get("record_category"), "safety": ss.get(f"record_safety_{gen}"),
        "note": ss.get(f"record_note_{gen}", "")}, photos=_uploads(gen))


def _flash(kind: str, text: str) -> None:
    ss.record_flash = (kind, text)


def _set(key: str, value) -> None:
    ss[key] = value


def _open_walk(walk_id: str) -> None:
    ss.record_walk = walk_id
    ss.record_list_limit = LIST_STEP
    ss.pop("record_editing", None)
    _new_form()
    _scroll_to("record_walk_header")


def _scroll_to(container_key: str) -> None:
    """After this run, bring a container to the top of the screen (Streamlit keeps the scroll position
    across reruns: after a save the tablet should show the map again, not the bottom of the form)."""
    ss.record_scroll = (container_key, ss.get("record_scroll_n", 0) + 1)
    ss.record_scroll_n = ss.record_scroll[1]


def _leave_walk() -> None:
    ss.pop("record_walk", None)
    ss.pop("record_editing", None)


def _uploads(gen: int) -> list[photos.Upload]:
    files = ss.get(f"record_files_{gen}") or []
    return [photos.Upload(f.name, f.getvalue()) for f in files] + ss.get("record_camera_photos", [])


@st.cache_data(max_entries=64, show_spinner=False)
def _preview(data: bytes, name: str) -> photos.Preview:
    return photos.preview(photos.Upload(name, data))


# ---------------------------------------------------------------- actions (callbacks run before the rerun)
def _call(action, *args, **kwargs):
    """Run a service call; a DkeError becomes the page's message (and None), never a stack trace."""
    try:
        return action(session.context(), session.actor(), *args, **kwargs)
    except DkeError as exc:
        _flash("error", exc.message(session.lang()))
        return None


def _save(gen: int) -> None:
    if gen != ss.record_gen:
        return  # a second tap on a form that was already saved
    loc = ss.record_location or {}
    data = {"id": ss.record_pending_id, "walk_id": ss.record_walk, "lon": loc.get("lon"), "lat": loc.get("lat"),
            "location_source": loc.get("source", LocationSource.MAP_TAP), "gps_accuracy_m": loc.get("accuracy"),
            "category": ss.get("record_category"), "severity": ss.get(f"record_severity_{gen}", 2),
            "perceived_safety": ss.get(f"record_safety_{gen}"), "internal_note": ss.get(f"record_note_{gen}", "")}
    result = _call(recording.record_observation, data, photos=_uploads(gen))
    if result is None:
        return
    obs, created = result
    _flash("success", _saved_text(obs, created))
    _new_form()
    _scroll_to("record_layout")


def _saved_text(obs: Observation, created: bool) -> str:
    cat = categories()[obs.category]
    area = session.context().area_names().get(obs.area_id) or t("record.no_area")
    return t("record.saved" if created else "record.already_saved", category=f"{cat.icon} {cat.label(session.lang())}",
             severity=t(f"severity.{obs.severity}"), area=area, photos=len(obs.photos),
             time=f"{obs.observed_at:%H:%M}")


def _started(day, at) -> datetime:
    return datetime.combine(day, at, tzinfo=TZ)


def _start_walk() -> None:
    light_choice = ss.record_new_light
    walk = _call(recording.start_walk, {
        "title": ss.record_new_title, "area_ids": ss.record_new_areas or [], "kind": ss.record_new_kind,
        "focus": ss.record_new_focus, "started_at": _started(ss.record_new_date, ss.record_new_time),
        "organisations": [{"name": t(f"record.org_{team}"), "count": ss.get(f"record_new_n_{team}", 1)}
                          for team in ss.record_new_orgs or []],
        "light_condition_override": None if light_choice == "sun" else light_choice}, lang=session.lang())
    if walk is not None:
        _open_walk(str(walk.id))


def _end_walk(walk_id: str) -> None:
    if _call(recording.end_walk, walk_id) is not None:
        _flash("success", t("record.walk_ended_ok"))


def _resume_walk(walk_id: str) -> None:
    if _call(recording.resume_walk, walk_id) is not None:
        _new_form()


def _request_gps() -> None:
    ss.record_gps_request = uuid.uuid4().hex  # a new key: the component asks the browser again


def _use_point(lon: float, lat: float, source: LocationSource, accuracy: float | None) -> None:
    ss.record_location = {"lon": lon, "lat": lat, "source": source, "accuracy": accuracy}


def _tapped(result: widgets.MapResult) -> None:
    """A tap on the map: the pending point (the rerun it causes draws the pin)."""
    if result.clicked:
        _use_point(round(result.clicked[0], 7), round(result.clicked[1], 7), LocationSource.MAP_TAP, None)


def _gps_answer(key: str) -> None:
    """The browser's answer to "use my position": the pending point with its accuracy, or why there is none."""
    answer = ss.get(key)
    ss.record_gps_request = None
    coords = answer.get("coords") if isinstance(answer, dict) else None
    if coords:
        _use_point(round(coords["longitude"], 7), round(coords["latitude"], 7), LocationSource.GPS,
                   round(float(coords["accuracy"]), 1))
    else:
        _flash("error", t("record.gps_failed", reason=(answer or {}).get("error", {}).get("message", "")))


def _keep_camera_photo(key: str) -> None:
    picture = ss.get(key)
    if picture is not None:
        n = len(ss.record_camera_photos) + 1
        ss.record_camera_photos = [*ss.record_camera_photos, photos.Upload(f"{t('record.camera_name')}-{n}.jpg",
                                                                           picture.getvalue())]
        ss.record_camera_n = ss.get("record_camera_n", 0) + 1  # a fresh camera for the next shot


def _drop_camera_photo(index: int) -> None:
    ss.record_camera_photos = [p for i, p in enumerate(ss.record_camera_photos) if i != index]


# ---------------------------------------------------------------- sections
def walk_chooser(names: dict[str, str]) -> None:
    """No walk chosen: continue one of the recent walks, or start one (open at once when no walk is open)."""
    summaries = _call(recording.recent_walks, limit=15) or []
    with st.expander(t("record.start_heading"), icon="➕", expanded=not any(s.walk.is_open for s in summaries)):
        st.text_input(t("record.walk_title"), key="record_new_title", placeholder=t("record.walk_title_hint"),
                      max_chars=200)
        st.pills(t("field.area_ids"), list(names), format_func=names.get, selection_mode="multi",
                 key="record_new_areas")
        st.segmented_control(t("record.walk_kind"), list(WalkKind), format_func=lambda k: t(f"kind.{k}"),
                             default=WalkKind.ON_FOOT, required=True, key="record_new_kind")
        st.text_input(t("record.walk_focus"), key="record_new_focus", max_chars=200)
        day_col, time_col = st.columns(2)
        day = day_col.date_input(t("record.walk_date"), value=now().date(), format="DD.MM.YYYY",
                                 key="record_new_date")
        at = time_col.time_input(t("record.walk_time"), value=now().time().replace(second=0, microsecond=0),
                                 step=300, key="record_new_time")
        sun_text = t("record.light_from_sun", light=t(f"light.{light.light_condition(_started(day, at))}"))
        st.segmented_control(t("record.walk_light"), ["sun", *LightCondition], required=True, default="sun",
                             format_func=lambda c: sun_text if c == "sun" else t(f"light.{c}"), key="record_new_light")
        chosen = st.pills(t("field.organisations"), TEAMS, selection_mode="multi", default=TEAMS[:1],
                          format_func=lambda team: t(f"record.org_{team}"), key="record_new_orgs")
        counts = st.columns(3)
        for i, team in enumerate(chosen or []):
            counts[i % 3].number_input(t("record.org_count", name=t(f"record.org_{team}")), min_value=1,
                                       max_value=500, value=1, step=1, key=f"record_new_n_{team}")
        st.button(t("record.start"), type="primary", icon="🚶", width="stretch", key="record_start_button",
                  on_click=_start_walk)

    st.subheader(t("record.recent_heading"))
    if not summaries:
        st.caption(t("record.no_walks"))
    for item in summaries:
        walk = item.walk
        with st.container(border=True, key=f"record_walk_{walk.id}"):
            text_col, button_col = st.columns([3, 1], vertical_alignment="center")
            with text_col:
                st.markdown(f"**{widgets.plain(walk.title)}**")
                if walk.is_demo:
                    widgets.demo_badge()
                st.caption(t("record.walk_line", date=f"{walk.started_at:%d.%m.%Y %H:%M}", findings=item.findings,
                             areas=widgets.plain(", ".join(names.get(a, a) for a in walk.area_ids))
                             or t("record.no_area"),
                             state=t("record.state_open" if walk.is_open else "record.state_ended")))
            button_col.button(t("record.continue" if walk.is_open else "record.view"), key=f"record_open_{walk.id}",
                              type="primary" if walk.is_open else "secondary", width="stretch",
                              on_click=_open_walk, args=(str(walk.id),))


def walk_header(detail: recording.WalkDetail, names: dict[str, str]) -> None:
    """The chosen walk: what, where, when, the light, who took part; end, resume or leave it."""
    walk = detail.walk
    with st.container(border=True, key="record_walk_header"):
        st.markdown(f"**{widgets.plain(walk.title)}**")
        if walk.is_demo:
            widgets.demo_badge()
        light_text = t(f"light.{walk.light_condition}") + " " + t(
            "record.light_given" if walk.light_condition_override else "record.light_sun")
        st.caption(" · ".join(filter(None, [
            widgets.plain(", ".join(names.get(a, a) for a in walk.area_ids)) or t("record.no_area"),
            f"{walk.started_at:%d.%m.%Y %H:%M}" + (f"–{walk.ended_at:%H:%M}" if walk.ended_at else ""),
            t(f"kind.{walk.kind}"), light_text, t("record.n_findings", n=len(detail.findings)),
            widgets.plain(", ".join(f"{o.name} ({o.count})" for o in walk.organisations))])))
        if walk.focus:
            st.caption(t("record.focus_line", focus=widgets.plain(walk.focus)))
        left, right = st.columns(2)
        if walk.is_open:
            left.button(t("record.end_walk"), icon="🏁", width="stretch", key="record_end",
                        on_click=_end_walk, args=(str(walk.id),))
        else:
            st.info(t("record.walk_is_ended"))
            left.button(t("record.resume_walk"), icon="▶️", type="primary", width="stretch", key="record_resume",
                        on_click=_resume_walk, args=(str(walk.id),))
        right.button(t("record.other_walk"), icon="↩️", width="stretch", key="record_leave", on_click=_leave_walk)


def recording_section(detail: recording.WalkDetail, areas) -> None:
    """The map with the walk's findings and the pending pin beside (landscape) or above (portrait) the form."""
    loc = ss.record_location
    m = field.walk_map(areas, detail.walk.area_ids, session.lang())
    layers = [field.findings_layer(detail.findings, session.lang()),
              field.pending_layer((loc["lon"], loc["lat"]) if loc else None, loc and loc["accuracy"], session.lang()),
              followup.map_layer(detail.walk)]
    with st.container(key="record_layout"):
        map_col, form_col = st.columns([3, 2], gap="medium")
        with map_col:
            widgets.show_map(m, key="record_map", height=430, layers=layers, on_change=_tapped)
            _location_panel()
        with form_col:
            _finding_form(ss.record_gen)
    with st.container(key="record_save_bar"):
        st.button(t("record.save"), type="primary", icon="💾", width="stretch", key=f"record_save_{ss.record_gen}",
                  on_click=_save, args=(ss.record_gen,))


def _location_panel() -> None:
    """One message in one place (nothing below it moves while the user reaches for the next button)."""
    loc = ss.record_location
    if ss.get("record_gps_request"):
        st.info(t("record.gps_waiting"), icon="🛰️")
    elif loc is None:
        st.info(t("record.no_location_hint"), icon="👆")
    else:
        text = t("record.location", lat=loc["lat"], lon=loc["lon"], source=t(f"source.{loc['source']}"))
        if loc["accuracy"] is not None:
            text += " · " + t("record.accuracy", m=loc["accuracy"])
        if loc["accuracy"] is not None and loc["accuracy"] > GPS_WARN_M:
            st.warning(f"{text}. {t('record.gps_inaccurate', m=loc['accuracy'], limit=GPS_WARN_M)}", icon="⚠️")
        else:
            st.success(text, icon="📍")
    st.button(t("record.use_gps"), icon="🛰️", width="stretch", key="record_gps", on_click=_request_gps)


def _gps_probe() -> None:
    """While "use my position" waits, the component that asks the browser, at the end of the page in a container
    of no height: its coming and going moves nothing. Its answer arrives through _gps_answer."""
    request = ss.get("record_gps_request")
    if request:
        key = f"record_gps_{request}"
        with st.container(key="record_gps_probe"):
            streamlit_js_eval(js_expressions="getLocation()", key=key, on_change=functools.partial(_gps_answer, key))


def _finding_form(gen: int) -> None:
    with st.container(key="record_categories"):
        widgets.category_buttons("record_category")
    st.segmented_control(t("field.severity"), [1, 2, 3], format_func=lambda s: f"{s} {t(f'severity.{s}')}",
                         default=2, required=True, width="stretch", key=f"record_severity_{gen}")
    st.segmented_control(t("record.safety"), [1, 2, 3, 4, 5], format_func=str, width="stretch",
                         help=t("record.safety_help"), key=f"record_safety_{gen}")
    st.text_area(t("field.internal_note"), height=90, max_chars=4000, placeholder=t("record.note_hint"),
                 key=f"record_note_{gen}")
    st.file_uploader(t("record.photos"), type=["jpg", "jpeg", "png", "heic", "heif", "webp"],
                     accept_multiple_files=True, key=f"record_files_{gen}")
    camera_on = ss.get("record_camera_on", False)
    st.button(t("record.camera"), icon="📷", width="stretch", type="primary" if camera_on else "secondary",
              key="record_camera_toggle", on_click=_set, args=("record_camera_on", not camera_on))
    if camera_on:
        camera_key = f"record_camera_{gen}_{ss.get('record_camera_n', 0)}"
        st.camera_input(t("record.camera_take"), key=camera_key, on_change=_keep_camera_photo, args=(camera_key,))
    _attached_photos(gen)
    unsaved = ss.get("record_location") is not None or bool(ss.get(f"record_note_{gen}")) or bool(_uploads(gen))
    browser.leave_guard(unsaved, t("auth.leave_warning"), key="record_leave_guard")  # where the browser asks
    _keep_draft(gen, unsaved)  # and where it does not (iOS Safari), a reload brings the form back


def _attached_photos(gen: int) -> None:
    """Thumbnails of the attached photos, a bad file named at once, and the offer to use a photo's position."""
    uploads = _uploads(gen)
    n_files = len(uploads) - len(ss.get("record_camera_photos", []))
    cols = st.columns(3)
    for i, upload in enumerate(uploads):
        with cols[i % 3]:
            try:
                preview = _preview(upload.data, upload.name)
            except DkeError as exc:
                preview = None
                st.error(exc.message(session.lang()))
            else:
                st.image(preview.thumb, caption=upload.name, width="stretch")
            if i >= n_files:
                st.button(t("record.camera_remove"), icon="✖️", key=f"record_drop_{gen}_{i}",
                          on_click=_drop_camera_photo, args=(i - n_files,))
            if preview is not None and preview.gps:
                st.button(t("record.use_photo_gps"), icon="📷", key=f"record_photo_gps_{gen}_{i}", width="stretch",
                          on_click=_use_point, args=(preview.gps.lon, preview.gps.lat, LocationSource.PHOTO_EXIF,
                                                     preview.gps.accuracy_m))


def findings_list(detail: recording.WalkDetail, names: dict[str, str]) -> None:
    """The walk's findings, newest first with thumbnails, each with a button to correct or delete it."""
    st.subheader(t("record.findings_heading", n=len(detail.findings)))
    limit = ss.get("record_list_limit", LIST_STEP)
    known = categories()
    for obs in detail.findings[:limit]:
        cat = known[obs.category]
        with st.container(border=True, key=f"record_finding_{obs.id}"):
            picture, text, action = st.columns([1, 3, 1], vertical_alignment="center")
            thumb = photos.file(obs.photos[0].thumb_path) if obs.photos else None
            if thumb is not None and thumb.exists():
                picture.image(str(thumb), width="stretch")
            else:
                picture.markdown(f"<div style='font-size:2rem;text-align:center'>{cat.icon}</div>",
                                 unsafe_allow_html=True)
            with text:
                st.markdown(f"**{cat.icon} {cat.label(session.lang())}** · {t(f'severity.{obs.severity}')}")
                if obs.is_demo:
                    widgets.demo_badge()
                area_name = widgets.plain(names.get(obs.area_id, t("record.no_area")))
                details = [f"{obs.observed_at:%d.%m. %H:%M}", area_name,
                           t(f"source.{obs.location_source}") + (f" ±{obs.gps_accuracy_m:.0f} m"
                                                                  if obs.gps_accuracy_m is not None else "")]
                if obs.photos:
                    details.append(t("record.n_photos", n=len(obs.photos)))
                st.caption(" · ".join(details))
                if obs.internal_note:
                    st.markdown(widgets.plain(obs.internal_note))
            action.button(t("record.edit"), icon="✏️", key=f"record_edit_{obs.id}", width="stretch",
                          on_click=_set, args=("record_editing", str(obs.id)))
    if len(detail.findings) > limit:
        st.button(t("record.show_more", n=len(detail.findings) - limit), key="record_more", width="stretch",
                  on_click=_set, args=("record_list_limit", limit + LIST_STEP))
    editing = next((o for o in detail.findings if str(o.id) == ss.get("record_editing")), None)
    if editing is not None:
        _edit_dialog(editing)


def _stop_editing() -> None:
    ss.pop("record_editing", None)
    ss.pop("record_confirm_delete", None)


@st.dialog(t("record.edit_title"), icon="✏️", width="medium", on_dismiss=_stop_editing)
def _edit_dialog(obs: Observation) -> None:
    """Correct a finding: category, severity, safety, note, photos, move it to the pending pin, or delete it."""
    key = f"record_e_{obs.id}_{obs.updated_at.timestamp() * 1e6:.0f}"  # new widgets after each saved change
    cat = categories()[obs.category]
    st.caption(f"{cat.icon} {cat.label(session.lang())} · {obs.observed_at:%d.%m.%Y %H:%M}")
    with st.container(key="record_categories_edit"):
        category = widgets.category_buttons(f"{key}_category", default=obs.category)
    severity = st.segmented_control(t("field.severity"), [1, 2, 3], format_func=lambda s: f"{s} {t(f'severity.{s}')}",
                                    default=obs.severity, required=True, width="stretch", key=f"{key}_severity")
    safety = st.segmented_control(t("record.safety"), [1, 2, 3, 4, 5], format_func=str, width="stretch",
                                  default=obs.perceived_safety, key=f"{key}_safety")
    note = st.text_area(t("field.internal_note"), value=obs.internal_note, max_chars=4000, key=f"{key}_note")
    pending = ss.get("record_location")
    move = pending is not None and st.toggle(t("record.move_here", lat=pending["lat"], lon=pending["lon"]),
                                             key=f"{key}_move")
    remove = []
    for col, photo in zip(st.columns(3) * len(obs.photos), obs.photos, strict=False):
        with col:
            if photos.file(photo.thumb_path).exists():
                st.image(str(photos.file(photo.thumb_path)), width="stretch")
            if st.toggle(t("record.remove_photo"), key=f"{key}_remove_{photo.id}"):
                remove.append(photo.id)
    new_files = st.file_uploader(t("record.photos_add"), type=["jpg", "jpeg", "png", "heic", "heif", "webp"],
                                 accept_multiple_files=True, key=f"{key}_files")
    changes = {"category": category, "severity": severity, "perceived_safety": safety,
               "internal_note": note}
    if move:
        changes.update(lon=pending["lon"], lat=pending["lat"], location_source=pending["source"],
                       gps_accuracy_m=pending["accuracy"])
    save_col, delete_col = st.columns(2)
    if save_col.button(t("record.edit_save"), type="primary", icon="💾", width="stretch", key=f"{key}_save"):
        try:
            recording.edit_observation(session.context(), session.actor(), obs.id, changes,
                                       photos=[photos.Upload(f.name, f.getvalue()) for f in new_files or []],
                                       remove_photos=remove, expected_updated_at=obs.updated_at)
        except DkeError as exc:
            st.error(exc.message(session.lang()))
        else:
            _flash("success", t("record.edited"))
            _stop_editing()
            st.rerun()
    if delete_col.button(t("record.delete"), icon="🗑️", width="stretch", key=f"{key}_delete"):
        ss.record_confirm_delete = str(obs.id)
    if ss.get("record_confirm_delete") == str(obs.id):
        st.warning(t("record.delete_confirm"))
        yes, no = st.columns(2)
        if yes.button(t("record.delete_yes"), type="primary", width="stretch", key=f"{key}_delete_yes"):
            try:
                recording.delete_observation(session.context(), session.actor(), obs.id)
            except DkeError as exc:
                st.error(exc.message(session.lang()))
            else:
                _flash("success", t("record.deleted", category=f"{cat.icon} {cat.label(session.lang())}",
                                    time=f"{obs.observed_at:%H:%M}"))
                _stop_editing()
                st.rerun()
        no.button(t("record.delete_no"), width="stretch", key=f"{key}_delete_no",
                  on_click=_set, args=("record_confirm_delete", None))


def _last_good(key: str, read, *args):
    """`read(*args)`, remembered under `key`. While the database is away or busy, the last answer instead, with
    the reason as the page's message: the form stays on the page, so nothing typed or chosen into it is lost
    (Streamlit forgets the values of widgets a run does not draw), and saving works again once it is back."""
    try:
        ss[key] = read(*args)
    except (DatabaseUnavailable, DatabaseBusy) as exc:
        if key not in ss:
            raise
        _flash("error", exc.message(session.lang()))
    return ss[key]


# ---------------------------------------------------------------- the page
if "record_pending_id" not in ss:
    _new_form()
    _restore_draft()
st.html(CSS)
with st.container(key="record_page"):
    st.title(t("record.title"))
    messages = st.empty()  # a fixed slot above the map: messages never push the map's iframe around
    try:
        areas = _last_good("record_last_areas", session.context().areas)
        names = dict(zip(areas["id"], areas["name"], strict=True))
        if ss.get("record_walk") is None:
            walk_chooser(names)
        else:
            detail = _last_good(f"record_last_{ss.record_walk}", recording.walk_detail, session.context(),
                                session.actor(), ss.record_walk)
            walk_header(detail, names)
            if detail.walk.is_open:
                recording_section(detail, areas)
            followup.panel(detail.walk)
            findings_list(detail, names)
    except DkeError as exc:
        _flash("error", exc.message(session.lang()))
    flash = ss.pop("record_flash", None)
    if flash:
        getattr(messages, flash[0])(flash[1])
        if flash[0] == "success":
            st.toast(flash[1], icon="✅")  # seen wherever the page is scrolled to
_gps_probe()
scroll = ss.pop("record_scroll", None)
if scroll:  # last on the page, so it moves nothing above the map; the number makes each request a new script
    st.html(f"<script>/* {scroll[1]} */ document.querySelector('.st-key-{scroll[0]}')"
            "?.scrollIntoView({block: 'start'});</script>", unsafe_allow_javascript=True)
