# yujing: every command the README uses.
#   make demo   set everything up (venv, Kafka jars) and run the demo (SECURE=1: secured,
#               CONSOLE=1: the operator console stays up afterwards)
#   make test   set everything up and run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: kafka-jars setup demo test test-unit lint schemas broker-start broker-stop broker-status clean

setup: $(VENV)/.installed kafka-jars

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "yujing needs Python 3.11 or newer; found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

kafka-jars: $(VENV)/.installed
	$(BIN)/yujing broker install

# make demo SECURE=1: the same on the local broker with TLS, SCRAM users and ACLs
# make demo CONSOLE=1: then keep the worker up for the console at :6066/console (Ctrl-C)
demo: setup
	$(BIN)/yujing demo$(if $(SECURE), --secure)$(if $(CONSOLE), --console)

test: setup
	$(BIN)/pytest

test-unit: setup
	$(BIN)/pytest -m "not integration"

lint: $(VENV)/.installed
	$(BIN)/ruff check streams schemas tests benchmarks
	$(BIN)/ruff format --check streams schemas tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

schemas: $(VENV)/.installed
	$(BIN)/yujing schemas

broker-start: setup
	$(BIN)/yujing broker start

broker-stop:
	$(BIN)/yujing broker stop

broker-status:
	$(BIN)/yujing broker status

clean:
	-$(BIN)/yujing broker stop
	rm -rf $(VENV) .yujing .pytest_cache .mypy_cache .ruff_cache *.egg-info
