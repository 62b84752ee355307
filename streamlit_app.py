"""dke-geo: the navigation shell. Page config, language switch, login and the pages a role may see."""
import streamlit as st

from dke_geo.ui import session, widgets
from dke_geo.ui.session import t

st.set_page_config(page_title="dke-geo", page_icon="🗺️", layout="wide")

pages = [st.Page("dke_geo/ui/pages/home.py", title=t("nav.home"), icon="🗺️", url_path="home", default=True)]

navigation = st.navigation(pages, position="top")
widgets.language_switch()
with st.sidebar:
    st.markdown(f"**{t('app.title')}**  \n{t('app.subtitle')}")
    widgets.login_box()
navigation.run()
