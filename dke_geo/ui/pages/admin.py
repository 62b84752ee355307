"""The administrator's page: accounts and roles. Each action is one call to dke_geo/services/users.py, which
checks the role. Session keys start with `admin_`."""
import pandas as pd
import streamlit as st

from dke_geo.errors import DkeError
from dke_geo.roles import Role
from dke_geo.services import users as user_service
from dke_geo.ui import outbox_admin, session
from dke_geo.ui.session import t
from dke_geo.ui.widgets import message_once, plain

ctx, actor, lang = session.context(), session.actor(), session.lang()
ROLES = [Role.STAFF, Role.PLANNER, Role.ADMIN]
st.title(t("admin.title"))
st.write(t("admin.intro"))
message_once("admin_message")


def _run(call, *args, done: str, **kwargs) -> None:
    """Call a service; its DkeError is shown and the form keeps its input; on success rerun with `done`."""
    try:
        call(ctx, actor, *args, **kwargs)
    except DkeError as exc:
        st.error(exc.message(lang))
    else:
        st.session_state["admin_message"] = done
        st.rerun()


try:
    users = user_service.list_users(ctx, actor)
except DkeError as exc:
    st.error(exc.message(lang))
    st.stop()

st.subheader(t("admin.users"))
st.dataframe(pd.DataFrame({t("admin.name"): [u["name"] for u in users],
                           t("admin.role"): [t(f"role.{u['role']}") for u in users],
                           t("admin.col.email"): [u["email"] or "" for u in users],
                           t("admin.col.active"): [u["active"] for u in users],
                           t("admin.col.demo"): [u["is_demo"] for u in users]}), hide_index=True, width="stretch")

with st.form("admin_add"):
    st.markdown(f"**{t('admin.add')}**")
    name = st.text_input(t("admin.name"), key="admin_add_name")
    role = st.selectbox(t("admin.role"), ROLES, key="admin_add_role", format_func=lambda r: t(f"role.{r.value}"))
    email = st.text_input(t("admin.email"), key="admin_add_email")
    password = st.text_input(t("admin.password"), type="password", key="admin_add_password")
    again = st.text_input(t("admin.password_again"), type="password", key="admin_add_again")
    if st.form_submit_button(t("admin.add")):
        if password != again:
            st.error(t("admin.password_mismatch"))
        elif not password and not email.strip():
            st.error(t("admin.no_login"))
        else:
            _run(user_service.add_user, name, role, password or None, email=email.strip() or None,
                 done=t("admin.added", name=plain(name.strip())))

others = [u["name"] for u in users if u["name"] != actor.name]  # never lock yourself out
if others:
    st.subheader(t("admin.change"))
    who = st.selectbox(t("admin.user"), others, key="admin_user")
    left, right = st.columns(2)
    new_role = left.selectbox(t("admin.role"), ROLES, key="admin_new_role", format_func=lambda r: t(f"role.{r.value}"))
    if left.button(t("admin.set_role"), key="admin_set_role"):
        _run(user_service.set_role, who, new_role,
             done=t("admin.role_set", name=plain(who), role=t(f"role.{new_role.value}")))
    sure = right.checkbox(t("admin.remove_confirm", name=plain(who)), key="admin_remove_sure")
    if right.button(t("admin.remove"), key="admin_remove", disabled=not sure):
        _run(user_service.remove_user, who, done=t("admin.removed", name=plain(who)))

outbox_admin.outbox()
outbox_admin.contacts()
