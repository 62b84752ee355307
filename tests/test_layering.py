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


LINT_IMPORTS = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                "sys.exit(lint_imports_command())", "--no-logo", "--no-cache"]


def test_layer_contracts_hold():
    """ui -> services -> store/maps/charts/interop -> model/geo/density -> leaves, SQL only in the store, services
    draw nothing, interop is format code (pyproject.toml [tool.importlinter], checked by import-linter)."""
    out = subprocess.run(LINT_IMPORTS, cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_an_upward_import_breaks_the_layers(tmp_path):
    """The contract catches what it is meant to: a store module importing a service is reported."""
    import shutil
    copy = tmp_path / "src"
    shutil.copytree(ROOT / "dke_geo", copy / "dke_geo", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    with (copy / "dke_geo" / "store" / "walks.py").open("a") as f:
        f.write("\nfrom dke_geo.services import recording  # noqa\n")
    out = subprocess.run(LINT_IMPORTS, cwd=copy,
                         capture_output=True, text=True, env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 1 and "dke_geo.store.walks -> dke_geo.services.recording" in out.stdout, out.stdout
