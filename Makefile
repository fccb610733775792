# The two commands of the README's quick start.
#   make up    run the whole festival pipeline locally, with the live dashboard
#   make test  run the whole test suite (installs what it needs first)
#   make bench run every benchmark, write bench/out/results.json, regenerate
#              docs/benchmarks.md (BENCH_QUICK=1: the quick smoke run)
#   make fuzz  the property-based tests with a long budget (HYPOTHESIS_PROFILE=fuzz)
.PHONY: up test bootstrap lint bench fuzz fuzz-api

bootstrap:
	./scripts/bootstrap

up: bootstrap
	.venv/bin/datapalooza up $(ARGS)

test: bootstrap
	./scripts/install-system-deps
	.venv/bin/python -m pytest

# The gates CI runs after the tests: lint, formatting and types (mypy strict on
# everything that ships; its file list is in pyproject.toml).
lint: bootstrap
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

fuzz: bootstrap
	HYPOTHESIS_PROFILE=fuzz .venv/bin/python -m pytest -p no:cacheprovider tests/unit/test_properties.py
	$(MAKE) fuzz-api

bench: bootstrap
	.venv/bin/python -m bench
	.venv/bin/python -m bench.report

# schemathesis against the dashboard's OpenAPI description, at length (the normal suite
# runs 20 examples per operation and mode, derandomized); `fuzz` may call this.
FUZZ_API_EXAMPLES ?= 1000
fuzz-api: bootstrap
	DATAPALOOZA_FUZZ_EXAMPLES=$(FUZZ_API_EXAMPLES) .venv/bin/python -m pytest -q -s \
		-p no:cacheprovider tests/integration/test_dashboard_api_fuzz.py
