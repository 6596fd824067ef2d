"""Verification harness: one network, many levels (framework model, IR, ONNX, C++, Verilator,
Icarus, post-synthesis netlist), compared vector by vector with the IR evaluator.

* :func:`check_levels` runs the levels and returns a :class:`Report` locating the first
  disagreement (level, layer, neuron) with a shrunk failing input vector;
* :mod:`lutnet.harness.strategies` holds the Hypothesis strategies for random networks
  (requires ``hypothesis``; imported on demand);
* :mod:`lutnet.harness.postsynth` synthesizes an emitted design with Yosys and simulates the netlist;
* :mod:`lutnet.harness.sanitize` builds the C simulation testbench under ASan/UBSan.

Fast profile: ``pytest tests/harness``; long profile: ``python benchmarks/bench_harness.py``.
"""
from ..vectors import corner_codes, random_input_codes  # noqa: F401
from .check import DEFAULT_LEVELS, Mismatch, Report, check_levels, shrink_vector  # noqa: F401
from .levels import LEVELS, Level, LevelOutput, make_level  # noqa: F401
