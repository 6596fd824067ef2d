"""LUT IR -> Verilog, bit-exact RTL simulation (Verilator, Icarus), lint, and build reports
(fast estimator, Yosys open flow, Vivado when present).

Public API (used by the hls4ml backend and the CLI):

* ``write_verilog(ir, out_dir, *, pipeline=1, input_reg=False, output_reg=True, table_style="rom",
  top="lutnet_top", overwrite=False) -> VerilogInfo``
* ``simulate(ir, codes, *, simulator="verilator"|"icarus", work_dir=None, **emit_opts) -> ndarray``
* ``lint(out_dir_or_info) -> LintResult``
* ``build_plan(ir, *, method="yosys", jobs=2, cache_dir=None) -> dict``: what a build will run, its
  expected time and how to get the estimate instead (``message``, ``seconds``), before it starts
* ``build_report(ir | ir_file | verilog_dir, *, method="estimate"|"yosys"|"yosys-tables"|"vivado", jobs=2,
  cache_dir=None, progress=True, ...) -> dict`` (with ``progress`` the plan, then ``done/total,
  elapsed, ETA`` lines on stderr), ``format_report(report) -> str``, ``write_report(report, out)``;
  ``"yosys"`` synthesizes the whole design in one run (cached by design), ``"yosys-tables"`` each
  distinct table (cached by table, summed) plus the stage modules
"""
from .emit import VerilogInfo, latency_of, load_info, write_verilog  # noqa: F401
from .lint import LintResult, lint  # noqa: F401
from .report import build_plan, build_report, format_report, write_report  # noqa: F401
from .simulate import SimulationError, simulate, simulate_detailed  # noqa: F401
