"""compile() and the batched predict() of both outputs."""
from __future__ import annotations

import ctypes
import shutil
import subprocess
import uuid
from pathlib import Path

import numpy as np
import numpy.ctypeslib as npc

from lutnet.errors import ToolNotFoundError

from .graph_ir import lut_structure, network_ir


def _output(model) -> str:
    return model.config.config['LUTNetConfig']['Output']


def compile_model(model):
    out = Path(model.config.get_output_dir()).resolve()
    if _output(model) == 'verilog':
        return _compile_verilator(model, out)
    if shutil.which('g++') is None:
        raise ToolNotFoundError("g++ is not on PATH: the C simulation of the LUTNet backend needs it "
                                "(Debian/Ubuntu: sudo apt-get install g++)")
    project = model.config.get_project_name()
    for old in (out / 'firmware').glob(f'{project}-*.so'):
        old.unlink()
    stamp = uuid.uuid4().hex[:8]
    r = subprocess.run(['bash', str(out / 'build_lib.sh'), stamp], cwd=out, capture_output=True, text=True)
    if r.returncode != 0:
        (out / 'build_lib.log').write_text(r.stdout + r.stderr)
        tail = '\n'.join((r.stdout + r.stderr).strip().splitlines()[-20:])
        raise RuntimeError(f"g++ failed building the C simulation of {out} (log: {out / 'build_lib.log'}):\n{tail}")
    return str(out / 'firmware' / f'{project}-{stamp}.so')


def _compile_verilator(model, out: Path):
    from lutnet.rtl.simulate import prepare_simulator

    from .writer import verilog_options
    lcfg = model.config.config['LUTNetConfig']
    sim_dir, info, _, _ = prepare_simulator(network_ir(model), simulator=lcfg.get('Simulator', 'verilator'),
                                            work_dir=out / 'sim', **verilog_options(model.config.config))
    model._lutnet_sim = (sim_dir, info)
    return None  # no C library: predict() runs the RTL simulator (hls4ml's ctypes loader gets the main program)


def run_codes(model, codes: np.ndarray, ir, has_argmax: bool) -> np.ndarray:
    """Outputs of the compiled firmware/RTL for input codes (N, n_inputs): output codes (N, n_outputs),
    or (N, 1) class indices from the C++ argmax."""
    if _output(model) == 'verilog':
        from lutnet.rtl.simulate import run_simulator
        if getattr(model, '_lutnet_sim', None) is None:
            raise RuntimeError("the model is not compiled: call compile() before predict()")
        sim_dir, info = model._lutnet_sim
        lcfg = model.config.config['LUTNetConfig']
        out, _, _ = run_simulator(sim_dir, info, ir, codes, lcfg.get('Simulator', 'verilator'))
        return out
    lib = model._top_function_lib
    if lib is None:
        raise RuntimeError("the model is not compiled: call compile() before predict()")
    q = ir.input_quant
    if codes.size and (codes.min() < q.code_min or codes.max() > q.code_max):
        raise ValueError(f"input codes must lie in [{q.code_min}, {q.code_max}]")
    fn = getattr(lib, model.config.get_project_name() + '_batch')
    fn.restype = None
    fn.argtypes = [npc.ndpointer(np.int32, flags='C_CONTIGUOUS'), npc.ndpointer(np.int32, flags='C_CONTIGUOUS'),
                   ctypes.c_long]
    n_out = 1 if has_argmax else ir.n_outputs
    x = np.ascontiguousarray(codes, dtype=np.int32)
    y = np.zeros((len(x), n_out), dtype=np.int32)
    fn(x, y, len(x))
    return y.astype(np.int64)


def predict_model(model, x, codes=False):
    ir = network_ir(model)
    x = np.asarray(x)
    single = x.ndim == 1
    x = x.reshape(-1, ir.n_inputs) if x.size else np.zeros((0, ir.n_inputs))
    c = np.asarray(x, dtype=np.int64) if codes else ir.quantize_input(x)
    if codes and not np.array_equal(c, x):
        raise ValueError("predict(codes=True) expects integer input codes")
    has_argmax = lut_structure(model)[2] is not None
    y = run_codes(model, c, ir, has_argmax)
    if has_argmax:
        y = y[:, 0] if _output(model) == 'cpp' else np.argmax(y, axis=1)
    elif not codes:
        y = ir.scores(y)
    return y[0] if single else y
