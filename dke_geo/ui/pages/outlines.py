"""Correcting an area's outline on the map (planners): choose an area (or a new one), edit or draw its outline
with the map's drawing tool, name it and save it. Saving is one call to dke_geo/services/areas.py, which checks
the outline, asks for a confirmation when it overlaps other areas, re-assigns the findings and records who changed
what. Session keys start with `outlines_`."""
import shapely
import streamlit as st

from dke_geo import geo
from dke_geo.errors import DkeError
from dke_geo.maps.outlines import outline_map
from dke_geo.services import areas as area_service
from dke_geo.ui import session, widgets
from dke_geo.ui.fix_view import when
from dke_geo.ui.session import t

ctx, actor, lang = session.context(), session.actor(), session.lang()
NEW = ""  # the choice "a new area"
st.title(t("outlines.title"))
st.caption(t("outlines.intro"))
widgets.message_once("outlines_message")
try:
    history = area_service.outline_history(ctx, actor)
except DkeError as exc:  # the page is only offered to roles that may correct outlines
    st.error(exc.message(lang))
    st.stop()

def _change(event: dict) -> str:
    """One history row in words: a new area, a corrected (and perhaps renamed) one, an imported one."""
    if event["action"] == "changed" and event["old_name"] != event["new_name"]:
        return t("outlines.action.renamed", old=event["old_name"], name=event["new_name"])
    return t(f"outlines.action.{event['action']}", old=event["old_name"], name=event["new_name"])


areas = ctx.areas()
names = dict(zip(areas["id"], areas["name"], strict=True))
if "outlines_saved" in st.session_state:  # show the area just saved (its widget cannot be set after it is drawn)
    st.session_state["outlines_area"] = st.session_state.pop("outlines_saved")
left, right = st.columns(2)
area_id = left.selectbox(t("outlines.area"), [NEW, *names], key="outlines_area",
                         format_func=lambda a: names.get(a) or t("outlines.new")) or None
name = right.text_input(t("outlines.name"), value=names.get(area_id, ""), max_chars=120,
                        key=f"outlines_name_{area_id}")
drawn = widgets.show_map(outline_map(areas, area_id, lang), key=f"outlines_map_{area_id}", height=560,
                         returned=("all_drawings",)).drawings
outline = None
if drawn is None:
    st.caption(t("outlines.unchanged"))
elif not drawn:
    st.caption(t("outlines.nothing_drawn"))
else:
    outline = shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in drawn])
    st.caption(t("outlines.drawn", n=len(drawn), ha=geo.area_m2(outline) / 1e4))

confirm_key = f"outlines_confirm_{area_id}"
overlap = st.session_state.get(confirm_key)
if overlap:
    st.warning(overlap)
label = t("outlines.save_anyway" if overlap else "outlines.save")
if st.button(label, type="primary", icon="💾", key="outlines_save", disabled=outline is None):
    try:
        saved = area_service.save_outline(ctx, actor, area_id, name, shapely.geometry.mapping(outline),
                                          allow_overlap=bool(overlap))
    except area_service.OutlineOverlaps as exc:  # asked once; the same button then saves it
        st.session_state[confirm_key] = exc.message(lang)
        st.rerun()
    except DkeError as exc:
        st.error(exc.message(lang))
    else:
        st.session_state.pop(confirm_key, None)
        st.session_state["outlines_message"] = t("outlines.saved", name=saved.name, n=saved.reassigned)
        st.session_state["outlines_saved"] = saved.area_id
        st.rerun()

if history:
    st.subheader(t("outlines.history"))
    st.dataframe({t("outlines.col.at"): [when(e["at"]) for e in history],
                  t("outlines.col.by"): [e["by"] for e in history],
                  t("outlines.col.what"): [_change(e) for e in history],
                  t("outlines.col.moved"): [e["reassigned"] for e in history]}, hide_index=True, width="stretch")
