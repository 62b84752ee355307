"""The staff login page (`/login`, reached from the "Medarbejder-login" link): the login form in the page itself,
not in a sidebar that a tablet keeps closed. A logged-in user is sent on to where the role works."""
import streamlit as st

from dke_geo.ui import auth, navigation, session
from dke_geo.ui.session import t

if session.actor().name:
    navigation.go_to_landing()  # logged in (just now, or already): on to where the role works
st.title(t("nav.login"))
st.caption(t("nav.login_intro"))
auth.login_box()
