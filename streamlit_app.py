"""dke-geo: the navigation shell. Page config, settings check, language switch, login, the pages a role may see
(the table and the rules: dke_geo/ui/navigation.py)."""
import streamlit as st

from dke_geo.config import StartupError
from dke_geo.errors import DkeError
from dke_geo.roles import Permission
from dke_geo.services import maintenance
from dke_geo.ui import auth, browser, navigation, session, widgets
from dke_geo.ui.session import t

st.set_page_config(page_title="dke-geo", page_icon="🗺️", layout="wide")
try:
    context = session.context()  # settings checked and the database prepared, before any page
except StartupError as exc:
    st.error(t("app.error_setting", error=str(exc)))
    st.stop()
except session.NotReady:
    st.error(t("app.error_not_ready"))
    st.stop()
except DkeError as exc:  # the database is away
    st.error(exc.message(session.lang()))
    st.stop()
try:
    auth.restore()  # before the pages: which pages exist depends on the role
except DkeError as exc:  # the database is away: the login cannot be checked now; say why, show the public pages
    st.error(exc.message(session.lang()))
actor = session.actor()
if actor.can(Permission.VIEW_INTERNAL):
    session.warm_up()  # the Hotspots page's libraries and data, loaded in the background once per server

page = st.navigation(navigation.pages(actor), position="top")
if page.url_path == navigation.REPORT_BACK_URL:  # the organisations' report-back link: its page alone
    page.run()
    st.stop()
widgets.language_switch()
widgets.builtin_texts()
browser.menu_without_broken_lists()
# Staff have a sidebar (who is logged in, the pages' filters); residents none: an empty one would be a scrolling
# region with nothing to focus (axe's scrollable-region-focusable), so their demo notice heads the page instead.
with st.sidebar if actor.name else st.container():
    if actor.name:
        st.markdown(f"**{t('app.title')}**  \n{t('app.subtitle')}")
    try:
        demo = maintenance.has_demo_data(context)
    except DkeError:  # the database is away: the page says so, and keeps what the user has entered
        demo = False
    if demo:
        st.warning(f"**{t('app.demo_badge')}** · {t('app.demo_notice')}")
navigation.keep_login(page, actor)
page.run()
