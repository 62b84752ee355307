"""Entry page: the municipality with its housing areas outlined and labelled."""
import streamlit as st

from dke_geo import maps
from dke_geo.services import areas as area_service
from dke_geo.ui import session, widgets
from dke_geo.ui.session import t

ctx = session.context()
st.title(t("home.title"))
st.write(t("home.intro"))
summary = area_service.summary(ctx, session.actor())
counts = dict(zip(summary["id"], summary["observations"]))
widgets.show_map(maps.area_map(ctx.areas(), session.lang(), counts), key="home_map",
                 returned=())
st.caption(t("map.attribution_full"))
table = summary.assign(confidence=[t("home.unverified") if c == "unverified" else
                                   t("home.approximate") if c not in ("official", "high") else c
                                   for c in summary["confidence"]])
st.subheader(t("home.areas_table"))
st.dataframe(table[["name", "confidence", "area_ha", "observations"]].rename(columns={
    "name": t("col.area"), "confidence": t("col.confidence"), "area_ha": t("col.area_ha"),
    "observations": t("col.observations")}), hide_index=True, width="stretch")
