"""The walk's findings at the bottom of the recording page, newest first with thumbnails, a few at a time,
each with a button that opens the edit dialog (edit_dialog.py)."""
from __future__ import annotations

import streamlit as st

from dke_geo import photos
from dke_geo.categories import categories
from dke_geo.services import recording
from dke_geo.ui import session, widgets
from dke_geo.ui.record import edit_dialog
from dke_geo.ui.record.state import LIST_STEP, set_value, ss
from dke_geo.ui.session import t


def show(detail: recording.WalkDetail, names: dict[str, str]) -> None:
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
                if obs.location_source == "import":  # who brought it in, and (internal only) who the file named
                    details.append(t("record.imported_by", by=widgets.plain(obs.created_by),
                                     source=widgets.plain(obs.source_created_by or "–")))
                st.caption(" · ".join(details))
                if obs.internal_note:
                    st.markdown(widgets.plain(obs.internal_note))
            action.button(t("record.edit"), icon="✏️", key=f"record_edit_{obs.id}", width="stretch",
                          on_click=set_value, args=("record_editing", str(obs.id)))
    if len(detail.findings) > limit:
        st.button(t("record.show_more", n=len(detail.findings) - limit), key="record_more", width="stretch",
                  on_click=set_value, args=("record_list_limit", limit + LIST_STEP))
    editing = next((o for o in detail.findings if str(o.id) == ss.get("record_editing")), None)
    if editing is not None:
        edit_dialog.show(editing)
