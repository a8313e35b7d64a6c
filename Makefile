# tradeloop — the two commands users need are `make demo` and `make test`.
SHELL := /bin/bash
# uv on PATH, else the one `pip install uv` put beside python3 (its bin dir may not be on PATH)
UV ?= $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
export UV_LINK_MODE := copy

.PHONY: install demo test test-fast lint typecheck layers bench bench-peers monitoring soak clean

install:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --frozen --quiet

demo: install
	@$(UV) run --frozen tradeloop demo
	@echo "next: 'source .venv/bin/activate' puts tradeloop on this shell's PATH (or use 'uv run tradeloop ...'); the README's Commands work from here"

lint: install
	@$(UV) run --frozen ruff check src tests
	@$(UV) run --frozen ruff format --check src tests

typecheck: install
	@$(UV) run --frozen mypy

layers: install
	@$(UV) run --frozen lint-imports

test: install lint typecheck layers
	@$(UV) run --frozen pytest -n 2 --dist loadgroup

test-fast: install
	@$(UV) run --frozen pytest -n 2 -m "not slow"

bench: install
	@$(UV) run --frozen tradeloop bench all

# Prometheus and Alertmanager (Debian packages, installed when missing): Prometheus scrapes a
# node started with --api 127.0.0.1:8780 (NODE=HOST:PORT to change) with the rules of
# deploy/prometheus/ and sends its alerts to Alertmanager (deploy/alertmanager/).
monitoring:
	@bash scripts/monitoring.sh

# Nothing lost (docs/nothing-lost.md): 100 SIGKILLs of a live node against the Binance
# emulator, 10,000 venue-fault scenarios; one JSON line each, exit 1 on any problem
soak: install
	@$(UV) run --frozen tradeloop soak kills --runs 100 --seed 1 --json
	@$(UV) run --frozen tradeloop soak faults --scenarios 10000 --seed 1 --json

clean:
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache runs
