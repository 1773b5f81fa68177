# The two commands of the README: `make demo` and `make test`.
# Everything else here serves them. The venv is built from the hashed lock file.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# LiteLLM downloads its price map at import and waits for the network when offline.
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: venv js test lint typecheck pytest demo bench soak notebooks lock clean

venv: $(STAMP)

# uv installs the lock in parallel and checks every hash (`--require-hashes`); uv itself
# comes from the lock too, installed by pip against its hashes. Progress goes to the terminal.
$(STAMP): requirements.lock pyproject.toml
	@echo "Building $(VENV) from requirements.lock (every package checked against its hash)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	awk '/^uv==/ {p = 1} p {print} p && !/\\$$/ {exit}' requirements.lock > $(VENV)/uv-requirement.txt
	$(BIN)/python -m pip install --disable-pip-version-check --require-hashes --no-deps -r $(VENV)/uv-requirement.txt
	$(BIN)/uv pip install --python $(BIN)/python --require-hashes --no-deps -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --no-deps --no-build-isolation --offline -e .
	touch $(STAMP)
	@echo "$(VENV) is ready"

# Cloudflare's own JS clients (tests/integration/interop/js), installed from the committed lockfile.
# Without npm the JS interop tests skip and say why; CI installs Node (.ci/run).
JS_DIR := tests/integration/interop/js
JS_STAMP := $(JS_DIR)/node_modules/.package-lock.json

js: $(JS_STAMP)

$(JS_STAMP): $(JS_DIR)/package.json $(JS_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(JS_DIR) && npm ci --omit=optional --no-audit --no-fund; \
	else \
		echo "npm not found: tests/integration/interop/js will be skipped (install nodejs and npm)"; \
	fi

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy langchain_cf_gateway

# pytest exits 5 when it collects no tests: that is a failure here, never hidden.
pytest: venv js
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

demo: venv
	$(BIN)/cf-aig demo

bench: venv
	$(BIN)/python -m bench

soak: venv
	$(BIN)/python -m tests.integration.reliability.soak

# `make notebooks`: the notebooks' outputs regenerated in place (each executed in a kernel of
# this venv, on its own local gateway: tests/support/notebooks.py, shared with the test), then
# Jupyter Lab on them with a local gateway (`cf-aig serve`) running until Lab exits; the
# notebooks read its URL and admin token from CF_AIG_NOTEBOOK_GATEWAY and
# CF_AIG_LOCAL_MANAGEMENT_TOKEN. `make notebooks LAB=0` only regenerates the outputs (the dev
# venv has all it needs); Jupyter Lab comes from requirements-notebooks.lock, installed once.
LAB ?= 1
NOTEBOOKS_STAMP := $(VENV)/.notebooks-installed
NOTEBOOKS_PORT ?= 8787

$(NOTEBOOKS_STAMP): requirements-notebooks.lock $(STAMP)
	$(BIN)/uv pip install --python $(BIN)/python --require-hashes --no-deps -r requirements-notebooks.lock
	touch $(NOTEBOOKS_STAMP)

ifeq ($(LAB),0)
notebooks: venv
	$(BIN)/python -m tests.support.notebooks
else
notebooks: $(NOTEBOOKS_STAMP)
	$(BIN)/python -m tests.support.notebooks
	export CF_AIG_NOTEBOOK_GATEWAY=http://127.0.0.1:$(NOTEBOOKS_PORT); \
	export CF_AIG_LOCAL_MANAGEMENT_TOKEN=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(24))'); \
	$(BIN)/cf-aig serve --port $(NOTEBOOKS_PORT) & gateway=$$!; \
	trap 'kill $$gateway' EXIT INT TERM; \
	$(BIN)/jupyter lab notebooks
endif

# Regenerate the lock file (needs the registries): `make lock`.
lock: venv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes \
		--python-version 3.11 --python-platform x86_64-manylinux_2_28 -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra notebooks -c requirements.lock \
		--generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
		-o requirements-notebooks.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(JS_DIR)/node_modules
