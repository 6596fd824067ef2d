"""Neuron families, written once for every framework.

A family describes what a LUT neuron computes from its F dequantized inputs, before batch norm and
the output quantizer: its options (validated, with messages naming the layer), its parameters
(name, shape, init recipe: each frontend creates them from this list) and its forward function.

The forward is written once over a tiny *ops adapter* (``ops``), so the same code runs on numpy
arrays (:class:`NumpyOps`: the Keras inference path and all table extraction), PyTorch tensors
(``lutnet.nn.neurons.TORCH_OPS``) and TensorFlow tensors (``lutnet.keras.neurons.TF_OPS``, training).
Inputs ``x`` have shape ``(..., out, F)`` (or ``(..., 1, F)``, broadcast over neurons), results
``(..., out)``.  ``exact=False`` (training) may use fused reductions; ``exact=True`` (inference and
table extraction) uses only element-wise float32 multiplies and adds in a fixed order
(:func:`lutnet.core.kernels.dot_chain`), so every output element is the same IEEE-754 computation
whatever the batch size, shape or framework; this is what makes a model and its truth tables agree
bit for bit.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from ..errors import LayerConfigError
from . import kernels

KINDS = ("linear", "poly", "subnet", "add")  # "add": PolyLUT-Add's adder (lutnet.core.assemble)
OPTION_NAMES = {"linear": (), "poly": ("degree",), "subnet": ("width", "depth", "skip"), "add": ()}


# ---------------------------------------------------------------------- ops adapters
# An ops adapter provides: dot_chain(x, w, b) (exact: the left-to-right chain of
# :func:`lutnet.core.kernels.dot_chain`), linear(h, w, b) and reduce_sum(x, axis) (training only),
# relu, stack(seq, axis), columns(w) (last axis first, contiguous), to_float(codes),
# mask_zero(mask, v), all(mask), and to_numpy(t) / from_numpy(a, like) (per-neuron constants such
# as batch norm's 1/sqrt(var + eps) are made in numpy).
class NumpyOps:
    """The ops adapter over numpy float32 arrays (exact path only)."""
    name = "numpy"

    @staticmethod
    def dot_chain(x, w, b):
        return kernels.dot_chain(x, w, b)

    @staticmethod
    def relu(z):
        return np.maximum(z, np.float32(0))

    @staticmethod
    def stack(seq, axis):
        if axis != -1:
            return np.stack(seq, axis)
        # stacked feature-major (what dot_chain reads), presented feature-last
        seq = [np.asarray(s) for s in seq]
        return np.stack([s.reshape(-1, s.shape[-1]).T for s in seq], 0).transpose(2, 1, 0).reshape(
            seq[0].shape + (len(seq),))

    @staticmethod
    def columns(w):
        return np.ascontiguousarray(np.moveaxis(w, -1, 0))

    @staticmethod
    def to_numpy(a):
        return np.asarray(a)

    @staticmethod
    def from_numpy(a, like):
        return a

    @staticmethod
    def to_float(codes):
        return np.asarray(codes, np.float32)

    @staticmethod
    def mask_zero(mask, v):
        return np.where(mask, v, np.float32(0))

    @staticmethod
    def all(mask) -> bool:
        return bool(np.all(mask))


NUMPY_OPS = NumpyOps()


# ---------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class Init:
    """How a parameter starts: ``uniform`` in [-bound, bound]; ``normal`` with standard deviation
    ``std`` (drawn as ``randn * std``, or ``randn / divisor`` when ``divisor`` is set); ``zeros``.
    ``seed_offset`` is added to the layer seed by frontends that seed each initializer (Keras)."""
    dist: str
    bound: float = 0.0
    std: float = 0.0
    divisor: float = 0.0
    seed_offset: int = 0


@dataclass(frozen=True)
class ParamSpec:
    name: str
    shape: tuple
    init: Init


# ---------------------------------------------------------------------- shared arithmetic
def monomials(fan_in: int, degree: int) -> list[tuple[int, ...]]:
    """All monomials of degree 1..D in F variables, as sorted index tuples ((0,), (1,), (0, 0), ...)."""
    return [m for d in range(1, degree + 1) for m in itertools.combinations_with_replacement(range(fan_in), d)]


def monomial_features(x, terms):
    """Each monomial as the product of its factors left to right, built from its prefix."""
    cache, out = {}, []
    for m in terms:
        v = x[..., m[0]] if len(m) == 1 else cache[m[:-1]] * x[..., m[-1]]
        cache[m] = v
        out.append(v)
    return out


def inv_std(var, eps) -> np.ndarray:
    """``1 / sqrt(var + eps)`` per neuron in IEEE float32 (numpy: correctly rounded sqrt and divide;
    PyTorch's CPU ``sqrt`` is not correctly rounded, so every framework takes it from here)."""
    v = np.asarray(var, np.float32) + np.float32(eps)
    return np.float32(1.0) / np.sqrt(v)


def sum_terms(ops, terms, weight, bias):
    """``dot_chain`` over a list of terms ``(..., N)`` and ``weight (N, T)``: ``acc = t0 * w0; acc =
    acc + t1 * w1; ...; acc + bias`` (the same per-element sequence, without stacking the terms)."""
    w = ops.columns(weight)  # (T, N) contiguous
    acc = terms[0] * w[0]
    for j in range(1, len(terms)):
        acc = acc + terms[j] * w[j]
    return acc + bias


def batch_norm(ops, y, mean, var, eps, gamma, beta):
    """Running-statistics batch norm, element-wise in one fixed order (batch-invariant):
    ``(y - mean) * (1 / sqrt(var + eps)) * gamma + beta``."""
    return (y - mean) * ops.from_numpy(inv_std(ops.to_numpy(var), eps), like=y) * gamma + beta


def dequantize(ops, codes, scale, zero_point, mask=None):
    """Values of input codes, ``(code - zero_point) * scale``; inputs where ``mask`` is False read 0."""
    v = (ops.to_float(codes) - zero_point) * scale
    if mask is not None and not ops.all(mask):  # skipping keeps (rows, 1, F) enumeration inputs shared
        v = ops.mask_zero(mask, v)
    return v


# ---------------------------------------------------------------------- families
class NeuronFamily:
    kind = ""

    def __init__(self, out_features: int, fan_in: int, where: str = "LUTLayer"):
        self.out_features, self.fan_in, self.where = int(out_features), int(fan_in), where

    @property
    def options(self) -> dict:
        """The family's options (what the IR records as the layer's ``attrs``)."""
        return {k: getattr(self, k) for k in OPTION_NAMES[self.kind]}

    def params(self) -> list[ParamSpec]:
        raise NotImplementedError

    def forward(self, ops, x, p: dict, exact: bool):
        raise NotImplementedError

    def work_width(self, shared_input: bool = False) -> float:
        """Floats per (row, neuron) the exact forward keeps alive at once (sizes extraction chunks);
        ``shared_input``: every neuron reads the same input row (unpruned table enumeration)."""
        return 1 + (self.fan_in / self.out_features if shared_input else self.fan_in)

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.options.items())


class LinearFamily(NeuronFamily):
    """LogicNets: ``w . x + b`` over the neuron's F inputs."""
    kind = "linear"

    def params(self):
        bound = 1 / math.sqrt(self.fan_in)
        return [ParamSpec("weight", (self.out_features, self.fan_in), Init("uniform", bound=bound)),
                ParamSpec("bias", (self.out_features,), Init("zeros"))]

    def forward(self, ops, x, p, exact):
        if exact:
            return ops.dot_chain(x, p["weight"][:, :, None], p["bias"][:, None])[..., 0]
        return ops.reduce_sum(x * p["weight"], -1) + p["bias"]


class PolyFamily(NeuronFamily):
    """PolyLUT: a weighted sum of all monomials of the F inputs up to degree D, plus a bias."""
    kind = "poly"

    def __init__(self, out_features, fan_in, where="LUTLayer", degree: int = 2):
        super().__init__(out_features, fan_in, where)
        if degree < 1:
            raise LayerConfigError(f"{where}: poly neuron degree must be >= 1, got {degree}")
        self.degree = int(degree)
        self.terms = monomials(self.fan_in, self.degree)

    def params(self):
        bound = 1 / math.sqrt(len(self.terms))
        return [ParamSpec("weight", (self.out_features, len(self.terms)), Init("uniform", bound=bound)),
                ParamSpec("bias", (self.out_features,), Init("zeros"))]

    def forward(self, ops, x, p, exact):
        feats = monomial_features(x, self.terms)
        if exact and x.shape[-2] != 1:  # per-neuron inputs: no stacked copy of (rows, N, T) features
            return sum_terms(ops, feats, p["weight"], p["bias"])
        feats = ops.stack(feats, -1)
        if exact:  # inputs shared by all neurons (table enumeration): one chain over few stacked rows
            return ops.dot_chain(feats, p["weight"][:, :, None], p["bias"][:, None])[..., 0]
        return ops.reduce_sum(feats * p["weight"], -1) + p["bias"]

    def work_width(self, shared_input=False):
        return 1 + (len(self.terms) / self.out_features if shared_input else len(self.terms))

    def describe(self):
        return super().describe() + f", monomials={len(self.terms)}"


class SubnetFamily(NeuronFamily):
    """NeuraLUT: a small MLP inside every neuron, hidden in its truth table.

    ``depth`` hidden layers of ``width`` units, then a linear output unit: ``depth + 1`` linear
    layers, ReLU after each but the last.  With ``skip = S > 0`` the linear layers form blocks of S
    (the last block may be shorter); each block's input is added to the pre-activation of its last
    layer, through a learned linear projection where the widths differ.  NeuraLUT's published
    sub-networks (L = 4 linear layers, skips every S = 2) are ``depth=3, skip=2``: fc1-fc2 with a
    projected input skip, fc3-fc4 with a projected skip down to the output."""
    kind = "subnet"

    def __init__(self, out_features, fan_in, where="LUTLayer", width: int = 16, depth: int = 2, skip: int = 0):
        super().__init__(out_features, fan_in, where)
        if width < 1 or depth < 0 or skip < 0:
            raise LayerConfigError(f"{where}: subnet neuron needs width >= 1, depth >= 0, skip >= 0; got "
                                   f"width={width}, depth={depth}, skip={skip}")
        self.width, self.depth, self.skip = int(width), int(depth), int(skip)
        self.dims = [self.fan_in] + [self.width] * self.depth + [1]
        n_lin = self.depth + 1
        self.blocks = [(s, min(s + self.skip, n_lin)) for s in range(0, n_lin, self.skip)] if self.skip else []
        self.projections = [s for s, e in self.blocks if self.dims[s] != self.dims[e]]

    def params(self):
        out, specs = self.out_features, []
        for i, (a, b) in enumerate(zip(self.dims[:-1], self.dims[1:])):
            specs.append(ParamSpec(f"weights_{i}", (out, a, b), Init("normal", std=math.sqrt(2.0 / a), seed_offset=i)))
            specs.append(ParamSpec(f"biases_{i}", (out, b), Init("zeros")))
        for s in self.projections:
            d = self.dims[s]
            specs.append(ParamSpec(f"proj_{s}", (out, d, self.dims[dict(self.blocks)[s]]),
                                   Init("normal", std=1 / math.sqrt(d), divisor=math.sqrt(d), seed_offset=100 + s)))
        return specs

    def forward(self, ops, x, p, exact):
        linear = ops.dot_chain if exact else ops.linear
        ends = {e: s for s, e in self.blocks}
        starts = {s for s, _ in self.blocks}
        h, block_in, n_lin = x, x, self.depth + 1
        for i in range(n_lin):  # a block's input joins the pre-activation of its last layer (NeuraLUT)
            if i in starts:
                block_in = h
            z = linear(h, p[f"weights_{i}"], p[f"biases_{i}"])
            if i + 1 in ends:
                key = f"proj_{ends[i + 1]}"
                z = z + (linear(block_in, p[key], None) if key in p else block_in)
            h = ops.relu(z) if i < n_lin - 1 else z
        return h[..., 0]

    def work_width(self, shared_input=False):
        return 2 * self.width


FAMILIES = {"linear": LinearFamily, "poly": PolyFamily, "subnet": SubnetFamily}


def make_family(kind: str, out_features: int, fan_in: int, where: str = "LUTLayer", **options) -> NeuronFamily:
    """The family ``kind`` with its options; options of other families are ignored (a config
    carries all of them), unknown kinds are refused naming the layer."""
    if kind not in FAMILIES:
        raise LayerConfigError(f"{where}: unknown neuron kind {kind!r}; known kinds: {', '.join(KINDS)}")
    unknown = set(options) - {n for names in OPTION_NAMES.values() for n in names}
    if unknown:
        raise LayerConfigError(f"{where}: unknown neuron option(s) {', '.join(sorted(unknown))}; "
                               f"options: degree (poly), width, depth, skip (subnet)")
    mine = {k: v for k, v in options.items() if k in OPTION_NAMES[kind]}
    return FAMILIES[kind](out_features, fan_in, where, **mine)


def exact_function(ops, family: NeuronFamily, codes, scale, zero_point, params: dict, mask=None, bn=None):
    """A LUT layer's pre-quantization output ``(..., out)`` from input codes ``(..., out|1, F)``:
    dequantize, zero the pruned inputs, the family's exact forward, batch norm (``bn``: ``(mean,
    var, eps, gamma, beta)`` or None).  Batch-invariant; the one function both the model's
    inference and its table extraction call."""
    v = dequantize(ops, codes, scale, zero_point, mask)
    y = family.forward(ops, v, params, exact=True)
    return y if bn is None else batch_norm(ops, y, *bn)


from . import assemble  # noqa: E402,F401  (registers the "add" family, built on this module's base class)
