"""dke-geo: the navigation shell. Page config, language switch, login and the pages a role may see."""
import streamlit as st

from dke_geo.config import StartupError
from dke_geo.errors import DkeError
from dke_geo.roles import Permission
from dke_geo.services import maintenance
from dke_geo.ui import auth, session, widgets
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
internal = actor.can(Permission.VIEW_INTERNAL)  # the entry page counts unpublished findings: not for the public

pages = [st.Page("dke_geo/ui/pages/home.py", title=t("nav.home"), icon="🗺️", url_path="home", default=True)] \
    if internal else []
pages.append(st.Page("dke_geo/ui/pages/public.py", title=t("nav.public"), icon="🏘️", url_path="public",
                     default=not internal))
pages.append(st.Page("dke_geo/ui/pages/accessibility.py", title=t("nav.accessibility"), icon="♿",
                     url_path="tilgaengelighed"))
if actor.can(Permission.PUBLISH):
    pages.append(st.Page("dke_geo/ui/pages/publish.py", title=t("nav.publish"), icon="📣", url_path="publish"))
if actor.can(Permission.MANAGE_USERS):
    pages.append(st.Page("dke_geo/ui/pages/admin.py", title=t("nav.admin"), icon="👥", url_path="admin"))
if actor.can(Permission.RECORD):
    pages.append(st.Page("dke_geo/ui/pages/record.py", title=t("record.nav"), icon="📝", url_path="record"))
if actor.can(Permission.VIEW_INTERNAL):
    pages.append(st.Page("dke_geo/ui/pages/fixes.py", title=t("fixes.nav"), icon="🛠️", url_path="fixes"))
if internal:
    pages.append(st.Page("dke_geo/ui/pages/hotspots.py", title=t("nav.hotspots"), icon="🔥", url_path="hotspots"))
if actor.can(Permission.IMPORT):
    pages.append(st.Page("dke_geo/ui/pages/data.py", title=t("data.nav"), icon="📦", url_path="data"))

# The organisations' report-back link (no login): registered for everyone, hidden from the menu, and run alone.
report_back = st.Page("dke_geo/ui/pages/report_back.py", title=t("reportback.nav"), url_path="report",
                      visibility="hidden")
navigation = st.navigation([*pages, report_back], position="top")
if navigation.url_path == report_back.url_path:
    navigation.run()
    st.stop()
widgets.language_switch()
widgets.builtin_texts()
with st.sidebar:
    st.markdown(f"**{t('app.title')}**  \n{t('app.subtitle')}")
    try:
        demo = maintenance.has_demo_data(context)
    except DkeError:  # the database is away: the page says so, and keeps what the user has entered
        demo = False
    if demo:
        st.warning(f"**{t('app.demo_badge')}** · {t('app.demo_notice')}")
    auth.login_box()
navigation.run()
