# Two commands for a fresh machine (see README): `make demo` and `make test`.
# Both create .venv and install what they need, idempotently.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-core
TOOLS_STAMP := $(VENV)/.installed-tools

.PHONY: demo test test-all setup tools bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python requirements/core.txt pyproject.toml
	$(BIN)/pip install -q -r requirements/core.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

# Simulators and synthesis from Debian packages (Verilator 5.006, Icarus 11, Yosys 0.23 on bookworm).
$(TOOLS_STAMP):
	@if ! command -v verilator >/dev/null || ! command -v iverilog >/dev/null || ! command -v yosys >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q verilator iverilog yosys; \
	fi
	@mkdir -p $(VENV) && touch $@

setup: $(STAMP)
tools: $(TOOLS_STAMP)

demo: $(STAMP)
	$(BIN)/lutnet demo

test: $(STAMP) $(TOOLS_STAMP)
	$(BIN)/python -m pytest -q

test-all: $(STAMP) $(TOOLS_STAMP)
	$(BIN)/python -m pytest -q -m ""

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_tables.py

clean:
	rm -rf $(VENV) build *.egg-info
