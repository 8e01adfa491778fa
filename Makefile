# IAMWatch: `make run` (dashboard with demo data), `make test` (the whole suite), `make bench`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install system-packages run test lint bench fuzz clean

install: system-packages $(STAMP)
	@./scripts/ensure-secret-key .env

# Debian packages the test suite starts for real (PostgreSQL); installed only where missing.
system-packages:
	@./scripts/install-system-packages

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	EMAIL_URL=dummymail:// IAMWATCH_KNOWN_NETWORKS=203.0.113.0/24 $(PY) manage.py load_demo  # the demo's alerts go nowhere
	@echo "IAMWatch on http://$(HOST):$(PORT)/ (Ctrl-C stops it)"
	@echo "(demo only: two-factor login is off; production requires it for reviewers and admins)"
	IAMWATCH_REQUIRE_2FA=false IAMWATCH_KNOWN_NETWORKS=203.0.113.0/24 $(VENV)/bin/gunicorn --bind $(HOST):$(PORT) --workers 2 --access-logfile - iamwatch.wsgi

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/bandit -q -r staff accounts signin people audits cloudtrail identitycenter reviews dashboard demo iamwatch -x '*/migrations/*'
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy staff accounts signin people audits cloudtrail identitycenter reviews dashboard demo iamwatch

test: install lint
	$(PY) -m tests.run

# The parsers fuzzed at length (Hypothesis' "fuzz" profile: 20,000 examples each); make test runs a short, seeded pass.
fuzz: install
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest tests/fuzz -q -p no:cacheprovider

bench: install
	$(PY) bench/bench_import.py
	$(PY) bench/bench_fleet.py
	BENCH_ACCOUNTS=500 $(PY) bench/bench_dashboard.py
	BENCH_ACCOUNTS=2000 $(PY) bench/bench_dashboard.py
	$(PY) bench/bench_cloudtrail.py
	$(PY) bench/bench_cloudtrail_read.py
	$(PY) bench/bench_root_push.py
	$(PY) bench/bench_eager_run_all.py
	$(PY) bench/bench_identity_center.py

clean:
	rm -rf $(VENV) staticfiles test-artifacts .pytest_cache .ruff_cache
