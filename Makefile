# The two commands of the README's quick start.
#   make up    run the whole festival pipeline locally, with the live dashboard
#   make test  run the whole test suite (installs what it needs first)
.PHONY: up test bootstrap lint bench fuzz-api

bootstrap:
	./scripts/bootstrap

up: bootstrap
	.venv/bin/datapalooza up $(ARGS)

test: bootstrap
	./scripts/install-system-deps
	.venv/bin/python -m pytest

lint: bootstrap
	.venv/bin/ruff check .
	.venv/bin/mypy

bench: bootstrap
	.venv/bin/python bench/endpoint.py

# schemathesis against the dashboard's OpenAPI description, at length (the normal suite
# runs 20 examples per operation and mode, derandomized); `fuzz` may call this.
FUZZ_API_EXAMPLES ?= 1000
fuzz-api: bootstrap
	DATAPALOOZA_FUZZ_EXAMPLES=$(FUZZ_API_EXAMPLES) .venv/bin/python -m pytest -q -s \
		-p no:cacheprovider tests/integration/test_dashboard_api_fuzz.py
