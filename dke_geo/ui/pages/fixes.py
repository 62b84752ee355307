"""The fix board: every solution proposal as a table and as columns by state, filtered by area,
organisation, walk and overdue; figures per organisation and category; CSV export; a new proposal from
chosen findings. `?fix=<id>` opens the fix page (dke_geo/ui/fix_view.py)."""
import pandas as pd
import streamlit as st

from dke_geo import organisations
from dke_geo.categories import categories
from dke_geo.errors import DkeError
from dke_geo.lifecycle import State
from dke_geo.model import Priority
from dke_geo.roles import Permission
from dke_geo.services import fixes as svc
from dke_geo.services import notifications
from dke_geo.ui import fix_view, session
from dke_geo.ui.fix_view import money, when
from dke_geo.ui.session import t
from dke_geo.ui.widgets import plain

ctx, actor, lang = session.context(), session.actor(), session.lang()
orgs = organisations.responsible()  # the board filters and the new-proposal form offer these


def _open(fix_id: str) -> None:
    st.session_state.pop(f"fixes_seen_{fix_id}", None)  # the fix page starts from the version it shows now
    st.query_params["fix"] = fix_id


if st.query_params.get("fix"):
    fix_view.show(st.query_params["fix"])
    st.stop()

st.title(t("fixes.title"))
st.caption(t("fixes.intro"))
choices = svc.board_choices(ctx, actor)
c_area, c_org, c_walk, c_overdue = st.columns([2, 2, 3, 1.2], vertical_alignment="bottom")
area = c_area.selectbox(t("fixes.filter.area"), list(choices.areas), index=None, key="fixes_area",
                        placeholder=t("fixes.filter.all"), format_func=choices.areas.get)
org = c_org.selectbox(t("fixes.filter.organisation"), list(orgs), index=None, key="fixes_org",
                      placeholder=t("fixes.filter.all"), format_func=lambda o: orgs[o].label(lang))
walk = c_walk.selectbox(t("fixes.filter.walk"), list(choices.walks), index=None, key="fixes_walk",
                        placeholder=t("fixes.filter.all"), format_func=choices.walks.get)
overdue_only = c_overdue.toggle(t("fixes.filter.overdue"), key="fixes_overdue")
table = svc.fixes_frame(ctx, actor, area=area, organisation=org, walk_id=walk, overdue_only=overdue_only)
st.markdown(t("fixes.count", n=len(table), overdue=int(table["overdue"].sum())))
delivery = notifications.delivery(ctx, actor)
if not delivery.configured:
    st.warning(t("fixes.messages.not_configured", n=delivery.queued), icon="✉️")
if delivery.failed:
    st.warning(t("fixes.messages.failed", n=delivery.failed), icon="⚠️")

tab_names = ["fixes.tab.table", "fixes.tab.columns", "fixes.tab.figures"]
if actor.can(Permission.MANAGE_FIXES):
    tab_names.append("fixes.tab.new")
tabs = st.tabs([t(n) for n in tab_names])


def _org_label(org_id: str) -> str:
    return organisations.label(org_id, lang) if org_id else t("fixes.unassigned")


def _last_message(fix_id: str) -> str:
    """The fix's newest message: what, when, delivered or not."""
    row = latest.get(fix_id)
    if row is None:
        return ""
    kind, state = t(f"notify.kind.{row['kind']}"), t(f"notify.state.{row['state']}")
    return f"{kind} · {when(row['sent_at'] if row['state'] == 'sent' else row['created_at'])} · {state}"


latest = delivery.latest.set_index("fix_id").to_dict("index")


with tabs[0]:
    if table.empty:
        st.info(t("fixes.none"))
    else:
        shown = pd.DataFrame({
            t("fixes.col.title"): table["title"],
            t("fixes.col.state"): [t(f"fixes.state.{s}") for s in table["state"]],
            t("fixes.col.organisation"): table["organisation"].map(_org_label),
            t("fixes.col.due_date"): table["due_date"].map(lambda d: when(d) if d else ""),
            t("fixes.col.overdue"): table["overdue"].map(lambda o: "⚠ " + t("fixes.overdue") if o else ""),
            t("fixes.col.priority"): [t(f"fixes.priority.{p}") for p in table["priority"]],
            t("fixes.col.cost_dkk"): table["cost_dkk"].map(money),
            t("fixes.col.areas"): table["area_ids"].map(lambda ids: ", ".join(choices.areas.get(a, a) for a in ids)),
            t("fixes.col.findings"): table["observation_ids"].map(len),
            t("fixes.col.message"): table["id"].map(_last_message),
        })
        overdue_style = "background-color:#fde2e1;color:#8b0000"
        styled = shown.style.apply(lambda row: [overdue_style if table.loc[row.name, "overdue"] else ""] * len(row),
                                   axis=1)
        picked = st.dataframe(styled, hide_index=True, width="stretch", on_select="rerun",
                              selection_mode="single-row", key="fixes_table")
        st.caption(t("fixes.select_hint"))
        if picked.selection.rows:
            _open(table.loc[picked.selection.rows[0], "id"])
            st.rerun()
    st.download_button(t("fixes.export"), svc.to_csv(table, lang), file_name="loesningsforslag.csv",
                       mime="text/csv", key="fixes_csv", icon="⬇️")

with tabs[1], st.container(key="fixes_columns"):  # app.css wraps the columns on a narrow screen
    for col, state in zip(st.columns(len(State)), State, strict=True):
        in_state = table[table["state"] == state.value]
        with col:
            st.markdown(f"**{t(f'fixes.state.{state.value}')}** ({len(in_state)})")
            for row in in_state.itertuples():
                with st.container(border=True):
                    st.markdown(plain(row.title))
                    st.caption(plain(_org_label(row.organisation)))
                    if row.overdue:
                        st.markdown(f":red[**⚠ {t('fixes.overdue_since', date=when(row.due_date))}**]")
                    elif row.due_date:
                        st.caption(t("fixes.due", date=when(row.due_date)))
                    st.button(t("fixes.open"), key=f"fixes_open_{row.id}", on_click=_open, args=(row.id,),
                              width="stretch")

with tabs[2]:
    st.caption(t("fixes.figures.help"))
    figure_cols = {c: t(f"fixes.col.{c}") for c in ("fixes", "open", "overdue", "median_days_to_done",
                                                     "median_days_to_verified")}
    for by, title, label in (("organisation", "fixes.figures.by_organisation", _org_label),
                             ("category", "fixes.figures.by_category",
                              lambda c: categories()[c].label(lang) if c in categories() else c)):
        st.subheader(t(title))
        figs = svc.figures(table, by) if len(table) else pd.DataFrame(columns=[by, *figure_cols])
        figs[by] = figs[by].map(label)
        st.dataframe(figs.rename(columns={by: t(f"fixes.col.{by}"), **figure_cols}), hide_index=True, width="stretch")

if actor.can(Permission.MANAGE_FIXES):
    with tabs[3]:
        st.caption(t("fixes.new.pick"))
        if not (area or walk):
            st.info(t("fixes.new.need_area"))
        else:
            found = svc.candidate_findings(ctx, actor, area=area, walk_id=walk)
            cats = categories()
            picked = st.dataframe(pd.DataFrame({
                t("fixes.col.category"): [cats[c].label(lang) for c in found["category"]],
                t("fixes.col.severity"): [t(f"severity.{s}") for s in found["severity"]],
                t("fixes.col.observed_at"): found["observed_at"].map(when),
                t("fixes.col.status"): [t(f"fixes.group.{s}") for s in found["status"]],
                t("fixes.col.note"): found["internal_note"].fillna(""),
            }), hide_index=True, width="stretch", on_select="rerun", selection_mode="multi-row",
                key="fixes_new_findings", height=320)
            chosen = found.loc[picked.selection.rows, "id"].tolist()
            st.markdown(t("fixes.new.picked", n=len(chosen)))
            with st.form("fixes_new", border=True):
                data = {
                    "title": st.text_input(t("fixes.new.title"), max_chars=200),
                    "description": st.text_area(t("fixes.new.description"), max_chars=4000),
                    "organisation": st.selectbox(t("fixes.filter.organisation"), list(orgs), index=None,
                                                 format_func=lambda o: orgs[o].label(lang)),
                    "contact_role": st.text_input(t("fixes.new.contact_role"), max_chars=200),
                    "due_date": st.date_input(t("fixes.new.due_date"), None, format="DD.MM.YYYY"),
                    "cost_dkk": st.number_input(t("fixes.new.cost"), min_value=0, value=None, step=500),
                    "priority": st.selectbox(t("fixes.col.priority"), [p.value for p in Priority], index=1,
                                             format_func=lambda p: t(f"fixes.priority.{p}")),
                }
                submitted = st.form_submit_button(t("fixes.new.submit"), type="primary")
            if submitted:
                try:
                    fix = svc.create_fix(ctx, actor, {**data, "observation_ids": chosen})
                except DkeError as exc:
                    st.error(exc.message(lang))
                else:
                    st.session_state["fixes_flash"] = t("fixes.new.created", title=plain(fix.title))
                    _open(str(fix.id))
                    st.rerun()
