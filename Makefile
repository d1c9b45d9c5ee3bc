# The README's two commands are `make docs` and `make test`; everything else here
# is for contributors. Each target sets up what it needs on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SPHINXOPTS ?= -j auto
BUILDDIR ?= _build
STRICT := -W --keep-going -n

.PHONY: docs test lint docs-live docs-linkcheck api openapi bench bench-service lock system-deps-docs system-deps-tests clean

$(BIN)/.installed: requirements/lock.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --editable .
	touch $@

# The site needs only Graphviz; the tests add Node.js, Chromium and PostgreSQL.
system-deps-docs:
	@sh .ci/system-deps docs

system-deps-tests:
	@sh .ci/system-deps tests

docs: $(BIN)/.installed system-deps-docs  ## build the site, strictly, into _build/html
	$(BIN)/sphinx-build $(STRICT) $(SPHINXOPTS) -b html . $(BUILDDIR)/html
	@echo "The site is in $(BUILDDIR)/html/index.html"

test: $(BIN)/.installed system-deps-tests  ## every test: strict build, samples, service, browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(BIN)/.installed  ## ruff (lint and format) over the code, mypy over the extension
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

docs-live: $(BIN)/.installed system-deps-docs  ## rebuild and reload in the browser on every save
	$(BIN)/sphinx-autobuild $(STRICT) . $(BUILDDIR)/live --watch _ext --port 8001

docs-linkcheck: $(BIN)/.installed system-deps-docs  ## internal links and anchors (no network here)
	$(BIN)/sphinx-build $(STRICT) -b linkcheck . $(BUILDDIR)/linkcheck

# Development mode: without JWT_SECRET the service signs tokens with a random key made
# at start-up. WORKERS=4 DATABASE_URL=postgresql+psycopg://... runs several processes.
WORKERS ?= 1
api: $(BIN)/.installed  ## run the reference service on http://127.0.0.1:8000
	$(BIN)/python -m reference_api --dev --workers $(WORKERS)

openapi: $(BIN)/.installed  ## regenerate api-examples/openapi.json from the app
	$(BIN)/python -m reference_api export-openapi

bench: $(BIN)/.installed system-deps-docs  ## build times at 1-207 agents (needs ../shared/corpus)
	$(BIN)/python bench/build_times.py

# The service under load (api-examples/service-performance.md). wrk is not a test
# dependency, so it is asked for here rather than installed by system-deps.
# BENCH_ARGS="--label after --record" writes the figures into bench/service_load.json.
bench-service: $(BIN)/.installed system-deps-tests  ## the reference service under wrk load, SQLite and PostgreSQL
	@command -v wrk >/dev/null 2>&1 || { echo "bench-service needs wrk (Debian/Ubuntu: sudo apt-get install wrk)" >&2; exit 1; }
	$(BIN)/python bench/service_load.py $(BENCH_ARGS)

lock: $(BIN)/.installed  ## re-resolve every pinned dependency to its newest allowed release
	$(BIN)/uv pip compile pyproject.toml --extra site --extra service --extra test --extra dev \
		--universal --python-version 3.11 --upgrade --quiet -o requirements/lock.txt

clean:
	rm -rf $(BUILDDIR)
