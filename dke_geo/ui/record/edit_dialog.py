"""The dialog that corrects a saved finding: category, severity, safety, note, photos (remove some, add
more), move it to the pending pin, or delete it after a confirmation. Opened from the findings list."""
from __future__ import annotations

import streamlit as st

from dke_geo import photos
from dke_geo.categories import categories
from dke_geo.errors import DkeError
from dke_geo.model import Observation
from dke_geo.services import recording
from dke_geo.ui import session, widgets
from dke_geo.ui.record.state import flash, set_value, ss
from dke_geo.ui.session import t


def show(obs: Observation) -> None:
    """Open the dialog for `obs`. The dialog is made on each call, so its title is in the session's language."""
    st.dialog(t("record.edit_title"), icon="✏️", width="medium", on_dismiss=_stop_editing)(_body)(obs)


def _stop_editing() -> None:
    ss.pop("record_editing", None)
    ss.pop("record_confirm_delete", None)


def _body(obs: Observation) -> None:
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
    new_files = st.file_uploader(t("record.photos_add"), type=photos.ACCEPTED_TYPES,
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
            flash("success", t("record.edited"))
            _stop_editing()
            st.rerun()
    if delete_col.button(t("record.delete"), icon="🗑️", width="stretch", key=f"{key}_delete"):
        ss.record_confirm_delete = str(obs.id)
    if ss.get("record_confirm_delete") == str(obs.id):
        _confirm_delete(obs, key)


def _confirm_delete(obs: Observation, key: str) -> None:
    cat = categories()[obs.category]
    st.warning(t("record.delete_confirm"))
    yes, no = st.columns(2)
    if yes.button(t("record.delete_yes"), type="primary", width="stretch", key=f"{key}_delete_yes"):
        try:
            recording.delete_observation(session.context(), session.actor(), obs.id)
        except DkeError as exc:
            st.error(exc.message(session.lang()))
        else:
            flash("success", t("record.deleted", category=f"{cat.icon} {cat.label(session.lang())}",
                               time=f"{obs.observed_at:%H:%M}"))
            _stop_editing()
            st.rerun()
    no.button(t("record.delete_no"), width="stretch", key=f"{key}_delete_no",
              on_click=set_value, args=("record_confirm_delete", None))
