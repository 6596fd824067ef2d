"""`hls4ml build -p` / `hls4ml report -p` (the real hls4ml command) and ModelGraph.build() on
projects written by the LUTNet backend, without vendor tools (open flow)."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lutnet import hls_backend
from lutnet.testing import random_network_ir

HLS4ML = str(Path(sys.executable).with_name('hls4ml'))
VENDOR = [t for t in ('vitis_hls', 'vivado_hls', 'vivado') if shutil.which(t)]


def tiny_ir(seed=0):
    return random_network_ir(seed=seed, n_inputs=6, widths=(4, 2), fan_in=3, bits=2)


def run_cli(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k != 'HLS4ML_BACKEND_PLUGINS'}  # the entry point must do it
    return subprocess.run([HLS4ML, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.skipif(bool(VENDOR), reason=f"vendor tools on PATH ({VENDOR}): the open flow would not run")
@pytest.mark.parametrize('output,method', [('cpp', 'yosys'), ('verilog', 'estimate')])
def test_hls4ml_build_cli_runs_open_flow(tmp_path, output, method):
    if method == 'yosys' and not shutil.which('yosys'):
        pytest.skip('yosys is not installed (make tools)')
    ir = tiny_ir(seed={'cpp': 1, 'verilog': 2}[output])
    hls_backend.convert_ir(ir, output_dir=tmp_path / 'prj', output=output).write()
    assert yaml.safe_load((tmp_path / 'prj' / 'hls4ml_config.yml').read_text())['Backend'] == 'LUTNet'
    r = run_cli('build', '-p', 'prj', '-m', method, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'does not support building projects' not in r.stdout
    assert f'open flow ({method}' in r.stdout
    report = json.loads((tmp_path / 'prj' / 'build_report.json').read_text())
    assert report['flow'] == 'open' and report['method'] == method and report['output'] == output
    assert report['report']['total']['luts'] > 0
    r = run_cli('report', '-p', 'prj', cwd=tmp_path)
    assert r.returncode == 0 and json.loads(r.stdout)['report']['total']['luts'] == report['report']['total']['luts']


def test_hls4ml_build_cli_options_and_errors(tmp_path):
    hls_backend.convert_ir(tiny_ir(), output_dir=tmp_path / 'prj').write()
    r = run_cli('build', '-p', 'prj', '-l', cwd=tmp_path)
    assert r.returncode == 0 and '--method' in r.stdout
    r = run_cli('build', '-p', 'prj', '-m', 'magic', cwd=tmp_path)
    assert r.returncode != 0 and 'magic' in r.stderr
    r = run_cli('report', '-p', 'prj', cwd=tmp_path)
    assert r.returncode != 0 and 'build_report.json not found' in r.stderr


def test_stock_backends_still_reach_the_stock_cli(tmp_path):
    (tmp_path / 'prj').mkdir()
    (tmp_path / 'prj' / 'hls4ml_config.yml').write_text('Backend: Quartus\nProjectName: p\nOutputDir: prj\n')
    r = run_cli('report', '-p', 'prj', cwd=tmp_path)  # stock Quartus reader, not ours
    assert 'build_report.json' not in r.stdout + r.stderr
    (tmp_path / 'prj' / 'hls4ml_config.yml').write_text('Backend: SymbolicExpression\n')
    r = run_cli('build', '-p', 'prj', cwd=tmp_path)
    assert 'Backend SymbolicExpression does not support building projects' in r.stdout


@pytest.mark.skipif(bool(VENDOR), reason=f"vendor tools on PATH ({VENDOR})")
def test_model_build_estimate_and_vendor_required(tmp_path):
    model = hls_backend.convert_ir(tiny_ir(3), output_dir=tmp_path / 'prj')
    report = model.build(method='estimate')
    assert report['flow'] == 'open' and report['method'] == 'estimate'
    assert 'not found on PATH' in report['note']
    assert report['report']['total']['luts'] > 0
    from lutnet.errors import ToolNotFoundError
    with pytest.raises(ToolNotFoundError, match='vitis_hls or vivado_hls is not on PATH'):
        model.build(vendor=True)
    with pytest.raises(ValueError, match="method='fast' is not one of"):
        model.build(method='fast')
