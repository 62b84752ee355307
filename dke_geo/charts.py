"""The planners' charts (Altair) and the per-area table, made from the already filtered findings, so
they always agree with the map. No streamlit here.

Findings need the columns area_id, category, severity, light_condition, observed_at, status and
resolved_at (from the fix workflow: when the finding became resolved, NaT if it is not).
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from dke_geo.categories import categories
from dke_geo.i18n import t
from dke_geo.model import TZ

OUTSIDE = "__outside__"


def _area_names(area_ids: pd.Series, names: dict[str, str], lang: str) -> pd.Series:
    return area_ids.map(names).fillna(t("hotspots.outside_areas", lang))


def _category_scale(lang: str) -> alt.Scale:
    cats = categories().values()
    return alt.Scale(domain=[c.label(lang) for c in cats], range=[c.colour for c in cats])


def by_category_area(findings: pd.DataFrame, names: dict[str, str], lang: str = "da") -> alt.Chart:
    """Findings per category and area: one stacked bar per area, coloured as on the map."""
    cats = categories()
    col_area, col_cat, col_n = (t(f"hotspots.col.{c}", lang) for c in ("area", "category", "count"))
    area_code, area_ids = pd.factorize(findings["area_id"].fillna(OUTSIDE))
    cat_code, cat_ids = pd.factorize(findings["category"])
    n = np.bincount(area_code * len(cat_ids) + cat_code, minlength=len(area_ids) * len(cat_ids))
    pair = np.flatnonzero(n)  # the (area, category) pairs that occur; then labelled
    table = pd.DataFrame({col_area: _area_names(pd.Series(area_ids[pair // len(cat_ids)]), names, lang),
                          col_cat: pd.Series(cat_ids[pair % len(cat_ids)]).map(
                              {c: cat.label(lang) for c, cat in cats.items()}),
                          col_n: n[pair]})
    return (alt.Chart(table, title=t("hotspots.chart_category_area", lang)).mark_bar()
            .encode(x=alt.X(f"{col_n}:Q", title=col_n), y=alt.Y(f"{col_area}:N", sort="-x", title=None),
                    color=alt.Color(f"{col_cat}:N", scale=_category_scale(lang), title=col_cat),
                    tooltip=[col_area, col_cat, col_n]))


def monthly_open_resolved(findings: pd.DataFrame) -> pd.DataFrame:
    """At the end of each month: how many of the findings were recorded and not yet resolved (open or
    planned), and how many were resolved. Columns month, unresolved, resolved.

    >>> import pandas as pd
    >>> when = pd.to_datetime(["2017-04-20", "2017-05-16"]).tz_localize(TZ)
    >>> df = pd.DataFrame({"observed_at": when, "resolved_at": [when[1], pd.NaT]})
    >>> monthly_open_resolved(df)[["unresolved", "resolved"]].values.tolist()
    [[1, 0], [1, 1]]
    """
    if findings.empty:
        return pd.DataFrame({"month": pd.Series(dtype="datetime64[ns]"), "unresolved": [], "resolved": []})
    found = _months(findings["observed_at"])
    resolved = _months(findings["resolved_at"].dropna())
    months = pd.period_range(found.min(), max(found.max(), resolved.max() if len(resolved) else found.max()),
                             freq="M")
    found_n = found.value_counts().reindex(months, fill_value=0).cumsum()
    resolved_n = resolved.value_counts().reindex(months, fill_value=0).cumsum()
    return pd.DataFrame({"month": months.to_timestamp(), "unresolved": (found_n - resolved_n).to_numpy(),
                         "resolved": resolved_n.to_numpy()})


def _months(when: pd.Series) -> pd.Series:
    """Each time's month in Copenhagen (vectorised on datetime64: a million times in milliseconds)."""
    local = pd.to_datetime(when, utc=True).dt.tz_convert(TZ).dt.tz_localize(None).to_numpy()
    return pd.Series(pd.PeriodIndex(local.astype("datetime64[M]"), freq="M"), index=when.index)


def open_resolved(findings: pd.DataFrame, lang: str = "da") -> alt.Chart:
    """Open (not yet resolved) versus resolved findings over time, month by month."""
    col_month, col_series, col_n = (t(f"hotspots.col.{c}", lang) for c in ("month", "series", "count"))
    labels = {"unresolved": t("hotspots.col.open", lang) + " + " + t("hotspots.col.planned", lang).lower(),
              "resolved": t("hotspots.col.resolved", lang)}
    table = (monthly_open_resolved(findings).melt("month", var_name="series", value_name="n")
             .assign(series=lambda d: d["series"].map(labels))
             .rename(columns={"month": col_month, "series": col_series, "n": col_n}))
    return (alt.Chart(table, title=t("hotspots.chart_open_resolved", lang))
            .mark_line(point=True, interpolate="step-after")
            .encode(x=alt.X(f"{col_month}:T", title=col_month, axis=alt.Axis(labelExpr=_month_labels(lang))),
                    y=alt.Y(f"{col_n}:Q", title=col_n),
                    color=alt.Color(f"{col_series}:N", title=col_series,
                                    scale=alt.Scale(domain=list(labels.values()), range=["#d62728", "#2ca02c"])),
                    tooltip=[alt.Tooltip(f"{col_month}:T", format="%m.%Y"), col_series, col_n]))


def _month_labels(lang: str) -> str:
    """A Vega expression naming an axis tick's month in `lang` (Vega's own names are English only), with the year
    at January.

    >>> _month_labels("da")[:40]
    "['jan.', 'feb.', 'mar.', 'apr.', 'maj', "
    """
    names = [t(f"hotspots.month.{m}", lang) for m in range(1, 13)]
    return f"{names}[month(datum.value)] + (month(datum.value) == 0 ? ' ' + year(datum.value) : '')"


def days_to_resolve(findings: pd.DataFrame) -> pd.Series:
    """Days from recording to resolution of each resolved finding."""
    resolved = findings["resolved_at"].notna().to_numpy()
    delta = (pd.to_datetime(findings["resolved_at"][resolved], utc=True)
             - pd.to_datetime(findings["observed_at"][resolved], utc=True))
    return delta.dt.total_seconds() / 86400


def days_to_resolution(findings: pd.DataFrame, lang: str = "da") -> alt.Chart | None:
    """Median days to resolution per category (None when nothing in the filter is resolved)."""
    days = days_to_resolve(findings)
    if days.empty:
        return None
    cats = categories()
    col_cat, col_days, col_n = (t(f"hotspots.col.{c}", lang) for c in ("category", "median_days", "count"))
    frame = pd.DataFrame({"category": findings.loc[days.index, "category"], "days": days})
    table = frame.groupby("category")["days"].agg(["median", "size"]).reset_index()
    table = pd.DataFrame({col_cat: table["category"].map(lambda c: cats[c].label(lang)),
                          col_days: table["median"].round(1), col_n: table["size"]})
    return (alt.Chart(table, title=t("hotspots.chart_median_days", lang)).mark_bar()
            .encode(x=alt.X(f"{col_days}:Q", title=col_days), y=alt.Y(f"{col_cat}:N", sort="-x", title=None),
                    color=alt.Color(f"{col_cat}:N", scale=_category_scale(lang), legend=None),
                    tooltip=[col_cat, col_days, col_n]))


def area_table(findings: pd.DataFrame, reports: pd.DataFrame, names: dict[str, str], lang: str = "da") -> pd.DataFrame:
    """One row per area with findings or reports in the filter: counts by status, serious and
    after-dark findings, reports, and the median days to resolution. Sorted by findings."""
    keys = findings["area_id"].fillna(OUTSIDE)
    area, areas = pd.factorize(keys)
    counted = {"findings": np.ones(len(area), bool), "open": findings["status"].eq("open"),
               "planned": findings["status"].eq("planned"), "resolved": findings["status"].eq("resolved"),
               "serious": findings["severity"].eq(3), "dark": findings["light_condition"].eq("dark")}
    table = pd.DataFrame({name: np.bincount(area, weights=np.asarray(mask, dtype=float), minlength=len(areas))
                          for name, mask in counted.items()}, index=pd.Index(areas, dtype=object)).astype(int)
    table["reports"] = reports["area_id"].fillna(OUTSIDE).value_counts()
    table["median_days"] = days_to_resolve(findings).groupby(keys).median().round(1)
    table = table.reindex(table.index.union(reports["area_id"].fillna(OUTSIDE).unique()))
    counts = ["findings", "open", "planned", "resolved", "serious", "dark", "reports"]
    table[counts] = table[counts].fillna(0).astype(int)
    table = table.sort_values(["findings", "reports"], ascending=False).reset_index(names="area")
    table["area"] = table["area"].map({**names, OUTSIDE: t("hotspots.outside_areas", lang)}).fillna(table["area"])
    return table.rename(columns={c: t(f"hotspots.col.{c}", lang) for c in ["area", *counts, "median_days"]})
