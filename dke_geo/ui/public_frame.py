"""The residents' map and list on the public page: the document of ui/public_page.py in a sandboxed frame (scripts
only: no access to the app's page, its cookie or its session), hosted by a small component (Streamlit components
v2, our own code) that sizes the frame to its content and passes a resident's "Er det stadig et problem?" back to
the page as the finding's public key."""
from __future__ import annotations

from collections.abc import Callable

from streamlit.components.v2 import component

from dke_geo.ui.public_page import PublicPage

_JS = """
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let frame = parentElement.querySelector("iframe");
  if (!frame) {
    frame = document.createElement("iframe");
    frame.setAttribute("sandbox", "allow-scripts");
    frame.style.cssText = "width: 100%; height: 780px; border: 0; display: block";
    parentElement.appendChild(frame);
  }
  frame.title = data.title;
  if (frame.dataset.version !== data.version) {  // a rerun with the same data keeps the reader's zoom and page
    frame.dataset.version = data.version;
    frame.srcdoc = data.doc;
  }
  if (parentElement.dkeOff) parentElement.dkeOff();
  const onMessage = (event) => {
    if (event.source !== frame.contentWindow || !event.data) return;
    if (event.data.type === "dke-height") frame.style.height = Math.ceil(event.data.height) + "px";
    if (event.data.type === "dke-answer") setTriggerValue("answer", String(event.data.key));
  };
  window.addEventListener("message", onMessage);
  parentElement.dkeOff = () => window.removeEventListener("message", onMessage);
  if (data.focus && parentElement.dkeFocus !== data.focus) {  // after "Er det stadig et problem?": go to the form
    parentElement.dkeFocus = data.focus;
    const started = Date.now();
    const go = () => {
      const form = document.querySelector(".st-key-public_answer");
      const first = form && form.querySelector("input, textarea, button");
      if (first) { form.scrollIntoView({block: "start"}); first.focus(); }
      else if (Date.now() - started < 5000) setTimeout(go, 100);
    };
    go();
  }
  return parentElement.dkeOff;
}
"""

_frame = component("dke_geo.public_frame", js=_JS)


def show(page: PublicPage, title: str, focus: str | None = None,
         on_answer: Callable[[], None] = lambda: None) -> str | None:
    """Show the map and list of `page` in its frame (`title`: the frame's name for a screen reader); `focus` (a new
    value each time) moves the reader to the answer form; `on_answer` runs before the rerun a resident's "Er det
    stadig et problem?" causes. Returns the key of the finding it was about, or None."""
    result = _frame(key="public_frame", data={"doc": page.html, "version": page.version, "title": title,
                                              "focus": focus or ""},
                    on_answer_change=on_answer, height="content")
    return result.get("answer") if result else None
