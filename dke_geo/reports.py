"""The report builder: the walk report (for the Bydelsforum) and the half-year summary (the area-walk section of
DKE's half-year report), in Danish or English, as HTML and as PDF, made from what the use cases in
services/reports.py read (this module reads no database).

The walk report has two versions. The internal one shows everything about the walk. The one for the Bydelsforum
(`forum_report`), sent outside the unit, is made from `public.PublicWalk` only: what the public map shows of the
walk's published findings and the walk's public facts (day, light, areas), so nothing internal can reach it.

The HTML is self-contained: the map and the charts are PNGs drawn here with matplotlib from data/geo/
(no tiles), and they and the photos are embedded as data: URIs, so the file loads nothing from any
server. The PDF is the same HTML rendered by WeasyPrint. Every text from the database is escaped by
the template (Jinja2 autoescape).
"""
from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from jinja2 import Environment, FileSystemLoader, select_autoescape
from matplotlib.figure import Figure

from dke_geo import geo, organisations, photos
from dke_geo.categories import categories
from dke_geo.errors import DkeError
from dke_geo.i18n import t
from dke_geo.lifecycle import State
from dke_geo.model import TZ, Observation, Photo, Walk
from dke_geo.public import PublicWalk, date_label

FORMATS = ("html", "pdf")
_TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")),
                         autoescape=select_autoescape(default=True, default_for_string=True))
_PERIOD = re.compile(r"^(\d{4})H([12])$")


class BadPeriod(DkeError):
    key = "report.error.period"


# ------------------------------------------------------------------ walk report
def walk_report(walk: Walk, found: list[Observation], pictures: dict[str, list[Photo]], fixes: pd.DataFrame,
                areas: gpd.GeoDataFrame, lang: str = "da", fmt: str = "html") -> bytes:
    """One walk's internal report: date, light, participants by organisation, a map of the findings, counts by
    category and severity, the findings with their internal notes and photos, and the proposals with who is
    responsible and when.

    `found` are the walk's findings in the order they are numbered; `pictures` their photos by finding id;
    `fixes` the rows of services.fixes.fixes_frame for the walk.
    """
    names = dict(zip(areas["id"], areas["name"], strict=True))
    numbers = {str(o.id): i for i, o in enumerate(found, start=1)}
    cats = categories()
    context = {
        "lang": lang, "t": lambda key, **v: t(key, lang, **v), "walk": walk,
        "date": date_label(walk.started_at, lang), "time": _time_span(walk),
        "kind": t(f"kind.{walk.kind.value}", lang), "light": t(f"light.{walk.light_condition.value}", lang),
        "areas": [names.get(a, a) for a in walk.area_ids],
        "organisations": [{"label": o.shown(lang), "count": o.count} for o in walk.organisations],
        "participants": sum(o.count for o in walk.organisations),
        "map_png": _map_uri([(o.lon, o.lat, o.category) for o in found], walk.area_ids, areas, lang),
        "counts": _counts(found, lang),
        "findings": [_finding_row(o, numbers[str(o.id)], names, cats, pictures.get(str(o.id), []), lang)
                     for o in found],
        "fixes": [_fix_row(row, numbers, lang) for row in fixes.to_dict("records")],
        "generated": date_label(datetime.now(TZ), lang),
    }
    return _render("walk_report.html.j2", context, fmt)


def _time_span(walk: Walk) -> str:
    start = walk.started_at.astimezone(TZ).strftime("%H:%M")
    return f"{start}–{walk.ended_at.astimezone(TZ).strftime('%H:%M')}" if walk.ended_at else start


def _finding_row(obs: Observation, number: int, names: dict, cats: dict, pictures: list, lang: str) -> dict:
    return {"number": number, "time": obs.observed_at.astimezone(TZ).strftime("%H:%M"),
            "category": cats[obs.category].label(lang), "colour": cats[obs.category].colour,
            "severity": t(f"severity.{obs.severity}", lang), "area": names.get(obs.area_id or "", "–"),
            "text": obs.internal_note, "photos": [uri for uri in (_photo_uri(p.thumb_path) for p in pictures) if uri]}


def _photo_uri(stored: str) -> str | None:
    """A photo's thumbnail as a data: URI; a missing file is left out rather than breaking the report."""
    try:
        return _data_uri(photos.file(stored).read_bytes(), "image/jpeg")
    except OSError:
        return None


def forum_report(walk: PublicWalk, areas: gpd.GeoDataFrame, fmt: str = "html") -> bytes:
    """The walk report for the Bydelsforum, to send outside the unit: the walk's day, light and areas, a map of its
    published findings, and those findings as the public map shows them (category, area, month, public text,
    status in plain words, approved photos without metadata), numbered oldest first. Made from `walk` alone
    (services/public.py's whitelist), so it can hold nothing else."""
    lang = walk.lang
    names = dict(zip(areas["id"], areas["name"], strict=True))
    context = {
        "lang": lang, "t": lambda key, **v: t(key, lang, **v), "walk": walk,
        "areas": [names.get(a, a) for a in walk.area_ids],
        "map_png": _map_uri([(f.lon, f.lat, f.category) for f in walk.findings], list(walk.area_ids), areas, lang),
        "findings": [{"number": i, "finding": f, "photos": [_data_uri(p.thumb, "image/jpeg") for p in f.photos]}
                     for i, f in enumerate(walk.findings, start=1)],
        "generated": date_label(datetime.now(TZ), lang),
    }
    return _render("forum_report.html.j2", context, fmt)


def _fix_row(row: dict, numbers: dict[str, int], lang: str) -> dict:
    due = row["due_date"]
    return {"title": row["title"], "state": t(f"fixes.state.{row['state']}", lang),
            "organisation": organisations.label(row["organisation"], lang) if row["organisation"] else "–",
            "contact_role": row["contact_role"] or "", "overdue": bool(row["overdue"]),
            "due": date_label(pd.Timestamp(due).tz_localize(TZ), lang) if due is not None and not pd.isna(due) else "–",
            "findings": sorted(numbers[i] for i in row["observation_ids"] if i in numbers)}


def _counts(found: list[Observation], lang: str) -> dict:
    """Findings per category (rows, in the categories' order) and severity (columns), with totals."""
    cats = categories()
    table = pd.crosstab(pd.Categorical([o.category for o in found], categories=list(cats)),
                        pd.Categorical([o.severity for o in found], categories=[1, 2, 3]), dropna=False)
    rows = [{"category": cats[c].label(lang), "by_severity": [int(v) for v in table.loc[c]],
             "total": int(table.loc[c].sum())} for c in table.index if table.loc[c].sum()]
    return {"severities": [t(f"severity.{s}", lang) for s in (1, 2, 3)], "rows": rows,
            "totals": [int(v) for v in table.sum()], "total": len(found)}


@cache
def _metric_layer(name: str):
    return geo.layer(name).to_crs(geo.METRIC)


def _map_uri(points: list[tuple[float, float, str]], area_ids: list[str], areas, lang: str) -> str | None:
    """`_walk_map` as a data: URI, or None when there is nothing to draw."""
    return _data_uri(_walk_map(points, area_ids, areas, lang), "image/png") if points else None


def _walk_map(points: list[tuple[float, float, str]], area_ids: list[str], areas, lang: str) -> bytes:
    """The findings (lon, lat, category), numbered in order and coloured by category, on the walk's areas, paths and
    roads (EPSG:25832)."""
    x, y = geo.to_metric([p[0] for p in points], [p[1] for p in points])
    areas_m = areas.to_crs(geo.METRIC)
    walked = areas_m[areas_m["id"].isin(area_ids)]
    minx, miny, maxx, maxy = shapely.union_all([shapely.MultiPoint(np.column_stack([x, y])),
                                                *walked.geometry]).bounds
    pad = max(60.0, 0.05 * max(maxx - minx, maxy - miny))
    frame = shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)
    fig = Figure(figsize=(7.2, 5.6), dpi=150)
    ax = fig.add_axes((0, 0, 1, 1))
    for name, colour, width in (("roads", "#b0b0b0", 0.6), ("cycle_routes", "#9bbbd4", 0.8), ("paths", "#a08050", 0.9)):
        lines = _metric_layer(name).clip(frame)
        if len(lines):
            lines.plot(ax=ax, color=colour, linewidth=width, zorder=1)
    others = areas_m[~areas_m["id"].isin(area_ids)].clip(frame)
    if len(others):
        others.boundary.plot(ax=ax, color="#999999", linewidth=0.8, linestyle="--", zorder=2)
    if len(walked):
        walked.plot(ax=ax, facecolor="#c0392b18", edgecolor="#c0392b", linewidth=1.6, zorder=2)
    cats = categories()
    colours = [cats[p[2]].colour for p in points]
    ax.scatter(x, y, s=42, c=colours, edgecolors="#222222", linewidths=0.6, zorder=3)
    if len(points) <= 150:
        for i, (px, py) in enumerate(zip(x, y, strict=True), start=1):
            ax.annotate(str(i), (px, py), xytext=(3, 3), textcoords="offset points", fontsize=5.5, zorder=4,
                        color="#111111")
    present = list(dict.fromkeys(p[2] for p in points))
    handles = [ax.scatter([], [], s=42, c=cats[c].colour, edgecolors="#222222", linewidths=0.6,
                          label=cats[c].label(lang)) for c in present]
    ax.legend(handles=handles, loc="upper right", fontsize=6.5, framealpha=0.9)
    _scale_bar(ax, frame.bounds)
    ax.text(0.01, 0.01, t("report.map_attribution", lang), transform=ax.transAxes, fontsize=5, color="#555555")
    ax.set_xlim(frame.bounds[0], frame.bounds[2])
    ax.set_ylim(frame.bounds[1], frame.bounds[3])
    ax.set_aspect("equal")
    ax.set_axis_off()
    return _png(fig)


def _scale_bar(ax, bounds) -> None:
    minx, miny, maxx, maxy = bounds
    length = next(v for v in (1000, 500, 200, 100, 50) if v <= (maxx - minx) / 4) if maxx - minx > 200 else 50
    x0, y0 = minx + 0.04 * (maxx - minx), miny + 0.06 * (maxy - miny)
    ax.plot([x0, x0 + length], [y0, y0], color="#111111", linewidth=2.5, zorder=5)
    ax.text(x0 + length / 2, y0 + 0.012 * (maxy - miny), f"{length} m", ha="center", fontsize=6.5, zorder=5)
    ax.annotate("N", xy=(0.97, 0.12), xytext=(0.97, 0.04), xycoords="axes fraction", ha="center", fontsize=8,
                arrowprops={"arrowstyle": "-|>", "color": "#111111"})


# ------------------------------------------------------------------ half-year summary
@dataclass(frozen=True)
class Period:
    label: str
    start: datetime
    end: datetime  # exclusive


def parse_period(text: str) -> Period:
    """"2017H1" -> 1 January to 30 June 2017 (Copenhagen time); "2017H2" -> July to December."""
    match = _PERIOD.match(text.strip().upper())
    if not match:
        raise BadPeriod(value=text)
    year, half = int(match[1]), int(match[2])
    start = datetime(year, 1 if half == 1 else 7, 1, tzinfo=TZ)
    end = datetime(year, 7, 1, tzinfo=TZ) if half == 1 else datetime(year + 1, 1, 1, tzinfo=TZ)
    return Period(f"{year}H{half}", start, end)


def period_report(span: Period, walks: list[Walk], found: pd.DataFrame, fixes: pd.DataFrame,
                  areas: gpd.GeoDataFrame, lang: str = "da", fmt: str = "html") -> bytes:
    """The half-year summary of `span`: `walks` held, the findings `found` in it (id, walk_id, area_id, category,
    observed_at), and the fixes (services.fixes.fixes_frame): proposed / done / verified in the period and the
    median days from proposal to done and to verified, with charts."""
    per_walk = found["walk_id"].value_counts()
    names = dict(zip(areas["id"], areas["name"], strict=True))
    cats = categories()
    by_area = pd.crosstab(found["area_id"].fillna("").map(lambda a: names.get(a, t("report.no_area", lang))),
                          found["category"]).reindex(columns=[c for c in cats if c in set(found["category"])])
    figures = _fix_figures(fixes, span)
    context = {
        "lang": lang, "t": lambda key, **v: t(key, lang, **v), "period": span,
        "from": date_label(span.start, lang), "to": date_label(span.end - pd.Timedelta(days=1), lang),
        "walks": [{"date": date_label(w.started_at, lang), "title": w.title,
                   "areas": ", ".join(names.get(a, a) for a in w.area_ids),
                   "light": t(f"light.{w.light_condition.value}", lang), "kind": t(f"kind.{w.kind.value}", lang),
                   "participants": sum(o.count for o in w.organisations), "findings": int(per_walk.get(str(w.id), 0))}
                  for w in walks],
        "findings_total": len(found),
        "area_names": list(by_area.index),
        "by_category": [{"category": cats[c].label(lang), "counts": [int(v) for v in by_area[c]],
                         "total": int(by_area[c].sum())} for c in by_area.columns],
        "area_totals": [int(v) for v in by_area.sum(axis=1)],
        "fixes": figures,
        "chart_findings": _data_uri(_stacked_chart(by_area, lang), "image/png") if len(found) else None,
        "chart_fixes": _data_uri(_fix_chart(figures, lang), "image/png"),
        "generated": date_label(datetime.now(TZ), lang),
    }
    return _render("period_report.html.j2", context, fmt)


def _fix_figures(table: pd.DataFrame, span: Period) -> dict:
    """Fixes proposed, done and verified within the period, and the median days from proposal."""
    start, end = pd.Timestamp(span.start), pd.Timestamp(span.end)
    created = pd.to_datetime(table["created_at"], utc=True)

    def within(times: pd.Series) -> pd.Series:
        return (times >= start) & (times < end)

    done, verified = within(table["done_at"]), within(table["verified_at"])
    days_done = (table["done_at"] - created)[done].dt.total_seconds() / 86400
    days_verified = (table["verified_at"] - created)[verified].dt.total_seconds() / 86400
    return {"proposed": int(within(created).sum()), "done": int(done.sum()), "verified": int(verified.sum()),
            "rejected": int((within(pd.to_datetime(table["updated_at"], utc=True))
                             & (table["state"] == State.REJECTED.value)).sum()),
            "median_days_done": _median(days_done), "median_days_verified": _median(days_verified),
            "open": int(table["group"].isin(["open", "planned"]).sum()),
            "overdue": int(table["overdue"].sum())}


def _median(days: pd.Series) -> float | None:
    return round(float(days.median()), 1) if len(days) else None


def _stacked_chart(by_area: pd.DataFrame, lang: str) -> bytes:
    """Findings per area, stacked by category, in the categories' colours."""
    cats = {c.label(lang): c.colour for c in categories().values()}
    labels = {c: categories()[c].label(lang) for c in by_area.columns}
    fig = Figure(figsize=(7.2, 0.45 * len(by_area) + 1.6), dpi=150)
    ax = fig.add_subplot()
    left = np.zeros(len(by_area))
    for column in by_area.columns:
        values = by_area[column].to_numpy()
        ax.barh(by_area.index, values, left=left, color=cats[labels[column]], label=labels[column])
        left += values
    ax.invert_yaxis()
    ax.set_xlabel(t("report.findings", lang))
    ax.legend(fontsize=6.5, ncols=3, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return _png(fig)


def _fix_chart(fixes: dict, lang: str) -> bytes:
    keys = ("proposed", "done", "verified")
    fig = Figure(figsize=(5.0, 2.4), dpi=150)
    ax = fig.add_subplot()
    bars = ax.bar([t(f"report.fixes_{k}", lang) for k in keys], [fixes[k] for k in keys],
                  color=["#7f8c8d", "#2980b9", "#27ae60"])
    ax.bar_label(bars, fontsize=8)
    ax.set_ylim(0, max(1, *(fixes[k] for k in keys)) * 1.15)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_ylabel(t("report.fixes", lang))
    fig.tight_layout()
    return _png(fig)


# ------------------------------------------------------------------ output
def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _data_uri(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def _render(template: str, context: dict, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    html = _TEMPLATES.get_template(template).render(**context)
    if fmt == "html":
        return html.encode("utf-8")
    try:
        from weasyprint import HTML  # heavy, and needs Debian's Pango: loaded only for a PDF
    except OSError as exc:
        raise DkeError("report.error.pdf_unavailable", reason=str(exc)) from None
    return HTML(string=html, base_url=None).write_pdf()


def format_for(path: Path) -> str:
    """html or pdf, from a file name."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix in ("htm", "html"):
        return "html"
    if suffix == "pdf":
        return "pdf"
    raise DkeError("report.error.suffix", name=Path(path).name)
