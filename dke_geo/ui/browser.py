"""Small pieces of JavaScript run in the app page (Streamlit components v2, no third-party code): the login cookie,
the warning before leaving a page with unsaved input, bringing a part of the page into view, the page's language,
and plain lists in the phone menu. Streamlit loads them as modules from blob: URLs, never as inline script, so the
Content-Security-Policy of the deployment (docs/deploy/nginx.conf) can refuse inline script on the app's pages.

The cookie holds a local login's random session token (dke_geo/services/sessions.py: the server keeps only
its hash and can end the session), SameSite=Strict, Secure on https, path /. It is set from JavaScript, so it
cannot be HttpOnly: Streamlit offers no server-side way to set one. That is why every user text is escaped
wherever it meets HTML, and the pages load no third-party script. Streamlit reads cookies when a page
(re)connects (`st.context.cookies`), which is exactly when the token is needed: after a reload.
"""
from __future__ import annotations

from streamlit.components.v2 import component

from dke_geo.services.sessions import COOKIE, LIFETIME

_COOKIE_JS = """
export default function (component) {
  const { data } = component;
  const name = data.name;
  const secure = window.location.protocol === "https:" ? "; Secure" : "";
  if (data.token) {
    document.cookie = `${name}=${data.token}; Path=/; Max-Age=${data.max_age}; SameSite=Strict${secure}`;
  } else if (document.cookie.split("; ").some((c) => c.startsWith(name + "="))) {
    document.cookie = `${name}=; Path=/; Max-Age=0; SameSite=Strict${secure}`;
  }
}
"""

_LEAVE_JS = """
export default function (component) {
  const { data } = component;
  if (!window.dkeLeaveGuardInstalled) {
    window.addEventListener("beforeunload", (event) => {
      if (window.dkeLeaveGuard) {
        event.preventDefault();
        event.returnValue = window.dkeLeaveGuard;
        return window.dkeLeaveGuard;
      }
    });
    window.dkeLeaveGuardInstalled = true;
  }
  window.dkeLeaveGuard = data.active ? data.message : null;
  return () => { window.dkeLeaveGuard = null; };
}
"""

_SCROLL_JS = """
export default function (component) {
  const { data } = component;
  document.querySelector(`.st-key-${CSS.escape(data.container)}`)?.scrollIntoView({ block: "start" });
}
"""

_LANG_JS = """
export default function (component) {
  document.documentElement.lang = component.data.lang;
}
"""

_MENU_JS = """
export default function () {
  if (window.dkeMenuLists) return;
  window.dkeMenuLists = true;
  const plain = () => {
    for (const list of document.querySelectorAll("[data-testid=stSidebarNavItems]")) {
      for (const node of [list, ...list.querySelectorAll("li")]) {
        if (node.getAttribute("role") !== "none") node.setAttribute("role", "none");
      }
    }
  };
  plain();
  new MutationObserver(plain).observe(document.body, {childList: true, subtree: true});
}
"""

_cookie = component("dke_geo.login_cookie", js=_COOKIE_JS)
_lang = component("dke_geo.page_lang", js=_LANG_JS)
_leave = component("dke_geo.leave_guard", js=_LEAVE_JS)
_scroll = component("dke_geo.scroll_into_view", js=_SCROLL_JS)
_menu = component("dke_geo.menu_lists", js=_MENU_JS)


def login_cookie(token: str | None) -> None:
    """Keep the browser's login cookie in step: set it to `token`, or remove it when None."""
    _cookie(key="auth_cookie", data={"name": COOKIE, "token": token or "",
                                     "max_age": int(LIFETIME.total_seconds())}, height=0)


def leave_guard(active: bool, message: str, key: str) -> None:
    """Ask the browser to warn before a reload or leaving the page while `active` (e.g. unsaved input)."""
    _leave(key=key, data={"active": bool(active), "message": message}, height=0)


def scroll_into_view(container_key: str, request: int) -> None:
    """Bring the container with key `container_key` to the top of the screen; each new `request` number does it
    again (the same number on a later rerun does nothing)."""
    _scroll(key=f"scroll_{request}", data={"container": container_key}, height=0)


def page_lang(lang: str) -> None:
    """Set the page's `lang` to the chosen language (Streamlit's page says "en" whatever it shows), so a screen
    reader speaks Danish as Danish (WCAG 3.1.1)."""
    _lang(key="page_lang", data={"lang": lang}, height=0)


def menu_without_broken_lists() -> None:
    """Streamlit's menu in the sidebar (a phone's, or a tablet's with the sidebar open) puts a section's heading
    inside its <ul> and the section's pages in <li>s outside any list, which a screen reader announces wrongly
    (axe: list, listitem, serious). Its lists are made plain groups; the menu keeps its navigation landmark and its
    links."""
    _menu(key="menu_lists", data={}, height=0)
