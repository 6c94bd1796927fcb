# One task runner. `make demo` and `make test` are the README's two commands:
# each creates the virtual environment and installs what it needs on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

CUSTOMERS ?= 2000
SEED ?= 42
AS_OF ?= 2026-06-30
SCALE ?= S
# Slots of the database-writer limit (tasks/limits.py): 1 for SQLite; with PostgreSQL, the
# concurrent bulk writers the database takes (e.g. LIFECYCLE_PARTITIONS).
WRITERS ?= 1
WRITER_LIMIT := lifecycle-database-writers

# Embedded default: project-local Prefect home, no telemetry (no network here).
export PREFECT_HOME ?= $(CURDIR)/var/prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export GX_ANALYTICS_ENABLED := False
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120

.PHONY: install demo test lint unit contract suites clean bench writer-limit reliability

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,dask]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m flows.demo --customers $(CUSTOMERS) --seed $(SEED) --as-of $(AS_OF)

# The benchmark (S, M or L): reports in var/bench/reports/ (see README, "Performance").
bench: $(STAMP)
	$(BIN)/python -m bench --scale $(SCALE)

# On the server PREFECT_API_URL names: create the database-writer limit, or set its slots to WRITERS.
writer-limit: $(STAMP)
	if $(BIN)/prefect gcl inspect $(WRITER_LIMIT) >/dev/null 2>&1; then \
	  $(BIN)/prefect gcl update $(WRITER_LIMIT) --limit $(WRITERS); \
	else \
	  $(BIN)/prefect gcl create $(WRITER_LIMIT) --limit $(WRITERS); \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The reliability suite (tests marked `reliability`) runs in `make reliability`, not here.
test: lint
	$(BIN)/pytest -m "not reliability"

# Crashes (SIGKILL at named points), faults, malformed input, completeness, tampering and
# leak scans, with a figures table in var/reports/reliability.md (see README, "Reliability").
# The fast fault, tamper and property tests here also run in `make test`; the rest only here.
# The notifier's tests go first: they read apprise's own debug log, which the platform's log
# redaction (installed by the first context a test opens) would otherwise mask.
RELIABILITY_TESTS := \
	tests/integration/test_apprise_notifier.py tests/integration/test_outbox_delivery.py \
	tests/integration/test_task_retries.py \
	tests/integration/test_day_kill.py tests/integration/test_night_kill.py \
	tests/integration/test_malformed_corpus.py tests/integration/test_bad_files.py \
	tests/integration/test_input_completeness.py tests/integration/test_packaged_completeness.py \
	tests/integration/test_store_tamper.py tests/unit/test_privacy_envelope.py tests/unit/test_privacy_fields.py \
	tests/integration/test_erasure_restore.py \
	tests/integration/test_protection_leaks.py tests/integration/test_leak_census.py \
	tests/unit/test_checks.py tests/unit/test_privacy_masking.py tests/unit/test_privacy_redaction.py \
	tests/unit/test_synth_ids.py tests/unit/test_tier_properties.py

reliability: $(STAMP)
	rm -rf var/reports/reliability
	LIFECYCLE_RELIABILITY_FIGURES=$(CURDIR)/var/reports/reliability \
	LIFECYCLE_RELIABILITY_REPORT=$(CURDIR)/var/reports/reliability.md \
		$(BIN)/pytest -p tests.support.reliability_report $(RELIABILITY_TESTS)
	@echo "figures: var/reports/reliability.md"

unit: $(STAMP)
	$(BIN)/pytest tests/unit

contract: $(STAMP)
	$(BIN)/python -m lifecycle.integration.quality.contract --out docs/input-contract.md --readme README.md

suites: $(STAMP)  # the packaged suites, derived again from the packaged sources configuration
	$(BIN)/bank-lifecycle sources suite --all --sources-file lifecycle/config/sources.yaml --suites-dir expectations --write --force

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
