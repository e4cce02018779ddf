# Recobro: `make demo` and `make test` are the two commands; the rest are their parts.
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS)/bin/uv)
RUN := $(UV) run --frozen
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test setup migrate lint format bench bench-import bench-cases bench-cycle e2e-deps messages

$(TOOLS)/bin/uv:
	@echo "uv not found: installing it into $(TOOLS)/ with pip"
	$(PYTHON) -m venv $(TOOLS) 2>/dev/null && $(TOOLS)/bin/pip install -q uv \
	  || { $(PYTHON) -m pip install -q --user --break-system-packages uv \
	       && mkdir -p $(TOOLS)/bin && ln -sf "$$($(PYTHON) -m site --user-base)/bin/uv" $(TOOLS)/bin/uv; }

setup: $(UV)
	$(UV) sync --frozen
	@mkdir -p var

migrate: setup
	$(RUN) recobro migrate --noinput

demo: migrate
	$(RUN) recobro load_demo $(DEMO_ARGS)
	@echo ""
	@echo "Recobro is serving at http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	$(RUN) recobro runserver $(HOST):$(PORT) --noreload

test: setup
	$(RUN) pytest $(PYTEST_ARGS)

lint: setup
	$(RUN) ruff check .

format: setup
	$(RUN) ruff format src tests bench
	$(RUN) ruff check --fix .

bench: bench-import bench-cases bench-cycle

bench-import: setup
	$(RUN) python bench/bench_import.py

bench-cases: setup
	$(RUN) python bench/bench_cases.py

bench-cycle: setup
	$(RUN) python bench/bench_cycle.py $(BENCH_ARGS)

e2e-deps:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# Extract and compile translations (needs GNU gettext; the compiled .mo files are committed).
messages: setup
	mkdir -p src/recobro/locale
	cd src/recobro && $(abspath $(UV)) run --frozen --project $(CURDIR) recobro makemessages \
	  -l es -l en --no-obsolete --ignore 'locale/*'
	cd src/recobro && $(abspath $(UV)) run --frozen --project $(CURDIR) recobro compilemessages
