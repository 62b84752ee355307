"""Recording a finding while a walk is open: the walk's map (tap to place the pending pin), "use my position"
(the tablet's GPS), the form (category, severity, safety, note, photos from the picker or the camera, a
photo's EXIF position) and the save bar that stays in reach at the bottom of the screen (save_bar.py).

The form is a fragment: a tap on a category, severity, safety or a note reruns the form only, not the page with
its map, so a tap answers at once. What changes the map (a tap on it, the GPS, a photo's position, a save) reruns
the page, so the pending pin and the form never disagree.

Photos, picked or shot, are checked as they arrive and held by the page (`record_camera_photos`, which the draft
keeps over a reload); the picker is emptied each time. A file that is not a usable photo is dropped with its
reason, and everything else in the form stays.

Saving calls dke_geo/services/recording.py once with the pending finding's id (see state.py), so a second
tap stores nothing twice; the unsaved form is kept as a draft on the server on every rerun.
"""
from __future__ import annotations

import functools
import uuid

import streamlit as st
import streamlit_js_eval

from dke_geo import photos
from dke_geo.categories import categories
from dke_geo.errors import DkeError
from dke_geo.maps import field
from dke_geo.model import LocationSource, Observation
from dke_geo.services import recording
from dke_geo.ui import browser, followup, session, widgets
from dke_geo.ui.record import save_bar
from dke_geo.ui.record.state import call, flash, keep_draft, new_form, scroll_to, set_value, ss, uploads
from dke_geo.ui.session import t

GPS_WARN_M = 30


def show(detail: recording.WalkDetail, areas) -> None:
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
            _finding_form()


def gps_probe() -> None:
    """While "use my position" waits, the component that asks the browser, at the end of the page in a container
    of no height: its coming and going moves nothing. Its answer arrives through _gps_answer."""
    request = ss.get("record_gps_request")
    if request:
        key = f"record_gps_{request}"
        with st.container(key="record_gps_probe"):
            streamlit_js_eval.streamlit_js_eval(js_expressions="getLocation()", key=key,
                                                on_change=functools.partial(_gps_answer, key))


# ---------------------------------------------------------------- sections
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


@st.fragment
def _finding_form() -> None:
    """The finding's fields and the save bar. A fragment: its taps rerun only this form (see the module's doc)."""
    if ss.pop("record_map_stale", False):  # a save, or a photo's position chosen: the map and the list change
        st.rerun()
    gen = ss.record_gen
    with st.container(key="record_categories"):
        widgets.category_buttons("record_category")
    st.segmented_control(t("field.severity"), [1, 2, 3], format_func=lambda s: f"{s} {t(f'severity.{s}')}",
                         default=2, required=True, width="stretch", key=f"record_severity_{gen}")
    st.segmented_control(t("record.safety"), [1, 2, 3, 4, 5], format_func=str, width="stretch",
                         help=t("record.safety_help"), key=f"record_safety_{gen}")
    st.text_area(t("field.internal_note"), height=90, max_chars=4000, placeholder=t("record.note_hint"),
                 key=f"record_note_{gen}")
    picker = f"record_pick_{gen}_{ss.get('record_pick_n', 0)}"  # a new, empty picker after each pick
    st.file_uploader(t("record.photos"), accept_multiple_files=True, key=picker, on_change=_take_files,
                     args=(picker,))  # no `type=`: a wrong file gets our message below, not Streamlit's English one
    for message in ss.get("record_refused", []):
        st.error(message, icon="🚫")
    ss.pop("record_refused", None)  # once shown (widgets.message_once says why in this order)
    camera_on = ss.get("record_camera_on", False)
    st.button(t("record.camera"), icon="📷", width="stretch", type="primary" if camera_on else "secondary",
              key="record_camera_toggle", on_click=set_value, args=("record_camera_on", not camera_on))
    if camera_on:
        camera_key = f"record_camera_{gen}_{ss.get('record_camera_n', 0)}"
        st.camera_input(t("record.camera_take"), key=camera_key, on_change=_keep_camera_photo, args=(camera_key,))
    _attached_photos(gen)
    unsaved = ss.get("record_location") is not None or bool(ss.get(f"record_note_{gen}")) or bool(uploads(gen))
    browser.leave_guard(unsaved, t("auth.leave_warning"), key="record_leave_guard")  # where the browser asks
    keep_draft(gen, unsaved)  # and where it does not (iOS Safari), a reload brings the form back
    # In the fragment, with the fields: a note typed and "Gem fund" tapped at once reach the app as one batch of
    # one fragment (a button outside it would be dropped from that batch: the save lost).
    save_bar.show(t("record.save"), key=f"record_save_{gen}", on_click=_save, args=(gen,))


def _attached_photos(gen: int) -> None:
    """Thumbnails of the attached photos, each with a remove button, and the offer to use a photo's position."""
    cols = st.columns(3)
    for i, upload in enumerate(uploads(gen)):
        with cols[i % 3]:
            try:  # checked when it arrived (_hold); a draft from an older version may hold one that is not
                preview = _preview(upload.data, upload.name)
            except DkeError as exc:
                preview = None
                st.error(exc.message(session.lang()))
            else:
                st.image(preview.thumb, caption=upload.name, width="stretch")
            st.button(t("record.camera_remove"), icon="✖️", key=f"record_drop_{gen}_{i}",
                      on_click=_drop_photo, args=(i,))
            if preview is not None and preview.gps:
                st.button(t("record.use_photo_gps"), icon="📷", key=f"record_photo_gps_{gen}_{i}", width="stretch",
                          on_click=_use_photo_point, args=(preview.gps.lon, preview.gps.lat, preview.gps.accuracy_m))


@st.cache_data(max_entries=64, show_spinner=False)
def _preview(data: bytes, name: str) -> photos.Preview:
    return photos.preview(photos.Upload(name, data))


# ---------------------------------------------------------------- actions (callbacks run before the rerun)
def _save(gen: int) -> None:
    if gen != ss.record_gen:
        return  # a second tap on a form that was already saved
    loc = ss.record_location or {}
    data = {"id": ss.record_pending_id, "walk_id": ss.record_walk, "lon": loc.get("lon"), "lat": loc.get("lat"),
            "location_source": loc.get("source", LocationSource.MAP_TAP), "gps_accuracy_m": loc.get("accuracy"),
            "category": ss.get("record_category"), "severity": ss.get(f"record_severity_{gen}", 2),
            "perceived_safety": ss.get(f"record_safety_{gen}"), "internal_note": ss.get(f"record_note_{gen}", "")}
    result = call(recording.record_observation, data, photos=uploads(gen))
    if result is None:
        return
    obs, created = result
    flash("success", _saved_text(obs, created))
    new_form()
    scroll_to("record_layout")
    ss.record_map_stale = True  # the new pin on the map, the finding in the walk's list: the whole page reruns


def _saved_text(obs: Observation, created: bool) -> str:
    cat = categories()[obs.category]
    area = session.context().area_names().get(obs.area_id) or t("record.no_area")
    return t("record.saved" if created else "record.already_saved", category=f"{cat.icon} {cat.label(session.lang())}",
             severity=t(f"severity.{obs.severity}"), area=area, photos=len(obs.photos),
             time=f"{obs.observed_at:%H:%M}")


def _request_gps() -> None:
    ss.record_gps_request = uuid.uuid4().hex  # a new key: the component asks the browser again


def _use_point(lon: float, lat: float, source: LocationSource, accuracy: float | None) -> None:
    ss.record_location = {"lon": lon, "lat": lat, "source": source, "accuracy": accuracy}


def _use_photo_point(lon: float, lat: float, accuracy: float | None) -> None:
    """The photo's position as the pending point; the form's fragment then reruns the page for the map's pin."""
    _use_point(lon, lat, LocationSource.PHOTO_EXIF, accuracy)
    ss.record_map_stale = True


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
        flash("error", t("record.gps_failed", reason=(answer or {}).get("error", {}).get("message", "")))


def _take_files(key: str) -> None:
    """Photos picked in the file picker: each usable one is held by the page, each other one is dropped with its
    reason (shown under the picker); the picker starts empty again."""
    for file in ss.get(key) or []:
        _hold(photos.Upload(file.name, file.getvalue()))
    ss.record_pick_n = ss.get("record_pick_n", 0) + 1


def _keep_camera_photo(key: str) -> None:
    picture = ss.get(key)
    if picture is not None:
        _hold(photos.Upload(f"{t('record.camera_name')}-{len(ss.record_camera_photos) + 1}.jpg", picture.getvalue()))
        ss.record_camera_n = ss.get("record_camera_n", 0) + 1  # a fresh camera for the next shot


def _hold(upload: photos.Upload) -> None:
    """Hold `upload` with the form if it is a photo we can store; else note why not, for the form to show."""
    try:
        _preview(upload.data, upload.name)
    except DkeError as exc:
        ss.record_refused = [*ss.get("record_refused", []), exc.message(session.lang())]
    else:
        ss.record_camera_photos = [*ss.record_camera_photos, upload]


def _drop_photo(index: int) -> None:
    ss.record_camera_photos = [p for i, p in enumerate(ss.record_camera_photos) if i != index]
