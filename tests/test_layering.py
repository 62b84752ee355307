"""The core never imports streamlit: only streamlit_app.py and dke_geo/ui/ do."""
import pkgutil
import subprocess
import sys
from pathlib import Path

import dke_geo

ROOT = Path(__file__).resolve().parents[1]


def test_importing_every_core_module_loads_no_streamlit():
    modules = pkgutil.walk_packages(dke_geo.__path__, "dke_geo.")
    core = sorted(m.name for m in modules if not m.name.startswith("dke_geo.ui") and ".migrations" not in m.name
                  and m.name != "dke_geo.__main__")
    assert len(core) > 30
    code = ("import importlib, sys\n"
            f"for name in {core!r}: importlib.import_module(name)\n"
            "print('streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
