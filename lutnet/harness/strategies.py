"""Hypothesis strategies for random LUT networks.

* :func:`ir_networks`: networks built directly in the IR (random tables) over input/output widths
  1..8, both encodings per layer, fan-ins 1..(source width) under an address-bit bound, depths
  1..6, pruned inputs (down to constant neurons), the IR's stages (a thermometer encoder with 1..3
  thresholds per feature, a GroupSum head of 1..4 classes, an argmax; each drawn independently) and
  the emitter's pipelining options; for the IR, ONNX, C++ and Verilog levels.
* :func:`brevitas_models`: small untrained Brevitas ``LUTNet`` models of every neuron kind with
  random parameters, batch-norm statistics and pruning masks, and tree layers (PolyLUT-Add ``add``,
  NeuraLUT-Assemble ``assemble``: :mod:`lutnet.core.assemble`) among plain ones;
  ``fixed_point=True`` restricts the quantizers to power-of-two scales so that
  ``lutnet.keras.convert.from_brevitas`` gives a QKeras twin (:func:`qkeras_models`).
* :func:`keras_tree_models`: QKeras models of plain and tree layers (``lutnet.keras.assemble``) with
  random batch-norm parameters, their IR extracted from the Keras layers.
* :func:`dwn_models`: DWN-style stage models (thermometer encoder with random thresholds, table layers
  with fixed or learnable mapping and random tables, a GroupSum head with random groups, argmax or
  not), in PyTorch (``lutnet.nn.dwn``) or as the Keras twin with the same parameters.

Every strategy draws a seed for the random tables/weights, so Hypothesis shrinks the structure
(depth, widths, bits, fan-in) while a failing case stays reproducible from its description.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

from ..ir import LayerIR, NetworkIR
from ..testing import random_network_ir


@dataclass
class NetworkCase:
    ir: NetworkIR
    emit: dict = field(default_factory=dict)   # write_verilog options (pipeline, input_reg, ...)
    spec: dict = field(default_factory=dict)   # how it was drawn (reproducer)
    model: object = None                       # the framework model, when there is one

    def __repr__(self):
        return f"NetworkCase({self.spec}, emit={self.emit})"


def prune_ir(ir: NetworkIR, rate: float, seed: int) -> NetworkIR:
    """Drop each neuron input with probability ``rate`` (index -1, 0 bits) and keep the table rows
    where the dropped fields are 0, as pruned Brevitas layers do; a neuron may lose every input
    (a constant, 1-row table)."""
    if rate <= 0:
        return ir
    rng = np.random.default_rng(seed)
    layers = []
    for L in ir.layers:
        idx, ib, isg = L.indices.copy(), L.in_bits.copy(), L.in_signed.copy()
        shifts = L.shifts()
        tables = []
        for k in range(L.out_features):
            t = L.table(k)
            drop = (rng.random(idx.shape[1]) < rate) & (idx[k] >= 0) & ~L.sum_address[k]  # adders keep their inputs
            keep = np.ones(len(t), bool)
            addr = np.arange(len(t))
            for j in np.flatnonzero(drop):
                keep &= ((addr >> shifts[k, j]) & ((1 << ib[k, j]) - 1)) == 0
            idx[k, drop], ib[k, drop], isg[k, drop] = -1, 0, False
            tables.append(t[keep])
        offsets = np.concatenate([[0], np.cumsum([len(t) for t in tables])]).astype(np.int64)
        layers.append(LayerIR(L.name, idx, ib, isg, L.out_bits, L.out_signed, np.concatenate(tables),
                              offsets, L.kind, dict(L.attrs), L.sum_address))
    return NetworkIR(ir.input_quant, ir.n_inputs, layers, ir.output_quant, dict(ir.metadata), ir.encoder, ir.head,
                     ir.argmax).validate()


@st.composite
def ir_networks(draw, max_depth: int = 6, max_width: int = 8, max_inputs: int = 8, max_bits: int = 8,
                max_address_bits: int = 10, prune: bool = True, min_depth: int = 1, min_width: int = 1,
                stages: bool = True):
    """A :class:`NetworkCase` with a random-table IR (with ``stages``, a random choice of adder
    (sum-address) neurons, encoder, head and argmax) and random emitter options."""
    n_inputs = draw(st.integers(min_width, max(min_width, max_inputs)))
    depth = draw(st.integers(min_depth, max(min_depth, max_depth)))
    input_bits = draw(st.integers(1, max_bits))
    input_signed = draw(st.booleans())
    widths, bits, signed, fan_in = [], [], [], []
    src, src_bits = n_inputs, input_bits
    for _ in range(depth):
        w = draw(st.integers(min_width, max(min_width, max_width)))
        b = draw(st.integers(1, max_bits))
        f = draw(st.integers(1, max(1, min(src, max_address_bits // src_bits))))
        widths.append(w), bits.append(b), signed.append(draw(st.booleans())), fan_in.append(f)
        src, src_bits = w, b
    seed = draw(st.integers(0, 2 ** 20))
    rate = draw(st.sampled_from([0.0, 0.0, 0.25, 0.6])) if prune else 0.0
    spec = dict(seed=seed, n_inputs=n_inputs, widths=tuple(widths), fan_in=fan_in, bits=bits, signed=signed,
                input_bits=input_bits, input_signed=input_signed)
    if stages:
        spec["sum_address"] = draw(st.sampled_from([0.0, 0.0, 0.5, 1.0]))  # adder (sum-address) neurons
        if draw(st.booleans()):
            spec["thermometer"] = draw(st.lists(st.integers(1, 3), min_size=n_inputs, max_size=n_inputs))
        if draw(st.booleans()):
            spec["n_classes"] = draw(st.integers(1, min(widths[-1], 4)))
        spec["argmax"] = draw(st.booleans())
    ir = random_network_ir(**spec)
    ir = prune_ir(ir, rate, seed + 1)
    ir.metadata["name"] = f"random-ir-{seed}"
    spec["prune_rate"] = rate
    emit = dict(pipeline=draw(st.integers(0, depth)), input_reg=draw(st.booleans()),
                output_reg=draw(st.booleans()), table_style=draw(st.sampled_from(["rom", "case"])))
    return NetworkCase(ir, emit, spec)


# --------------------------------------------------------------------------- framework models
KINDS = ("linear", "poly", "subnet")


def _neuron_options(draw, kind: str) -> dict:
    if kind == "poly":
        return {"degree": draw(st.integers(1, 3))}
    if kind == "subnet":
        return {"width": draw(st.integers(1, 6)), "depth": draw(st.integers(0, 3)), "skip": draw(st.integers(0, 2))}
    return {}


def randomize(net, seed: int, prune_rate: float = 0.0):
    """Random batch-norm statistics/affine parameters (so codes vary) and a random pruning mask."""
    import torch
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in net.layers:
            if layer.bn is not None:
                n = layer.out_features
                layer.bn.running_mean.copy_(torch.randn(n, generator=g) * 0.3)
                layer.bn.running_var.copy_(torch.rand(n, generator=g) * 2 + 0.05)
                layer.bn.weight.copy_(torch.randn(n, generator=g) * 1.5 + 1)
                layer.bn.bias.copy_(torch.randn(n, generator=g) * 0.5)
            if prune_rate > 0:
                layer.input_mask.copy_(torch.rand(layer.input_mask.shape, generator=g) >= prune_rate)
    return net.eval()


def _tree(draw, src: int, fan_in: int, out_bits: int, max_bits: int) -> dict:
    """``{}`` (a plain layer) or the options of a tree layer reading at most ``src`` inputs:
    ``add`` (PolyLUT-Add, 2..3 sub-neurons, signed ``add_bits``) or ``assemble`` (NeuraLUT-Assemble,
    one or two levels of arity 2..3, unsigned ``assemble_bits``)."""
    mode = draw(st.sampled_from(["plain", "plain", "add", "assemble"]))
    if mode == "add" and src >= 2 * fan_in:
        a = draw(st.integers(2, max(2, min(3, src // fan_in))))
        return {"add": a, "add_bits": draw(st.integers(2, max(2, min(max_bits, 4))))}
    if mode == "assemble" and src >= 2 * fan_in:
        arity = [draw(st.integers(2, max(2, min(3, src // fan_in))))]
        if src >= fan_in * arity[0] * 2 and draw(st.booleans()):
            arity.append(2)
        return {"assemble": arity, "assemble_bits": draw(st.integers(1, max(1, min(max_bits, 3))))}
    return {}


@st.composite
def brevitas_models(draw, fixed_point: bool = False, max_depth: int = 3, max_width: int = 6,
                    max_inputs: int = 6, max_bits: int = 8, max_address_bits: int = 8, prune: bool = True,
                    one_bit: bool = True, trees: bool = True):
    """A :class:`NetworkCase` whose ``model`` is a random Brevitas LUTNet and ``ir`` its tables.  With
    ``trees`` (and not ``fixed_point``: a tree's hidden codes use learned-scale quantizers) a layer may
    be a PolyLUT-Add / NeuraLUT-Assemble tree (:func:`lutnet.nn.assemble.tree_layers`)."""
    import torch

    from ..export import to_ir
    from ..nn import LUTLayer, LUTNet
    from ..nn.assemble import tree_layers
    n_inputs = draw(st.integers(1, max_inputs))
    depth = draw(st.integers(1, max_depth))
    suffix = "_fixed" if fixed_point else draw(st.sampled_from(["", "_fixed"]))
    # a signed code needs >= 2 bits for a uniform range around 0 (1-bit signed: QKeras refuses).
    # 1-bit unsigned layers are drawn unless ``one_bit=False`` (the QKeras twin passes False).
    enc = lambda: draw(st.sampled_from(["signed", "unsigned"]))

    def bits_for(e):
        return draw(st.integers(2 if (e == "signed" or not one_bit) else 1, max_bits))
    in_enc = enc()
    in_bits = bits_for(in_enc)
    seed = draw(st.integers(0, 2 ** 20))
    layers, spec = [], []
    src, src_bits = n_inputs, in_bits
    for li in range(depth):
        w = draw(st.integers(1, max_width))
        kind = draw(st.sampled_from(KINDS))
        opts = _neuron_options(draw, kind)
        out_enc = enc()
        out_bits = bits_for(out_enc)
        f = draw(st.integers(1, max(1, min(src, max_address_bits // src_bits))))
        tree = _tree(draw, src, f, out_bits, max_bits) if trees and suffix == "" else {}
        first = {"input_quant": in_enc + suffix, "input_bit_width": in_bits} if li == 0 else {}
        spec.append(dict(out=w, fan_in=f, kind=kind, out_enc=out_enc, out_bits=out_bits, **tree, **opts))
        torch.manual_seed(seed + li)
        if tree:
            layers += tree_layers(src, w, f, kind, **tree, output_quant=out_enc, output_bit_width=out_bits,
                                  seed=seed + li, name=f"t{li}", **first, **opts)
        else:
            layers.append(LUTLayer(src, w, f, neuron=kind, output_quant=out_enc + suffix, output_bit_width=out_bits,
                                   seed=seed + li, **first, **opts))
        src, src_bits = w, out_bits
    rate = draw(st.sampled_from([0.0, 0.0, 0.3])) if prune else 0.0
    net = randomize(LUTNet(layers), seed, rate)
    ir = to_ir(net)
    ir.metadata["name"] = f"brevitas-{seed}"
    return NetworkCase(ir, {}, dict(seed=seed, n_inputs=n_inputs, input=(in_enc + suffix, in_bits),
                                    layers=spec, prune_rate=rate), net)


@st.composite
def qkeras_models(draw, **kw):
    """A :class:`NetworkCase` whose ``model`` is the QKeras twin of a fixed-point Brevitas model
    (``spec['brevitas']`` holds the Brevitas model, ``ir`` the Brevitas tables)."""
    from ..keras.convert import from_brevitas
    case = draw(brevitas_models(fixed_point=True, **{'one_bit': False, **kw}))
    kmodel = from_brevitas(case.model)
    spec = dict(case.spec, framework="qkeras")
    return NetworkCase(case.ir, {}, dict(spec, brevitas=case.model), kmodel)


def randomize_keras(model, seed: int):
    """Random batch-norm statistics and affine parameters of every Keras LUT layer (so codes vary),
    as :func:`randomize` does for Brevitas models."""
    from ..keras import lut_layers
    rng = np.random.default_rng(seed)
    for layer in lut_layers(model):
        if layer.batch_norm:
            u = layer.units
            layer.moving_mean.assign(rng.normal(0, 0.3, u).astype(np.float32))
            layer.moving_variance.assign(rng.uniform(0.05, 2, u).astype(np.float32))
            layer.gamma.assign(rng.normal(1, 1.5, u).astype(np.float32))
            layer.beta.assign(rng.normal(0, 0.5, u).astype(np.float32))
    return model


@st.composite
def keras_tree_models(draw, max_depth: int = 3, max_width: int = 6, max_inputs: int = 6, max_bits: int = 4,
                      max_address_bits: int = 8):
    """A :class:`NetworkCase` whose ``model`` is a random QKeras model of plain :class:`LUTLayer`
    layers and tree layers (:func:`lutnet.keras.assemble.tree_layers`, at least one) with random
    batch-norm parameters, and ``ir`` its extracted tables."""
    import qkeras
    import tensorflow as tf

    from ..keras import LUTLayer, to_ir
    from ..keras.assemble import tree_layers
    n_inputs = draw(st.integers(2, max(2, max_inputs)))
    depth = draw(st.integers(1, max_depth))
    seed = draw(st.integers(0, 2 ** 20))
    in_bits = draw(st.integers(1, max_bits))
    src_q = qkeras.quantized_relu(in_bits, 0)
    src, src_bits, layers, spec = n_inputs, in_bits, [], []
    tree_at = 0  # layer 0 (n_inputs >= 2) is always a tree; the others may be
    for li in range(depth):
        w = draw(st.integers(1, max_width))
        kind = draw(st.sampled_from(KINDS))
        opts = _neuron_options(draw, kind)
        signed = draw(st.booleans())
        out_bits = draw(st.integers(2 if signed else 1, max_bits))
        out_q = qkeras.quantized_bits(out_bits, 0, alpha=1) if signed else qkeras.quantized_relu(out_bits, 0)
        f = draw(st.integers(1, max(1, min(src // 2 if li == tree_at else src, max_address_bits // src_bits))))
        tree = _tree(draw, src, f, out_bits, max_bits)
        if li == tree_at and not tree:  # at least one tree layer
            tree = {"add": 2, "add_bits": 2} if draw(st.booleans()) else {"assemble": [2], "assemble_bits": 1}
        spec.append(dict(out=w, fan_in=f, kind=kind, out_bits=out_bits, signed=signed, **tree, **opts))
        if tree:
            layers += tree_layers(src, w, f, kind, **tree, input_quantizer=src_q, output_quantizer=out_q,
                                  seed=seed + li, name=f"t{li}", **opts)
        else:
            layers.append(LUTLayer(w, f, kind, input_quantizer=src_q, output_quantizer=out_q, seed=seed + li,
                                   name=f"l{li}", **opts))
        src, src_bits, src_q = w, out_bits, out_q
    model = tf.keras.Sequential([tf.keras.Input((n_inputs,))] + layers, name=f"keras_trees_{seed}")
    randomize_keras(model, seed)
    ir = to_ir(model)
    ir.metadata["name"] = f"keras-trees-{seed}"
    return NetworkCase(ir, {}, dict(seed=seed, n_inputs=n_inputs, input_bits=in_bits, layers=spec,
                                    framework="qkeras"), model)


@st.composite
def dwn_models(draw, framework: str = "torch", max_inputs: int = 5, max_bits: int = 6, max_depth: int = 2,
               max_width: int = 12, max_fan_in: int = 6):
    """A :class:`NetworkCase` whose ``model`` is a random DWN-style stage model: thermometer encoder
    (random strictly increasing thresholds, 1..3 per feature, on ``1..max_bits``-bit codes, signed or
    not), 1..``max_depth`` table layers (fan-in 1..6, fixed or learnable mapping with random scores,
    over all inputs or a few candidates per slot, random tables), a GroupSum head with random groups
    and tau, argmax or not.  ``framework``: ``"torch"`` (``lutnet.nn.dwn.DWNNet``) or ``"keras"``
    (``lutnet.keras.dwn.DWNModel`` built from the same seeds, holding the PyTorch draw's parameters;
    ``spec['torch']`` is that model)."""
    import torch

    from ..nn import dwn as td
    from ..testing import random_groups, random_thresholds
    n_in = draw(st.integers(1, max_inputs))
    bits = draw(st.integers(1, max_bits))
    signed = draw(st.booleans()) and bits >= 2
    z = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2 ** 20))
    rng = np.random.default_rng(seed)
    enc = td.Thermometer(n_in, z, "quantile", bits, signed, 1.0 / (1 << bits))
    enc.set_thresholds(np.stack(random_thresholds(rng, n_in, z, enc.quant.code_min, enc.quant.code_max)))
    layers, args, src = [], [], enc.out_features
    for li in range(draw(st.integers(1, max_depth))):
        w = draw(st.integers(1, max_width))
        f = draw(st.integers(1, min(src, max_fan_in)))
        learn = draw(st.booleans()) and src > f
        a = dict(units=w, fan_in=f, seed=seed + li, name=f"layer{li}",
                 mapping="learnable" if learn else draw(st.sampled_from(["random", "balanced"])),
                 mapping_candidates=draw(st.sampled_from([None, f + 1])) if learn else None)
        layer = td.TableLayer(src, w, f, mapping=a["mapping"], seed=a["seed"], name=a["name"],
                              mapping_candidates=a["mapping_candidates"])
        with torch.no_grad():
            layer.table.copy_(torch.from_numpy(rng.uniform(-1, 1, layer.table.shape).astype(np.float32)))
            if learn:
                layer.mapping.scores.copy_(torch.from_numpy(rng.normal(0, 1, layer.mapping.scores.shape)
                                                            .astype(np.float32)))
                layer.freeze()
        layers.append(layer)
        args.append(a)
        src = w
    n_classes = draw(st.integers(1, min(src, 4)))
    groups = random_groups(rng, src, n_classes)
    argmax = draw(st.booleans())
    tau = draw(st.sampled_from([1.0, 2.0, 1 / 0.3]))
    model = td.DWNNet(enc, layers, n_classes=n_classes, tau=tau, groups=groups, argmax=argmax).eval()
    desc = dict(seed=seed, n_inputs=n_in, input_bits=bits, input_signed=signed, thresholds_per_feature=z,
                layers=[{k: v for k, v in a.items() if k != "name"} for a in args], n_classes=n_classes,
                argmax=argmax, framework=framework)
    if framework == "keras":
        desc["torch"], model = model, _keras_dwn_twin(model, args)
    ir = model.to_ir(metadata={"name": f"dwn-{framework}-{seed}"})
    return NetworkCase(ir, {}, desc, model)


def _keras_dwn_twin(net, args):
    """The Keras ``DWNModel`` built with the PyTorch draw's arguments (the same core draws of wiring
    and mapping candidates, checked) and holding its thresholds, tables and scores."""
    from ..keras import dwn as kd
    e = net.encoder
    enc = kd.Thermometer(e.in_features, e.bits_per_feature, e.fit_kind, e.quant.bits, e.quant.signed,
                         float(e.quant.scale), float(e.quant.zero_point), thresholds=e.thresholds.numpy())
    model = kd.DWNModel(enc, [kd.TableLayer(**a) for a in args], n_classes=net.head.n_classes, tau=net.head.tau,
                        groups=net.head.groups.numpy(), argmax=net.argmax)
    for t, k in zip(net.layers, model.tables):
        k.table.assign(t.table.detach().numpy())
        if t.mapping is not None:
            tc = t.mapping.candidates
            assert (k.candidates is None) == (tc is None) and (tc is None or (k.candidates.numpy() == tc.numpy()).all())
            k.scores.assign(t.mapping.scores.detach().numpy())
        k.connectivity.assign(t.connectivity.numpy().astype(np.int32))
    return model
