"""The app's pages in one table: who may open each, where each role lands, and what an address shows to someone
who may not see it.

Every page's address is registered for every role, so a shared or bookmarked link never meets Streamlit's English
"Page not found": a role without the permission gets a Danish message in its place (and, when nobody is logged
in, the login right there, after which the same address shows the page: a page's identity is its `url_path`).
The address `/` is a hidden page that sends each role to where it works: residents to the public map, staff to
recording, planners to Hotspots. At 768 px the menu shows the pages a role uses most and puts the rest under one
Danish section ("Mere"), so nothing hides behind Streamlit's English "N more".
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from dke_geo.roles import Actor, Permission, Role
from dke_geo.ui import auth, browser, session
from dke_geo.ui.session import t


@dataclass(frozen=True)
class Screen:
    """One page: its address, file, menu label (string key), icon, and the permission it needs (None: anyone)."""
    url: str
    file: str
    label: str
    icon: str
    needs: Permission | None


SCREENS = (
    Screen("record", "dke_geo/ui/pages/record.py", "nav.record", "📝", Permission.RECORD),
    Screen("hotspots", "dke_geo/ui/pages/hotspots.py", "nav.hotspots", "🔥", Permission.VIEW_INTERNAL),
    Screen("fixes", "dke_geo/ui/pages/fixes.py", "nav.fixes", "🛠️", Permission.VIEW_INTERNAL),
    Screen("publish", "dke_geo/ui/pages/publish.py", "nav.publish_short", "📣", Permission.PUBLISH),
    Screen("data", "dke_geo/ui/pages/data.py", "nav.data", "📦", Permission.IMPORT),
    Screen("home", "dke_geo/ui/pages/home.py", "nav.home", "🗺️", Permission.VIEW_INTERNAL),
    Screen("outlines", "dke_geo/ui/pages/outlines.py", "nav.outlines", "✏️", Permission.MANAGE_AREAS),
    Screen("admin", "dke_geo/ui/pages/admin.py", "nav.admin", "👥", Permission.MANAGE_USERS),
    Screen("public", "dke_geo/ui/pages/public.py", "nav.public", "🏘️", None),
)
LOGIN_URL = "login"
REPORT_BACK_URL = "report"
"""The organisations' report-back link (services/report_back.py): no login, its page shown alone."""
LANDING = {Role.PUBLIC: "public", Role.STAFF: "record", Role.PLANNER: "hotspots", Role.ADMIN: "hotspots"}
"""Where `/` and a fresh login take each role."""
_PLANNING = ("hotspots", "fixes", "publish", "record")
MAIN = {Role.PUBLIC: ("public",), Role.STAFF: ("record", "hotspots", "fixes"), Role.PLANNER: _PLANNING,
        Role.ADMIN: _PLANNING}
"""The pages each role uses most, shown in the menu itself (in this order); its other pages go under "Mere"."""


def pages(actor: Actor) -> dict[str, list[st.Page]]:
    """The menu for `actor`: the main pages, the rest under "Mere", and hidden pages for `/`, the login, the
    accessibility statement (linked from the public page), the report-back link and every address the role may not
    open."""
    main, more, hidden = [], [], [st.Page(_landing, title=t("nav.landing"), url_path="start", default=True,
                                          visibility="hidden"),
                                  st.Page("dke_geo/ui/pages/login.py", title=t("nav.login"), icon="🔑",
                                          url_path=LOGIN_URL, visibility="hidden"),
                                  st.Page("dke_geo/ui/pages/accessibility.py", title=t("nav.accessibility"),
                                          icon="♿", url_path="tilgaengelighed", visibility="hidden"),
                                  st.Page("dke_geo/ui/pages/report_back.py", title=t("reportback.nav"),
                                          url_path=REPORT_BACK_URL, visibility="hidden")]
    for screen in SCREENS:
        if screen.needs is None or actor.can(screen.needs):
            (main if screen.url in MAIN[actor.role] else more).append(_page(screen))
        else:
            hidden.append(st.Page(_refused(screen), title=t(screen.label), url_path=screen.url, visibility="hidden"))
    main.sort(key=lambda p: MAIN[actor.role].index(p.url_path))
    return {"": main + hidden, t("nav.more"): more} if more else {"": main + hidden}


def shows_login(page: st.Page, actor: Actor) -> bool:
    """True when `page` draws the login form itself for `actor` (the login page; a page nobody logged in may see)."""
    return not actor.name and page.url_path in {LOGIN_URL} | {s.url for s in SCREENS if s.needs is not None}


def landing(actor: Actor) -> str:
    """The address `actor` starts at."""
    return LANDING[actor.role]


def go_to_landing() -> None:
    """Open the page the role starts at (after a login, or at `/`). A municipality login whose e-mail has no
    account comes back from the provider to `/`: it goes to the login page, which says why."""
    actor = session.actor()
    if not actor.name and "auth_error" in st.session_state:  # set by auth.restore for the login box to explain
        st.switch_page(_login_page())
    st.switch_page(_landing_page(actor))


def keep_login(page: st.Page, actor: Actor) -> None:
    """Who is logged in and "Log ud" in the sidebar; for nobody, keep the browser's login cookie cleared (the
    login form itself is drawn only by the pages of `shows_login`, never in a resident's way)."""
    if actor.name:
        with st.sidebar:
            auth.login_box()
    elif not shows_login(page, actor):
        browser.login_cookie(None)


def login_link(where=st) -> None:
    """A small "Medarbejder-login" link to the login page (residents see this, not a form)."""
    where.page_link(_login_page(), label=t("nav.login"), icon="🔑")


def _page(screen: Screen) -> st.Page:
    return st.Page(screen.file, title=t(screen.label), icon=screen.icon, url_path=screen.url)


def _landing_page(actor: Actor) -> st.Page:
    return _page(next(s for s in SCREENS if s.url == landing(actor)))


def _login_page() -> st.Page:
    return st.Page("dke_geo/ui/pages/login.py", title=t("nav.login"), icon="🔑", url_path=LOGIN_URL)


def _landing() -> None:
    go_to_landing()  # `/` has no page of its own


def _refused(screen: Screen) -> Callable[[], None]:
    """What `screen`'s address shows a role without its permission: why, and the login (or the way back)."""
    def page() -> None:
        actor = session.actor()
        st.title(t(screen.label))
        if actor.name:
            st.warning(t("nav.not_for_role", role=t(f"role.{actor.role.value}")))
            st.page_link(_landing_page(actor), label=t("nav.to_landing"), icon="↩️")
            return
        st.info(t("nav.login_first"))
        auth.login_box()
    page.__name__ = f"refused_{screen.url}"
    return page
