"""The planner's publishing page: pick a walk and a finding, write or accept its public text, publish or
unpublish it, approve its photos one by one; or publish a whole walk. Each action is one call to
dke_geo/services/public.py, which checks the role and records it. Session keys start with `publish_`."""
import pandas as pd
import streamlit as st

from dke_geo import photos as photo_files
from dke_geo.errors import DkeError
from dke_geo.services import public
from dke_geo.ui import session
from dke_geo.ui.session import t
from dke_geo.ui.widgets import message_once, plain

ctx, actor, lang = session.context(), session.actor(), session.lang()
st.title(t("publish.title"))
st.info(t("publish.intro"))
message_once("publish_message")


def _run(call, *args, done: str | None = None, **kwargs):
    """Call a service; show its DkeError as a message (the form keeps its input); on success rerun."""
    try:
        result = call(ctx, actor, *args, **kwargs)
    except DkeError as exc:
        st.error(exc.message(lang))
        return None
    if done is not None:
        st.session_state["publish_message"] = done.format(n=result)
        st.rerun()  # the finding stays chosen (it is kept in the list below), so the next tap acts on it again
    return result


try:
    everything = public.queue(ctx, actor, lang=lang)
except DkeError as exc:
    st.error(exc.message(lang))
    st.stop()

walks = everything.dropna(subset=["walk_id"]).drop_duplicates("walk_id")
titles = dict(zip(walks["walk_id"], walks["walk_title"], strict=True))
left, right = st.columns(2)
walk_id = left.selectbox(t("publish.walk"), [None, *titles], key="publish_walk",
                         format_func=lambda w: t("publish.all_walks") if w is None else titles[w])
shown = right.segmented_control(t("publish.show"), ["unpublished", "published", "all"], key="publish_filter",
                                default="unpublished", format_func=lambda k: t(f"publish.filter.{k}"))
table = everything if walk_id is None else everything[everything["walk_id"] == walk_id]
if walk_id is not None:
    waiting = int((~table["published"].astype(bool)).sum())
    if waiting and st.button(t("publish.publish_walk", n=waiting), key="publish_walk_all", help=t("publish.walk_help")):
        st.session_state["publish_confirm_walk"] = walk_id  # many findings at once: asked for first
    if waiting and st.session_state.get("publish_confirm_walk") == walk_id:
        st.warning(t("publish.walk_confirm", n=waiting, walk=plain(titles[walk_id])))
        yes, no = st.columns(2)
        if yes.button(t("publish.walk_confirm_yes", n=waiting), key="publish_walk_yes", type="primary",
                      width="stretch"):
            st.session_state.pop("publish_confirm_walk", None)
            _run(public.publish_walk, walk_id, lang=lang, done=t("publish.walk_done", n="{n}"))
        no.button(t("publish.walk_confirm_no"), key="publish_walk_no", width="stretch",
                  on_click=st.session_state.pop, args=("publish_confirm_walk", None))
if shown != "all":  # the finding being worked on stays in the list after it is published or withdrawn
    table = table[(table["published"].astype(bool) == (shown == "published"))
                  | (table["id"] == st.session_state.get("publish_finding"))]
if table.empty:
    st.info(t("publish.none"))
    st.stop()

st.dataframe(pd.DataFrame({
    t("public.col.month"): table["month"], t("public.col.area"): table["area"],
    t("public.col.category"): table["category_label"], t("publish.col.published"): table["published"].astype(bool),
    t("publish.col.photos"): [f"{n} ({a})" for n, a in zip(table["n_photos"], table["n_approved"], strict=True)],
    t("publish.internal_note"): table["internal_note"].fillna(""),
    t("publish.public_text"): table["public_text"].fillna(""),
    t("publish.col.walk"): table["walk_title"]}), hide_index=True, width="stretch", height=280)

rows = table.set_index("id")


def _short(i: str) -> str:
    """The finding in a few words: category, area, time, and the start of its id."""
    r = rows.loc[i]
    return f"{r['category_label']} · {r['area']} · {r['observed_at']:%d.%m.%Y %H:%M} · #{i[:6]}"


def _label(i: str) -> str:
    note = rows.loc[i, "internal_note"]
    return f"{_short(i)} · {str(note or '')[:60]}"


obs_id = st.selectbox(t("publish.pick"), list(rows.index), key="publish_finding", format_func=_label)
row = rows.loc[obs_id]
st.markdown(f"**{t('publish.state_published' if row['published'] else 'publish.state_unpublished')}**")
st.caption(t("publish.internal_note"))
st.text(row["internal_note"] or "—")
suggestion = public.suggested_text(ctx, actor, obs_id, lang)
st.caption(t("publish.suggested", text=plain(suggestion)))
text_key = f"publish_text_{obs_id}"
st.session_state.setdefault(text_key, row["public_text"] or suggestion)
if st.button(t("publish.use_suggestion"), key=f"publish_suggest_{obs_id}"):
    st.session_state[text_key] = suggestion
text = st.text_area(t("publish.public_text"), key=text_key, height=100)
suggestion_en = public.suggested_text(ctx, actor, obs_id, "en")
st.caption(t("publish.suggested_en", text=plain(suggestion_en)))
text_en_key = f"publish_text_en_{obs_id}"
st.session_state.setdefault(text_en_key, row["public_text_en"])
if st.button(t("publish.use_suggestion_en"), key=f"publish_suggest_en_{obs_id}"):
    st.session_state[text_en_key] = suggestion_en
text_en = st.text_area(t("publish.public_text_en"), key=text_en_key, height=100, help=t("publish.public_text_en_help"))
one, two = st.columns(2)
if one.button(t("publish.do_update" if row["published"] else "publish.do_publish"), key="publish_do",
              type="primary", width="stretch"):
    _run(public.publish, obs_id, text, lang=lang, public_text_en=text_en, done=t("publish.published"))
if row["published"] and two.button(t("publish.do_unpublish"), key="publish_undo", width="stretch"):
    _run(public.unpublish, obs_id, done=t("publish.unpublished"))

photos = public.finding_photos(ctx, actor, obs_id)
if photos:
    st.subheader(t("public.photos"))
    for photo, column in zip(photos, st.columns(max(len(photos), 1)), strict=False):
        with column:
            path = photo_files.file(photo["thumb_path"] or photo["full_path"])
            if path.exists():
                st.image(str(path))
            else:
                st.warning(t("publish.photo_missing"))
            approved = st.checkbox(t("publish.photo_approve_for", finding=_short(obs_id)),
                                   value=bool(photo["public_approved"]), key=f"publish_photo_{photo['id']}")
            if approved != bool(photo["public_approved"]):
                _run(public.approve_photo, photo["id"], approved)

history = public.history(ctx, actor, obs_id)
if history:
    with st.expander(t("publish.history")):
        st.dataframe(pd.DataFrame({t("publish.col.when"): [h["at"] for h in history],
                                   t("publish.col.by"): [h["by"] for h in history],
                                   t("publish.col.action"): [t(f"publish.action.{h['action']}") for h in history],
                                   t("publish.public_text"): [h["public_text"] for h in history]}),
                     hide_index=True, width="stretch")
