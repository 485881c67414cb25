# Common tasks. `make run` and `make test` need nothing installed by hand.
.PHONY: run test setup setup-dev lint typecheck bench migrate worker relay app clean

PY := .venv/bin/python

setup:
	@bash devtools/bootstrap.sh

setup-dev:
	@bash devtools/bootstrap.sh --dev

run: setup            ## the app, a worker and the relay, on embedded Postgres/Redis unless configured
	@$(PY) -m devtools.run

test: setup-dev       ## the whole suite on real Postgres, Redis, RQ workers and Chromium
	@$(PY) -m devtools.testenv $(ARGS)

lint: setup-dev       ## ruff, then copied code (pylint duplicate-code, settings in pyproject.toml)
	@.venv/bin/ruff check . && .venv/bin/ruff format --check .
	@.venv/bin/pylint backend tenants pharmacy_saas

typecheck: setup-dev
	@.venv/bin/mypy backend tenants

bench: setup-dev      ## RLS overhead, sales and OCR benchmarks (print tables)
	@$(PY) -m devtools.testenv --bench

migrate: setup
	@.venv/bin/pharmacy-saas db upgrade

worker: setup
	@.venv/bin/pharmacy-saas worker

relay: setup
	@.venv/bin/pharmacy-saas relay

clean:                ## forget local data (embedded Postgres and Redis) and build output
	rm -rf .data .web .states
