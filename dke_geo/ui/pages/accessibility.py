"""The accessibility statement (tilgængelighedserklæring, dke_geo/accessibility.py): what was tested and how, what
is known not to work, and whom to contact. Open to everyone, like the public map."""
import streamlit as st

from dke_geo.accessibility import statement
from dke_geo.ui import session
from dke_geo.ui.widgets import plain

lang = session.lang()
content = statement(lang, session.context().settings["DKE_GEO_ACCESSIBILITY_CONTACT"])
st.title(content.title)
for heading, paragraphs, items in content.sections:
    st.subheader(heading)
    for paragraph in paragraphs:
        st.markdown(plain(paragraph))
    if items:
        st.markdown("\n".join(f"- {plain(item)}" for item in items))
