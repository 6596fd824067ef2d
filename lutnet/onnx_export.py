"""LUT IR → ONNX: a standard-ONNX graph that runs a LUT network anywhere ONNX runs.

Each layer is the IR evaluator's address arithmetic written as ONNX operators, vectorized over
samples, neurons and fan-in positions at once::

    fields = Gather(codes, indices, axis=1)            (N, out, F)  padded inputs read input 0 ...
    addr   = ReduceSum(BitwiseAnd(fields, mask) * 2**shift, axis=2)   ... and their mask is 0
    codes' = Cast(Gather(tables, addr + offsets), int64)              flat tables, per-neuron offsets

so variable per-neuron fan-in (``indices`` padded with -1, ``in_bits`` 0) needs no special case.
Sum-address neurons add ``fields * 1`` instead of the placed patterns, then keep the sum's
``address_bits`` low bits (``BitwiseAnd``).
The IR's stages are ONNX operators too: the thermometer encoder is ``Gather`` (each bit's feature)
+ ``GreaterOrEqual`` (its threshold) + ``Cast`` (tensor ``enc_bits``); the GroupSum head pads the last
layer's codes with a zero column, gathers each class's outputs (classes padded to the largest with
the zero column), multiplies them by their power-of-two weights when the head has weights (``Mul``)
and ``ReduceSum``s them (``head_scores``); argmax is ``ArgMax`` with
``select_last_index=0`` (first index of the maximum, ``argmax_index``, (N, 1)).
``BitwiseAnd`` keeps the two's-complement bit pattern of signed codes, exactly as in
:meth:`lutnet.ir.LayerIR.evaluate`.  The graph's input is ``codes`` (int64, the input quantizer's
codes) or, with ``float_input=True``, ``x`` (float32, quantized in the graph with the IR's
``QuantSpec`` formula).  Outputs: ``codes_out`` (int64, the network's outputs: the last layer's
codes, the head's class scores, or with argmax the (N, 1) class index), ``scores`` (float32, the
class scores dequantized with ``output_quant``) and ``prediction`` (int64, first index of the maximum
score).

Input checks: an ONNX graph cannot raise on bad data (ONNX has no assertion operator), so NaN
features give undefined codes (``Cast`` of NaN), out-of-range codes read the wrong table rows or fail
inside ``Gather``, and the batch must be 2-D.  :func:`run_onnx` is the checked runner: it applies
:mod:`lutnet.core.inputs` (the check of the model, the IR, C and RTL simulation) before running
onnxruntime, and, like hls4ml's ``predict``, takes one 1-D sample (1-D result) or an empty batch
(empty ``(0, n_out)`` result).

Requires the ``onnx`` package (imported lazily); ``onnxruntime`` is needed only to run the result.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import OutputExistsError
from .ir import NetworkIR

OPSET = 18  # BitwiseAnd needs opset 18


def _table_dtype(layer):
    lo = int(np.where(layer.out_signed, -np.left_shift(1, layer.out_bits - 1), 0).min())
    hi = int(np.left_shift(1, layer.out_bits).max())
    for dt in (np.int8, np.int16, np.int32):
        if np.iinfo(dt).min <= lo and hi <= np.iinfo(dt).max:
            return dt
    return np.int64


class _Graph:
    """A tiny helper that names initializers and nodes uniquely."""

    def __init__(self):
        import onnx
        from onnx import helper, numpy_helper
        self.onnx, self.helper, self.numpy_helper = onnx, helper, numpy_helper
        self.nodes, self.inits = [], []

    def const(self, name, array):
        self.inits.append(self.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type, inputs, output, **attrs):
        self.nodes.append(self.helper.make_node(op_type, inputs, [output], name=output, **attrs))
        return output


def _quantize(g: _Graph, x: str, q) -> str:
    """``clip(round_half_even(x / scale + zero_point), code_min, code_max)`` in float32, then int64."""
    y = g.op("Div", [x, g.const("in_scale", q.scale.astype(np.float32))], "in_div")
    y = g.op("Add", [y, g.const("in_zero_point", q.zero_point.astype(np.float32))], "in_add")
    y = g.op("Round", [y], "in_round")  # ONNX Round: half to even, as np.round and torch.round
    y = g.op("Clip", [y, g.const("in_code_min", np.float32(q.code_min)),
                      g.const("in_code_max", np.float32(q.code_max))], "in_clip")
    return g.op("Cast", [y], "codes_in", to=g.onnx.TensorProto.INT64)


def _layer(g: _Graph, li: int, layer, codes: str) -> str:
    p = f"l{li}_"
    idx = np.where(layer.indices >= 0, layer.indices, 0).astype(np.int64)
    mask = (np.left_shift(1, layer.in_bits) - 1).astype(np.int64)       # 0 for padded inputs
    weight = np.left_shift(1, layer.shifts()).astype(np.int64)          # 2**shift
    fields = g.op("Gather", [codes, g.const(p + "indices", idx)], p + "fields", axis=1)
    bits = g.op("BitwiseAnd", [fields, g.const(p + "mask", mask)], p + "patterns")
    offsets = layer.offsets[:-1].astype(np.int64)
    sa = layer.sum_address
    if sa.any():  # sum-address neurons: row = (sum of the codes) mod 2**address_bits (their place weights are 0)
        weight = np.where(sa[:, None], 0, weight)
        adds = np.where(sa[:, None] & (layer.indices >= 0), 1, 0).astype(np.int64)
        summed = g.op("Mul", [fields, g.const(p + "sum_weight", adds)], p + "summands")
        placed = g.op("Add", [g.op("Mul", [bits, g.const(p + "place", weight)], p + "placed_cat"), summed], p + "placed")
    else:
        placed = g.op("Mul", [bits, g.const(p + "place", weight)], p + "placed")
    addr = g.op("ReduceSum", [placed, g.const(p + "axis", np.array([2], np.int64))], p + "addr", keepdims=0)
    if sa.any():  # concatenated addresses are below 2**address_bits already
        rows_mask = (np.left_shift(np.int64(1), layer.address_bits) - 1).astype(np.int64)
        addr = g.op("BitwiseAnd", [addr, g.const(p + "row_mask", rows_mask)], p + "addr_masked")
    row = g.op("Add", [addr, g.const(p + "offsets", offsets)], p + "row")
    tables = g.const(p + "tables", layer.tables.astype(_table_dtype(layer)))
    out = g.op("Gather", [tables, row], p + "table_out", axis=0)
    return g.op("Cast", [out], p + "codes", to=g.onnx.TensorProto.INT64)


def _encoder(g: _Graph, encoder, codes: str) -> str:
    feat, thr = encoder.flat()
    fields = g.op("Gather", [codes, g.const("enc_feature", feat)], "enc_fields", axis=1)
    ge = g.op("GreaterOrEqual", [fields, g.const("enc_thresholds", thr)], "enc_ge")
    return g.op("Cast", [ge], "enc_bits", to=g.onnx.TensorProto.INT64)


def _head(g: _Graph, head, n_out: int, codes: str) -> str:
    """Class sums: codes padded with a zero column (index n_out), gathered per class, summed."""
    n_classes = head.n_classes
    members = [head.members(c) for c in range(n_classes)]
    width = max(len(m) for m in members)
    idx = np.full((n_classes, width), n_out, np.int64)
    for c, m in enumerate(members):
        idx[c, :len(m)] = m
    padded = g.op("Pad", [codes, g.const("head_pads", np.array([0, 0, 0, 1], np.int64)),
                          g.const("head_zero", np.array(0, np.int64))], "head_padded", mode="constant")
    fields = g.op("Gather", [padded, g.const("head_members", idx)], "head_fields", axis=1)
    if head.weights is not None:  # power-of-two weights: exact integer products (padding: weight 0)
        w = np.zeros((n_classes, width), np.int64)
        for c, m in enumerate(members):
            w[c, :len(m)] = head.weights[m]
        fields = g.op("Mul", [fields, g.const("head_weights", w)], "head_weighted")
    return g.op("ReduceSum", [fields, g.const("head_axis", np.array([2], np.int64))], "head_scores", keepdims=0)


def to_onnx(ir: NetworkIR, float_input: bool = False, name: str | None = None):
    """The ``onnx.ModelProto`` computing ``ir`` (see the module docstring for inputs/outputs)."""
    ir.validate()
    g = _Graph()
    helper, TP = g.helper, g.onnx.TensorProto
    if float_input:
        graph_in = helper.make_tensor_value_info("x", TP.FLOAT, ["N", ir.n_inputs])
        codes = _quantize(g, "x", ir.input_quant)
    else:
        graph_in = helper.make_tensor_value_info("codes", TP.INT64, ["N", ir.n_inputs])
        codes = "codes"
    if ir.encoder is not None:
        codes = _encoder(g, ir.encoder, codes)
    for li, layer in enumerate(ir.layers):
        codes = _layer(g, li, layer, codes)
    if ir.head is not None:
        codes = _head(g, ir.head, ir.layers[-1].out_features, codes)
    out = codes
    if ir.argmax:
        out = g.op("ArgMax", [codes], "argmax_index", axis=1, keepdims=1, select_last_index=0)
    oq = ir.output_quant
    g.op("Identity", [out], "codes_out")
    centred = g.op("Sub", [g.op("Cast", [codes], "out_float", to=TP.FLOAT),
                           g.const("out_zero_point", oq.zero_point.astype(np.float32))], "out_centred")
    g.op("Mul", [centred, g.const("out_scale", oq.scale.astype(np.float32))], "scores")
    g.op("ArgMax", [codes], "prediction", axis=1, keepdims=0, select_last_index=0)
    n_out = ir.n_outputs
    outputs = [helper.make_tensor_value_info("codes_out", TP.INT64, ["N", n_out]),
               helper.make_tensor_value_info("scores", TP.FLOAT, ["N", ir.n_scores]),
               helper.make_tensor_value_info("prediction", TP.INT64, ["N"])]
    graph = helper.make_graph(g.nodes, name or str(ir.metadata.get("name", "lutnet")), [graph_in], outputs,
                              initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="lutnet", doc_string="LUT network exported from the lutnet IR")
    model.ir_version = 8  # readable by onnxruntime >= 1.14
    q = ir.input_quant  # for run_onnx's input check
    helper.set_model_props(model, {"lutnet_input_bits": str(q.bits), "lutnet_input_signed": str(int(q.signed)),
                                   "lutnet_input_code_min": str(q.code_min), "lutnet_input_code_max": str(q.code_max)})
    g.onnx.checker.check_model(model)
    return model


def stage_outputs(ir: NetworkIR) -> list:
    """``(tensor name, width)`` of every stage's output inside :func:`to_onnx`'s graph, in order
    (``enc_bits``, ``l<i>_codes``, ``head_scores``, ``argmax_index``)."""
    out = [("enc_bits", ir.n_encoded)] if ir.encoder is not None else []
    out += [(f"l{i}_codes", L.out_features) for i, L in enumerate(ir.layers)]
    out += [("head_scores", ir.n_scores)] if ir.head is not None else []
    return out + ([("argmax_index", 1)] if ir.argmax else [])


def save_onnx(ir: NetworkIR, path, float_input: bool = False, overwrite: bool = False) -> Path:
    """Write :func:`to_onnx` of ``ir`` to ``path``; an existing file is kept unless ``overwrite``."""
    import onnx
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists; pass overwrite=True (CLI: --force) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(to_onnx(ir, float_input=float_input), str(path))
    return path


def run_onnx(model, inputs: np.ndarray, output: str = "codes_out") -> np.ndarray:
    """Run an exported model (ModelProto or path) in onnxruntime on codes (int64) or features
    (float32), checked first (:mod:`lutnet.core.inputs`: NaN features, the feature count, integer
    codes inside the input encoding); one 1-D sample gives a 1-D result, an empty batch an empty one."""
    import onnx
    import onnxruntime as ort

    from .core.inputs import check_codes, check_features
    proto = onnx.load(str(model)) if isinstance(model, (str, Path)) else model
    graph_in = proto.graph.input[0]
    n_in = graph_in.type.tensor_type.shape.dim[1].dim_value
    if graph_in.name == "codes":
        lo, hi, bits, signed = _code_range(proto)
        x, single = check_codes(inputs, n_in, lo, hi, bits, signed)
    else:
        x, single = check_features(inputs, n_in)
    if len(x) == 0:
        out = next(o for o in proto.graph.output if o.name == output)
        dims = [d.dim_value for d in out.type.tensor_type.shape.dim[1:]]
        dtype = np.float32 if out.type.tensor_type.elem_type == onnx.TensorProto.FLOAT else np.int64
        return np.zeros([0, *dims], dtype)
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    y = sess.run([output], {graph_in.name: x})[0]
    return y[0] if single else y


def _code_range(proto) -> tuple[int, int, int | None, bool | None]:
    """The input code range of a codes-input graph (stored in its metadata by :func:`to_onnx`)."""
    meta = {p.key: p.value for p in proto.metadata_props}
    if "lutnet_input_code_min" in meta:
        bits = int(meta["lutnet_input_bits"])
        return (int(meta["lutnet_input_code_min"]), int(meta["lutnet_input_code_max"]), bits,
                meta["lutnet_input_signed"] == "1")
    return -(1 << 62), 1 << 62, None, None  # a graph from an older lutnet: integers only
