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

# Two pytest-xdist workers, one a core, a test file at a time (which tests run alone:
# tests/conftest.py). Files go out in collection order, not largest first: the long
# docs, e2e and infra files start early and the many short unit files fill in at the
# end, so neither worker is left alone with a long file. Every test still runs in one
# process too (.venv/bin/python -m pytest, or -n 0).
test: bootstrap
	./scripts/install-system-deps
	.venv/bin/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder

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
