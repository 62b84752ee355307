"""The residents' public map (no login): what an area walk is, the published findings on a map, density by
area, the findings with the status of their fixes, approved photos. Everything comes from the public view
(services/public.py, a whitelist), the same data as the static site; user texts are shown as plain text."""
import base64

import pandas as pd
import streamlit as st

from dke_geo.maps.public import public_map
from dke_geo.services import public
from dke_geo.ui import navigation, session, widgets
from dke_geo.ui.session import t


def _thumb_src(photo) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(photo.thumb).decode()


ctx = session.context()
lang = session.lang()
view = public.view(ctx, lang)

navigation.login_link()  # staff log in from here; residents see no form
st.title(t("public.title"))
st.caption(t("public.from"))
st.write(t("public.what_is_a_walk"))
if view.findings:
    st.write(t("public.count", n=len(view.findings)))
else:
    st.info(t("public.empty"))
widgets.show_map(public_map(view, ctx.areas(), _thumb_src), key="public_map", returned=())

st.subheader(t("public.density"))
st.dataframe(pd.DataFrame({t("public.col.area"): [d.name for d in view.density],
                           t("public.col.findings"): [d.findings for d in view.density],
                           t("public.col.per_km2"): [d.per_km2 for d in view.density]}),
             hide_index=True, width="stretch")

if view.findings:
    st.subheader(t("public.findings"))
    st.dataframe(pd.DataFrame({t("public.col.category"): [f"{f.icon} {f.category_label}" for f in view.findings],
                               t("public.col.area"): [f.area for f in view.findings],
                               t("public.col.month"): [f.month for f in view.findings],
                               t("public.col.text"): [f.text for f in view.findings],
                               t("public.col.status"): [f.status for f in view.findings]}),
                 hide_index=True, width="stretch")
    with_photos = [f for f in view.findings if f.photos]
    if with_photos:
        st.subheader(t("public.photos"))
        columns = st.columns(3)
        for i, (finding, photo) in enumerate((f, p) for f in with_photos for p in f.photos):
            with columns[i % 3]:
                st.image(photo.data)
                st.text(t("public.photo_caption", category=finding.category_label, area=finding.area,
                          month=finding.month) + "\n" + finding.text)
