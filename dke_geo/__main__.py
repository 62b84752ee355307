"""`python -m dke_geo`: see dke_geo/cli.py."""
from dke_geo.cli import app

app(prog_name="python -m dke_geo")
