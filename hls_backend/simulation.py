"""compile(), the batched predict() and trace() of both outputs.

Every entry point takes its network from the hls4ml graph, or, for a project linked with
``hls4ml.converters.link_existing_project`` (no graph), from the project's ``lutnet_ir.npz`` and
``lutnet_project.json``.  Inputs are checked by :mod:`lutnet.core.inputs` (the same check as the
PyTorch model, the IR evaluator, RTL simulation and the ONNX runner)."""
from __future__ import annotations

import ctypes
import shutil
import subprocess
import uuid
from pathlib import Path

import numpy as np
import numpy.ctypeslib as npc

from lutnet.core.inputs import check_features, check_quant_codes
from lutnet.errors import ProjectError, SimulationError, ToolNotFoundError
from lutnet.ir import LayerIR, NetworkIR, QuantSpec

from .project import IR_FILE, read_manifest


def _output(model) -> str:
    return model.config.config['LUTNetConfig']['Output']


def is_linked(model) -> bool:
    """A ``FilesystemModelGraph`` (``link_existing_project``): a written project without the graph."""
    from hls4ml.utils.link import FilesystemModelGraph
    return isinstance(model, FilesystemModelGraph)


def project_dir(model) -> Path:
    out = Path(model.config.get_output_dir())
    if is_linked(model) and not (out / IR_FILE).is_file():
        raise ProjectError(f"the linked project's hls4ml_config.yml names OutputDir {str(out)!r}, which holds no "
                          f"{IR_FILE} seen from {Path.cwd()}: call link_existing_project from the directory the "
                          f"project was written from, or pass the path OutputDir names")
    return out


def _ir_quants(ir: NetworkIR, has_argmax: bool) -> list:
    """Per traced stage (encoder, layers, head, argmax) its output quantizer, known for the scores only."""
    n = len(ir.stages) + (1 if has_argmax and not ir.argmax else 0)
    scores = n - 1 - (1 if has_argmax else 0)
    return [ir.output_quant if i == scores else None for i in range(n)]


def project_network(model) -> tuple[NetworkIR, bool, list]:
    """``(ir, has_argmax, per-stage output quantizers or None)`` of a converted or a linked model; the
    stages are the encoder, the LUT layers, the head and the argmax the network has."""
    if is_linked(model):
        cached = getattr(model, '_lutnet_network', None)
        if cached is None:
            out = project_dir(model)
            manifest = read_manifest(out)
            ir = NetworkIR.load(out / IR_FILE)
            has_argmax = bool(manifest.get('argmax')) or ir.argmax
            cached = model._lutnet_network = (ir, has_argmax, _ir_quants(ir, has_argmax))
        return cached
    from .graph_ir import network_ir, stage_nodes
    from .layers import LUTDense, LUTGroupSum
    ir = network_ir(model)
    quants = [n.get_attr('output_quant') if isinstance(n, (LUTDense, LUTGroupSum)) else None
              for n in stage_nodes(model)]
    return ir, ir.argmax, quants


def compile_model(model):
    out = project_dir(model).resolve()
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
        raise SimulationError(f"g++ failed building the C simulation of {out} (log: {out / 'build_lib.log'}):\n{tail}")
    return str(out / 'firmware' / f'{project}-{stamp}.so')


def _sim_options(model) -> dict:
    from .writer import verilog_options
    return verilog_options(model.config.config)


def _compile_verilator(model, out: Path):
    from lutnet.rtl.simulate import prepare_simulator
    lcfg = model.config.config['LUTNetConfig']
    ir = project_network(model)[0]
    sim_dir, info, _, _ = prepare_simulator(ir, simulator=lcfg.get('Simulator', 'verilator'), work_dir=out / 'sim',
                                            **_sim_options(model))
    model._lutnet_sim = (sim_dir, info)
    return None  # no C library: predict() runs the RTL simulator (hls4ml's ctypes loader gets the main program)


def _lib(model):
    lib = model._top_function_lib
    if lib is None:
        raise ProjectError("the model is not compiled: call compile() before predict() (C simulation)")
    return lib


def run_codes(model, codes: np.ndarray, ir, has_argmax: bool) -> np.ndarray:
    """Outputs of the compiled firmware/RTL for checked input codes (N, n_inputs): output codes
    (N, n_outputs), or (N, 1) class indices from the C++ argmax."""
    if _output(model) == 'verilog':
        from lutnet.rtl.simulate import run_simulator
        if getattr(model, '_lutnet_sim', None) is None:
            raise ProjectError("the model is not compiled: call compile() before predict() (Verilog simulation)")
        sim_dir, info = model._lutnet_sim
        lcfg = model.config.config['LUTNetConfig']
        out, _, _ = run_simulator(sim_dir, info, ir, codes, lcfg.get('Simulator', 'verilator'))
        return out
    fn = getattr(_lib(model), model.config.get_project_name() + '_batch')
    fn.restype = None
    fn.argtypes = [npc.ndpointer(np.int32, flags='C_CONTIGUOUS'), npc.ndpointer(np.int32, flags='C_CONTIGUOUS'),
                   ctypes.c_long]
    n_out = 1 if has_argmax else ir.n_outputs
    x = np.ascontiguousarray(codes, dtype=np.int32)
    y = np.zeros((len(x), n_out), dtype=np.int32)
    if len(x):
        fn(x, y, len(x))
    return y.astype(np.int64)


def input_codes(ir: NetworkIR, x, codes: bool) -> tuple[np.ndarray, bool]:
    """Checked input codes (N, n_inputs) of features or codes, and whether ``x`` was one 1-D sample."""
    if codes:
        return check_quant_codes(x, ir.n_inputs, ir.input_quant)
    a, single = check_features(x, ir.n_inputs)
    return ir.input_quant.to_codes(a), single


def _finish(model, ir, y, has_argmax, codes):
    if has_argmax:  # the firmware's argmax (an IR file older than the argmax stage: the scores' argmax)
        return y[:, 0] if (_output(model) == 'cpp' or ir.argmax) else np.argmax(y, axis=1)
    return y if codes else ir.scores(y)


def predict_model(model, x, codes=False):
    ir, has_argmax, _ = project_network(model)
    c, single = input_codes(ir, x, codes)
    y = _finish(model, ir, run_codes(model, c, ir, has_argmax), has_argmax, codes)
    return y[0] if single else y


# ---------------------------------------------------------------------------------------- trace
class Trace(dict):
    """Per-layer outputs of ``trace()``: ``trace[name]`` are the layer's output *values* (float32,
    the codes dequantized with the layer's output quantizer, as the PyTorch/QKeras layer's outputs)
    and ``trace.codes[name]`` its output *codes* (int64).  Every LUT layer has codes; a layer has
    values when its output quantizer is known (every layer of a PyTorch or QKeras conversion; for an
    IR conversion or a linked project only the last, since the LUT IR records only the network's
    input and output quantizers).  The IR's stages are traced too: the encoder's bits, the head's class
    scores (with values: the network's output quantizer) and a final argmax (class indices) in ``codes``."""

    def __init__(self, values: dict, codes: dict):
        super().__init__(values)
        self.codes = codes


def _layer_names(model, ir, has_argmax):
    if is_linked(model):
        names = (['encoder'] if ir.encoder is not None else []) + [L.name for L in ir.layers]
        return names + (['head'] if ir.head is not None else []) + (['argmax'] if has_argmax else [])
    from .graph_ir import stage_nodes
    return [n.name for n in stage_nodes(model)]


def _stage_sizes(ir, has_argmax) -> list:
    return (([ir.n_encoded] if ir.encoder is not None else []) + [L.out_features for L in ir.layers]
            + ([ir.n_scores] if ir.head is not None else []) + ([1] if has_argmax else []))


def _trace_cpp(model, codes, ir, has_argmax) -> list:
    sizes = _stage_sizes(ir, has_argmax)
    name = model.config.get_project_name() + '_trace'
    fn = getattr(_lib(model), name, None)
    if fn is None:
        raise SimulationError(f"the C simulation library has no {name}(): the project was written by an older "
                              f"lutnet; convert the model again and compile()")
    fn.restype = None
    fn.argtypes = [npc.ndpointer(np.int32, flags='C_CONTIGUOUS'), npc.ndpointer(np.int32, flags='C_CONTIGUOUS'),
                   ctypes.c_long]
    x = np.ascontiguousarray(codes, dtype=np.int32)
    t = np.zeros((len(x), sum(sizes)), dtype=np.int32)
    if len(x):
        fn(x, t, len(x))
    bounds = np.cumsum([0] + sizes)
    return [t[:, a:b].astype(np.int64) for a, b in zip(bounds[:-1], bounds[1:])]


def _prefix_ir(ir: NetworkIR, k: int) -> NetworkIR:
    """Encoder and layers 0..k of ``ir`` as a network whose outputs are layer k's codes (``k = -1``:
    the encoder's bits, through a layer of one-input identity tables)."""
    if k < 0:
        n = ir.n_encoded
        ident = LayerIR.from_dense('encoder_bits', np.arange(n)[:, None], 1, False, 1, False,
                                   np.tile(np.array([0, 1]), (n, 1)))
        q = QuantSpec(1, False, np.float32(1), np.float32(0))
        return NetworkIR(ir.input_quant, ir.n_inputs, [ident], q, {}, ir.encoder).validate()
    L = ir.layers[k]
    if len(set(L.out_bits.tolist())) != 1 or len(set(L.out_signed.tolist())) != 1:
        raise SimulationError(f"trace() of a Verilog project: layer {k} ({L.name!r}) mixes output widths or "
                              f"signedness, so its outputs cannot be the ports of a prefix network")
    q = QuantSpec(int(L.out_bits[0]), bool(L.out_signed[0]), np.float32(1), np.float32(0))
    return NetworkIR(ir.input_quant, ir.n_inputs, ir.layers[:k + 1], q, {}, ir.encoder).validate()


def _trace_verilog(model, codes, ir, has_argmax) -> list:
    """Every layer's codes from the RTL: layer k's are the outputs of the Verilog of layers 0..k,
    simulated with the project's simulator (each prefix is built once, then cached in ``sim/``)."""
    from lutnet.rtl.simulate import prepare_simulator, run_simulator
    if getattr(model, '_lutnet_sim', None) is None:
        raise ProjectError("the model is not compiled: call compile() before trace() (Verilog simulation)")
    sim = model.config.config['LUTNetConfig'].get('Simulator', 'verilator')
    outs = []
    stages = ir.stages
    for i, stage in enumerate(stages):
        if i == len(stages) - 1:
            sim_dir, info = model._lutnet_sim
            sub = ir
        else:
            if stage == 'head':
                sub = NetworkIR(ir.input_quant, ir.n_inputs, ir.layers, ir.output_quant, {}, ir.encoder,
                                ir.head).validate()
            else:
                sub = _prefix_ir(ir, -1 if stage == 'encoder' else int(stage[len('layer'):]))
            sim_dir, info, _, _ = prepare_simulator(sub, simulator=sim, work_dir=project_dir(model).resolve() / 'sim',
                                                    **_sim_options(model))
        outs.append(run_simulator(sim_dir, info, sub, codes, sim)[0])
    if has_argmax and not ir.argmax:
        outs.append(np.argmax(outs[-1], axis=1)[:, None])
    return outs


def trace_model(model, x, codes=False):
    """``(predict(x), Trace)``: the prediction and every layer's outputs, computed by the compiled
    C simulation (C++ output) or by RTL simulation (Verilog output)."""
    ir, has_argmax, quants = project_network(model)
    c, single = input_codes(ir, x, codes)
    per_layer = (_trace_cpp if _output(model) == 'cpp' else _trace_verilog)(model, c, ir, has_argmax)
    names = _layer_names(model, ir, has_argmax)
    codes_by = dict(zip(names, per_layer))
    values = {n: q.to_values(v) for n, v, q in zip(names, per_layer, quants) if q is not None}
    last = per_layer[len(per_layer) - 1 - (1 if has_argmax else 0)]  # the class scores
    y = per_layer[-1][:, 0] if has_argmax else (last if codes else ir.scores(last))
    if single:
        y = y[0]
        codes_by = {k: v[0] for k, v in codes_by.items()}
        values = {k: v[0] for k, v in values.items()}
    return y, Trace(values, codes_by)
