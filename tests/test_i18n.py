"""One strings table, complete in both languages; every setting documented."""
import re
import string
from pathlib import Path

from dke_geo import config
from dke_geo.i18n import LANGUAGES, t, table

ROOT = Path(__file__).resolve().parents[1]


def test_every_string_exists_in_danish_and_english_with_the_same_placeholders():
    fields = string.Formatter()
    for key, texts in table().items():
        assert set(texts) == set(LANGUAGES), key
        assert all(texts[lang].strip() for lang in LANGUAGES), key
        names = [{f for _, f, _, _ in fields.parse(texts[lang]) if f} for lang in LANGUAGES]
        assert names[0] == names[1], key


def test_danish_is_the_default():
    assert t("app.title") == "Områdevandringer"
    assert t("app.title", "en") == "Area walks"


def test_every_key_used_in_code_exists():
    used = set()
    for path in (ROOT / "dke_geo").rglob("*.py"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""", path.read_text()))
    used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""", (ROOT / "streamlit_app.py").read_text()))
    missing = sorted(k for k in used if k not in table())
    assert not missing


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for setting in config.SETTINGS:
        assert f"`{setting.name}`" in readme, setting.name
        assert setting.help


def test_categories_have_both_labels_icon_and_colour():
    from dke_geo.categories import categories
    cats = categories()
    required = {"lighting": "Belysning", "signage": "Skiltning", "overgrowth": "Bevoksning", "graffiti": "Graffiti",
                "vandalism": "Hærværk", "litter": "Skrald og affald",
                "hiding_places": "Skjulesteder og dårligt udsyn", "paths": "Stier og belægning",
                "good_place": "Godt sted", "other": "Andet"}
    for cid, da in required.items():
        assert cats[cid].da == da
        assert cats[cid].en and cats[cid].icon and re.fullmatch(r"#[0-9a-fA-F]{6}", cats[cid].colour)
