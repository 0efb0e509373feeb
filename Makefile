# fieldwatch: `make run` serves the demo county; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FW := $(BIN)/fieldwatch
APT_RUN := postgresql-15-postgis-3
APT_TEST := $(APT_RUN) chromium gdal-bin nginx-light systemd openssl
export FIELDWATCH_INSTANCE ?= $(CURDIR)/instance

.PHONY: run test install install-test system system-test catalogs bench lint i18n

run: install
	$(FW) pg start
	$(FW) db upgrade
	$(FW) demo load
	@echo "fieldwatch: http://127.0.0.1:5000  demo logins admin, leader, member, supervisor, unit; password demo-pass-2026"
	$(FW) serve --host 127.0.0.1 --port 5000

test: install-test
	$(BIN)/python -m pytest -q -ra

install: system $(VENV)/.installed catalogs
install-test: system-test $(VENV)/.installed-test catalogs

# Debian packages: installed with apt when missing (as root, or with sudo).
system:
	@scripts/apt-ensure $(APT_RUN)
system-test:
	@scripts/apt-ensure $(APT_TEST)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(VENV)/.installed $@

catalogs: $(VENV)/.installed
	@$(BIN)/pybabel compile -d translations -f >/dev/null

i18n: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations

lint: install-test
	$(BIN)/ruff check fieldwatch tests
	$(BIN)/ruff format --check fieldwatch tests

bench: install-test
	@scripts/apt-ensure wrk
	$(BIN)/python -m bench $(BENCH_ARGS)
