# The two commands of the README's quick start.
#   make up    run the whole festival pipeline locally, with the live dashboard
#   make test  run the whole test suite (installs what it needs first)
#   make bench run every benchmark, write bench/out/results.json, regenerate
#              docs/benchmarks.md (BENCH_QUICK=1: the quick smoke run)
.PHONY: up test bootstrap lint bench

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
	.venv/bin/python -m bench
	.venv/bin/python -m bench.report
