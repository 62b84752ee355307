"""Entry page: the municipality with its housing areas outlined and labelled."""
import streamlit as st

from dke_geo import geo, maps
from dke_geo.services import areas as area_service
from dke_geo.ui import session, widgets
from dke_geo.ui.session import t

ctx, lang = session.context(), session.lang()
st.title(t("home.title"))
st.write(t("home.intro"))
summary = area_service.summary(ctx, session.actor())
counts = dict(zip(summary["id"], summary["observations"], strict=True))
html = ctx.cached("home.map", ctx.data_version(), (lang, tuple(sorted(counts.items()))),
                  lambda: maps.render(maps.area_map(ctx.areas(), lang, counts)))  # the same page over reruns
widgets.static_map(html, height=520, label=t("home.title"))
st.caption(t("map.attribution_full"))
table = summary.assign(confidence=[t("home.unverified") if c == "unverified" else t(f"home.confidence_{c}")
                                   if c in geo.CERTAIN else t("home.approximate")
                                   for c in summary["confidence"]])
st.subheader(t("home.areas_table"))
st.dataframe(table[["name", "confidence", "area_ha", "observations"]].rename(columns={
    "name": t("col.area"), "confidence": t("col.confidence"), "area_ha": t("col.area_ha"),
    "observations": t("col.observations")}), hide_index=True, width="stretch")
