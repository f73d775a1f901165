# The one entry point. Every target installs what it needs first (a fresh machine has nothing).
SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# aws-cdk-lib's jsii runtime warns on this machine's Node 20; the warning is noise here.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: install dev test lint synth build deploy bench clean system-packages

install: $(INSTALLED)

# Real peers the tests start on loopback, from Debian's packages: Dovecot (IMAP) and Chromium
# (the browser that drives the admin console).
system-packages:
	@test -x /usr/sbin/dovecot || { echo "Installing Dovecot (the tests' IMAP server)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd; }
	@test -x /usr/bin/chromium || { echo "Installing Chromium (the console tests' browser)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

$(INSTALLED): pyproject.toml
	@command -v node >/dev/null || { echo "Installing Node.js (the CDK runs on it)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs; }
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	@touch $@

dev: install  ## the local stack in the foreground (ARGS="--demo --port 3000")
	$(VENV)/bin/inbox dev $(ARGS)

test: lint system-packages  ## lint, then every test suite
	$(VENV)/bin/pytest tests/unit tests/integration tests/infrastructure tests/e2e

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

synth: install  ## the CloudFormation template into cdk.out/ (offline; plain source directories as assets)
	$(PYTHON) cdk/app.py

build: install  ## the deployable assets into build/: the layer (with Linux wheels) and each function
	$(PYTHON) scripts/build.py

deploy: build  ## deploy with the CDK CLI (needs AWS credentials)
	npx --yes aws-cdk@2 deploy

bench: install
	@for script in benchmarks/*.py; do echo "== $$script"; $(PYTHON) $$script || exit 1; done

clean:
	rm -rf build cdk.out .inbox .pytest_cache .mypy_cache .ruff_cache
