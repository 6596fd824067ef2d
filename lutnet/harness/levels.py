"""The levels a LUT network is checked at, each turning input codes into output codes.

A level is built once (``make_level``: export, compile, synthesize) and then run on any batch of
input codes; ``run`` returns a :class:`LevelOutput`: the per-layer output codes when the level
exposes them (framework model, IR evaluator, ONNX), otherwise only the final output codes (C++,
RTL simulation, post-synthesis netlist simulation).

Levels: ``model`` (the Brevitas or QKeras model, eval mode), ``ir`` (the numpy evaluator),
``onnx`` (onnxruntime, every layer's codes as extra graph outputs), ``cpp`` (the hls4ml backend's
g++ C simulation), ``verilog`` (Verilator), ``icarus`` (Icarus Verilog) and ``postsynth`` (Icarus
on the Yosys ``synth_xilinx`` netlist with Yosys' Xilinx cell models, see :mod:`.postsynth`).
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..ir import NetworkIR

LEVELS = ("model", "ir", "onnx", "cpp", "verilog", "icarus", "postsynth")
EMIT_OPTIONS = ("pipeline", "input_reg", "output_reg", "table_style")


@dataclass
class LevelOutput:
    final: np.ndarray                       # (N, n_outputs) output codes
    layers: list | None = None              # every layer's (N, out_l) codes, when exposed
    input_codes: np.ndarray | None = None   # the codes the level itself quantized (model level)


@dataclass
class Level:
    name: str
    run: object                             # codes (N, n_inputs) -> LevelOutput
    build_seconds: float = 0.0
    notes: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- framework models
def ir_of_model(model) -> NetworkIR:
    """The IR of a Brevitas ``LUTNet`` or a QKeras model of ``lutnet.keras.LUTLayer`` (its frontend's
    ``to_ir``)."""
    from ..frontend import frontend_of
    return frontend_of(model).to_ir(model)


def _codes_to_floats(ir: NetworkIR, codes) -> np.ndarray:
    """Float inputs that quantize to ``codes`` (their dequantized values)."""
    return ir.input_quant.to_values(np.asarray(codes, np.int64)).astype(np.float32)


def model_level(model, ir: NetworkIR) -> Level:
    """The framework model (eval mode) on the float inputs that quantize to the given codes; exposes
    every layer's codes and the codes the model's own input quantizer gave."""
    from ..frontend import frontend_of
    fe = frontend_of(model)

    def run(codes):
        x = _codes_to_floats(ir, codes)
        layers = fe.layer_codes(model, x)
        return LevelOutput(layers[-1], layers, fe.input_codes(model, x))
    return Level("model", run, notes={"framework": fe.framework})


# --------------------------------------------------------------------------- IR and ONNX
def ir_level(ir: NetworkIR) -> Level:
    return Level("ir", lambda codes: (lambda ls: LevelOutput(ls[-1], ls))(ir.evaluate(codes, return_all=True)))


def onnx_with_layer_outputs(ir: NetworkIR):
    """``to_onnx(ir)`` with every layer's codes (``l<i>_codes``) and the head's scores
    (``head_scores``) as extra outputs (the stages ``ir.evaluate(return_all=True)`` lists)."""
    from onnx import TensorProto, helper

    from ..onnx_export import stage_outputs, to_onnx
    m = to_onnx(ir)
    for name, width in stage_outputs(ir):
        if name not in ("enc_bits", "argmax_index"):
            m.graph.output.append(helper.make_tensor_value_info(name, TensorProto.INT64, ["N", width]))
    return m


def onnx_level(ir: NetworkIR) -> Level:
    import onnxruntime as ort

    from ..onnx_export import stage_outputs
    m = onnx_with_layer_outputs(ir)
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [n for n, _ in stage_outputs(ir) if n not in ("enc_bits", "argmax_index")] + ["codes_out"]

    def run(codes):
        layers = sess.run(names, {"codes": np.asarray(codes, np.int64)})
        if not ir.argmax:
            layers = layers[:-1]  # codes_out is the last stage's output already listed
        return LevelOutput(layers[-1], layers)
    return Level("onnx", run)


# --------------------------------------------------------------------------- C++ and RTL
def cpp_level(ir: NetworkIR, work_dir, cflags: str = "-O1") -> Level:
    import time

    from lutnet import hls_backend
    t0 = time.perf_counter()
    model = hls_backend.convert_ir(ir, output_dir=str(Path(work_dir) / "cpp"), output="cpp", cflags=cflags)
    model.compile()
    return Level("cpp", lambda codes: LevelOutput(np.asarray(model.predict(codes, codes=True)).reshape(len(codes), -1)),
                 time.perf_counter() - t0, {"project": str(Path(work_dir) / "cpp")})


def rtl_level(ir: NetworkIR, work_dir, simulator: str = "verilator", lint: bool = False, **emit_opts) -> Level:
    """Verilator or Icarus simulation of ``write_verilog(ir, **emit_opts)``; with ``lint`` the design
    must also be ``verilator --lint-only -Wall`` clean (``AssertionError`` otherwise)."""
    from ..rtl.simulate import SimulationError, prepare_simulator, run_simulator
    sim_dir, info, build_s, cached = prepare_simulator(ir, simulator=simulator, work_dir=work_dir, **emit_opts)
    notes = {"sim_dir": str(sim_dir), "latency": info.latency_cycles, "cached": cached}
    if lint:
        from ..rtl.lint import lint as run_lint
        res = run_lint(Path(sim_dir) / "rtl")
        if not res.ok:
            raise AssertionError(f"verilator --lint-only -Wall is not clean on {sim_dir}/rtl:\n{res.output[-3000:]}")

    def run(codes):
        out, lat, _ = run_simulator(sim_dir, info, ir, codes, simulator)
        if len(codes) and lat != info.latency_cycles:
            raise SimulationError(f"{simulator}: measured latency {lat} cycles; the design reports "
                                  f"{info.latency_cycles}")
        return LevelOutput(out)
    return Level("verilog" if simulator == "verilator" else "icarus", run, build_s, notes)


def postsynth_level(ir: NetworkIR, work_dir, **emit_opts) -> Level:
    from .postsynth import PostSynthSim
    sim = PostSynthSim(ir, Path(work_dir) / "postsynth", **emit_opts)
    return Level("postsynth", lambda codes: LevelOutput(sim.run(codes)), sim.build_seconds,
                 {"netlist": str(sim.netlist), "cells": sim.cell_counts})


def make_level(name: str, ir: NetworkIR, *, model=None, work_dir=None, cflags: str = "-O1",
               lint: bool = False, **emit_opts) -> Level:
    """Build level ``name`` (one of ``LEVELS``) for ``ir``; ``model`` is needed for ``model``."""
    emit_opts = {k: v for k, v in emit_opts.items() if k in EMIT_OPTIONS}
    if name == "model":
        if model is None:
            raise ValueError("level 'model' needs the framework model (pass a LUTNet or Keras model)")
        return model_level(model, ir)
    if name == "ir":
        return ir_level(ir)
    if name == "onnx":
        return onnx_level(ir)
    work = Path(work_dir) if work_dir is not None else Path(tempfile.mkdtemp(prefix="lutnet-harness-"))
    if name == "cpp":
        return cpp_level(ir, work, cflags)
    if name in ("verilog", "icarus"):
        return rtl_level(ir, work / "sim", "verilator" if name == "verilog" else "icarus", lint=lint, **emit_opts)
    if name == "postsynth":
        return postsynth_level(ir, work, **emit_opts)
    raise ValueError(f"unknown level {name!r}; known levels: {', '.join(LEVELS)}")
