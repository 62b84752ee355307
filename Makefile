# dke-geo: two commands for a new user.  `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
PORT ?= 8501

.PHONY: run test install install-dev db lint bench check-system clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip >/dev/null
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

$(DEV_STAMP): requirements-dev.txt $(STAMP)
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

install: $(STAMP)
install-dev: $(DEV_STAMP)

## Prepare the database (migrate). Demo data and demo accounts only into the embedded database while it is brand
## new (no account, no walk); never into one named by DKE_GEO_DATABASE_URL (`python -m dke_geo demo` does that).
db: $(STAMP)
	$(BIN)/python -m dke_geo init-db
	$(BIN)/python -m dke_geo demo --if-empty

## make run: set up everything and start the app on http://localhost:$(PORT)
run: db
	$(BIN)/python -m streamlit run streamlit_app.py --server.port=$(PORT) --server.address=127.0.0.1

## The Debian packages the suite needs (installed by .ci/run): PostGIS, Chromium, GDAL, Pango (PDF reports).
check-system:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql-15-postgis-3"; \
	ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 || missing="$$missing postgresql-15-postgis-3"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	command -v ogrinfo >/dev/null 2>&1 || missing="$$missing gdal-bin python3-gdal"; \
	ldconfig -p | grep -q libpangoft2-1.0 || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	test -x /usr/sbin/nginx || missing="$$missing nginx"; \
	command -v openssl >/dev/null 2>&1 || missing="$$missing openssl"; \
	if [ -n "$$missing" ]; then echo "missing Debian packages:$$missing"; \
	echo "install them with: sudo apt-get update && sudo apt-get install -y$$missing (or run .ci/run)"; exit 1; fi

## make test: install the test tools and run the whole suite (SQLite, PostGIS, browser)
test: $(DEV_STAMP) check-system
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest

lint: $(DEV_STAMP)
	$(BIN)/python -m ruff check .

bench: $(DEV_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache
