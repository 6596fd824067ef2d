"""build(): the vendor flow when its tools are on PATH, otherwise the open flow.

* C++ project: Vitis HLS (``vitis_hls``) or Vivado HLS (``vivado_hls``) runs ``build_prj.tcl``;
  the report is parsed with hls4ml's Vivado report parser.
* Verilog project: Vivado (``vivado``) through ``lutnet.rtl.build_report(method="vivado")``.
* Open flow (no vendor tool): ``lutnet.rtl.build_report`` with Yosys (``method="yosys"``) or, when
  Yosys is missing too, lutnet's LUT estimator (``method="estimate"``).

The report (with ``"flow"`` naming what ran) is returned and saved as ``build_report.json``."""
from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

from lutnet.errors import ToolNotFoundError
from lutnet.ir import NetworkIR

from .project import IR_FILE, read_manifest

HLS_TOOLS = ('vitis_hls', 'vivado_hls')
METHODS = ('auto', 'yosys', 'estimate')
REPORT_FILE = 'build_report.json'


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


def _hls_flow(project: Path, tool: str, csim, synth, cosim, export, reset) -> dict:
    from hls4ml.report import parse_vivado_report
    args = f'reset={int(reset)} csim={int(csim)} synth={int(synth)} cosim={int(cosim)} export={int(export)}'
    r = subprocess.run([tool, '-f', 'build_prj.tcl', args], cwd=project, capture_output=True, text=True)
    (project / f'{tool}.log').write_text(r.stdout + r.stderr)
    if r.returncode != 0:
        raise RuntimeError(f"{tool} failed on {project} (exit {r.returncode}); see {project / (tool + '.log')}")
    return {'report': _jsonable(parse_vivado_report(str(project)) or {})}


def _rtl_report(ir: NetworkIR, manifest: dict, method: str, project: Path) -> dict:
    from lutnet.rtl.report import build_report
    opts = {'pipeline': manifest['pipeline']} if manifest.get('pipeline') is not None else {}
    if method == 'vivado':
        opts.update(part=manifest.get('part'), clock_ns=manifest.get('clock_period'), work_dir=project / 'vivado')
    return _jsonable(build_report(ir, method=method, progress=False, **opts))


def _open_flow(ir: NetworkIR, manifest: dict, method: str, project: Path) -> dict:
    if method == 'auto':
        method = 'yosys' if shutil.which('yosys') else 'estimate'
    return {'method': method, 'report': _rtl_report(ir, manifest, method, project)}


def build_project(project_dir, method='auto', vendor='auto', csim=True, synth=True, cosim=False, export=False,
                  reset=True, verbose=True) -> dict:
    """Build a project written by the LUTNet backend.  ``vendor``: ``'auto'`` (use Vitis/Vivado when on
    PATH), ``True`` (require them), ``False`` (open flow only).  ``method`` picks the open flow:
    ``'auto'`` (Yosys if installed, else the estimator), ``'yosys'`` or ``'estimate'``."""
    project = Path(project_dir)
    if method not in METHODS:
        raise ValueError(f"build: method={method!r} is not one of {METHODS}")
    manifest = read_manifest(project)
    output = manifest['output']
    ir = NetworkIR.load(project / IR_FILE)
    tool = vendor_tool(output) if vendor in ('auto', True) else None
    if vendor is True and tool is None:
        wanted = ' or '.join(HLS_TOOLS) if output == 'cpp' else 'vivado'
        raise ToolNotFoundError(f"build(vendor=True): {wanted} is not on PATH; source the Xilinx settings script "
                                f"or use vendor='auto'/False for the open flow")
    t0 = time.perf_counter()
    if tool is not None and output == 'cpp':
        result = {'flow': tool, **_hls_flow(project, tool, csim, synth, cosim, export, reset)}
    elif tool is not None:
        result = {'flow': 'vivado', 'report': _rtl_report(ir, manifest, 'vivado', project)}
    else:
        why = 'Vitis HLS/Vivado HLS' if output == 'cpp' else 'Vivado'
        note = f'{why} not found on PATH' if vendor == 'auto' else 'open flow requested'
        result = {'flow': 'open', **_open_flow(ir, manifest, method, project), 'note': note}
    result.update(project=str(project), output=output, seconds=round(time.perf_counter() - t0, 3))
    (project / REPORT_FILE).write_text(json.dumps(result, indent=1))
    if verbose:
        ran = result['flow'] if result['flow'] != 'open' else f"open flow ({result['method']}; {result['note']})"
        print(f"LUTNet build of {project}: {ran}; report in {project / REPORT_FILE}")
    return result


def read_report(project_dir) -> dict:
    path = Path(project_dir) / REPORT_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run `hls4ml build -p {project_dir}` first")
    return json.loads(path.read_text())
