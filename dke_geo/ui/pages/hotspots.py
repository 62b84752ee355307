"""Planners' hotspot maps: filters in the sidebar; the map, charts, area table and an export of the same rows."""
import streamlit as st

from dke_geo.categories import categories
from dke_geo.density import Grid, GridKind
from dke_geo.errors import DkeError
from dke_geo.filters import SEVERITIES, STATUSES, Filter
from dke_geo.interop import writers
from dke_geo.light import LightCondition
from dke_geo.services import exports, hotspots
from dke_geo.ui import hotspots_view, session, widgets
from dke_geo.ui.session import t

ctx, actor, lang = session.context(), session.actor(), session.lang()
try:
    choices = hotspots.choices(ctx, actor)
except DkeError as exc:  # the page is only offered to roles that may see it; say so to anyone else
    st.error(exc.message(lang))
    st.stop()
cats = categories()

with st.sidebar:
    st.subheader(t("hotspots.filters"))
    span = (choices.first, choices.last) if choices.first else ()
    dates = st.date_input(t("hotspots.f_dates"), value=span, key="hotspots_dates", format="DD.MM.YYYY")
    areas = widgets.all_or_some(t("hotspots.f_areas"), list(choices.areas), "hotspots_areas", choices.areas.get)
    chosen_cats = widgets.all_or_some(t("hotspots.f_categories"), list(cats), "hotspots_categories",
                                      lambda c: f"{cats[c].icon} {cats[c].label(lang)}")
    severities = st.pills(t("hotspots.f_severity"), SEVERITIES, selection_mode="multi", key="hotspots_severity",
                          format_func=lambda s: t(f"severity.{s}"))
    statuses = st.pills(t("hotspots.f_status"), [s.value for s in STATUSES], selection_mode="multi",
                        key="hotspots_status", format_func=lambda s: t(f"fixes.group.{s}"))
    light = st.pills(t("hotspots.f_light"), [c.value for c in LightCondition], selection_mode="multi",
                     key="hotspots_light", format_func=lambda c: t(f"light.{c}"))
    walks = widgets.all_or_some(t("hotspots.f_walks"), list(choices.walks), "hotspots_walks", choices.walks.get)
    include_demo = st.toggle(t("hotspots.f_demo"), value=True, key="hotspots_demo")
    kind = st.segmented_control(t("hotspots.f_grid"), list(GridKind), default=GridKind.SQUARE, required=True,
                                key="hotspots_grid", format_func=lambda k: t(f"hotspots.grid.{k}"))
    size = st.select_slider(t("hotspots.f_grid_size"), [25, 50, 100, 200, 400], value=50, key="hotspots_size")

st.title(t("hotspots.title"))
st.caption(t("hotspots.intro"))
message = st.empty()  # a fixed slot above the map, so a message never shifts the map's iframe
try:
    selection = Filter.parse({"date_from": dates[0] if dates else None,
                              "date_to": dates[1] if len(dates) > 1 else None, "areas": areas,
                              "categories": chosen_cats, "severities": severities, "statuses": statuses,
                              "light": light, "walks": walks, "include_demo": include_demo})
    view = hotspots_view.view(ctx, actor, selection, lang, Grid(kind, size))
except DkeError as exc:
    message.error(exc.message(lang))
    st.stop()

message.info(t("hotspots.summary", n=view.findings, reports=view.reports) if view.findings else t("hotspots.none"))
widgets.static_map(view.map_html, height=700, label=t("hotspots.title"))

st.subheader(t("hotspots.charts"))
left, right = st.columns(2)
left.altair_chart(view.by_category_area, width="stretch")
right.altair_chart(view.open_resolved, width="stretch")
if view.days_to_resolution is None:
    st.caption(t("hotspots.no_resolved"))
else:
    st.altair_chart(view.days_to_resolution, width="stretch")

st.subheader(t("hotspots.table"))
st.dataframe(view.areas, hide_index=True, width="stretch")
st.download_button(t("hotspots.download"), writers.csv_bytes(view.areas), file_name="hotspots-areas.csv",
                   mime="text/csv", key="hotspots_csv")

st.subheader(t("hotspots.export"))
st.caption(t("hotspots.export_help"))
fmt = st.segmented_control(t("data.format"), list(writers.FORMATS), default="gpkg", required=True,
                           key="hotspots_export_format", format_func=lambda f: t(f"data.format_{f}"))
if st.button(t("hotspots.export_prepare", n=view.findings), key="hotspots_export_prepare", disabled=not view.findings):
    try:
        st.session_state["hotspots_export"] = (selection, fmt, exports.export_bytes(ctx, actor, fmt, selection,
                                                                                     lang=lang))
    except DkeError as exc:
        st.error(exc.message(lang))
prepared = st.session_state.get("hotspots_export")
if prepared and prepared[0] == selection:  # made for the filter now shown, never for an earlier one
    name = writers.file_name(prepared[1])
    st.download_button(t("data.download", name=name), prepared[2], file_name=name, key="hotspots_export_download",
                       mime=writers.MEDIA_TYPES[prepared[1]], type="primary")
