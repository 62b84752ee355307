"""axe-core in every frame of a page (axe sees only the document it runs in: Streamlit's components and our map
are frames of their own). The check data/accessibility.toml names: no violation of the impacts it lists."""
from __future__ import annotations

from functools import cache
from pathlib import Path

import axe_playwright_python
from playwright.sync_api import Page

from dke_geo.accessibility import tested


@cache
def _axe_source() -> str:
    return next(Path(axe_playwright_python.__path__[0]).rglob("axe.min.js")).read_text(encoding="utf-8")


def _node(node: dict) -> str:
    """Where a violation is, and axe's reason (a contrast's colours and ratio, say)."""
    reasons = [check.get("message", "") for check in node.get("any", []) + node.get("all", [])]
    return f"{node['html'][:160]} -> {'; '.join(filter(None, reasons))[:200]}"


def violations(page: Page) -> tuple[list[str], int]:
    """Violations of the listed impacts in the page and each frame, as 'frame url: rule (nodes: targets)', and how
    many documents axe checked. axe is evaluated, not added as a script tag, so a page's Content-Security-Policy
    (the static site allows only its own scripts) does not keep it out."""
    impacts = set(tested()["impacts"])
    found, checked = [], 0
    for frame in page.frames:
        if frame.is_detached():
            continue
        frame.evaluate(_axe_source() + "\n;0")
        result = frame.evaluate("axe.run(document, {resultTypes: ['violations']})")
        checked += 1
        found += [f"{frame.url[:60]}: {v['id']} ({v['impact']}: {[_node(n) for n in v['nodes']][:3]})"
                  for v in result["violations"] if v.get("impact") in impacts]
    return found, checked
