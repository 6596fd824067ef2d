"""Neuron functions: what a LUT neuron computes from its F dequantized inputs, before batch norm
and the output quantizer.  All neurons of a layer are evaluated at once: inputs ``x`` have shape
``(..., out_features, F)`` (or ``(..., 1, F)``, broadcast over neurons) and the result has shape
``(..., out_features)``.

Every function has two paths.  ``exact=False`` (training) uses fused reductions.  ``exact=True``
(evaluation and table extraction) uses only element-wise multiplies and adds in a fixed order, so
each output element is the same IEEE-754 computation whatever the batch size or shape; this is
what makes the Python model and its truth tables agree bit for bit.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch
from torch import nn


def _sum_products(terms, weight):
    """``sum_j terms[j] * weight[..., j]`` accumulated left to right (batch-invariant)."""
    w = weight.movedim(-1, 0).contiguous()  # contiguous columns: same values, faster kernels
    acc = terms[0] * w[0]
    for j in range(1, len(terms)):
        acc = acc + terms[j] * w[j]
    return acc


class NeuronFunction(nn.Module):
    kind = ""

    def __init__(self, out_features: int, fan_in: int):
        super().__init__()
        self.out_features = out_features
        self.fan_in = fan_in

    def extra_repr(self):
        return f"kind={self.kind}, out_features={self.out_features}, fan_in={self.fan_in}"


class LinearNeuron(NeuronFunction):
    """LogicNets: ``w . x + b`` over the neuron's F inputs."""
    kind = "linear"

    def __init__(self, out_features, fan_in):
        super().__init__(out_features, fan_in)
        self.weight = nn.Parameter(torch.empty(out_features, fan_in))
        self.bias = nn.Parameter(torch.zeros(out_features))
        nn.init.uniform_(self.weight, -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in))

    def forward(self, x, exact=False):
        if exact:
            return _sum_products([x[..., j] for j in range(self.fan_in)], self.weight) + self.bias
        return (x * self.weight).sum(-1) + self.bias


def monomials(fan_in: int, degree: int) -> list[tuple[int, ...]]:
    """All monomials of degree 1..D in F variables, as sorted index tuples ((0,), (1,), (0, 0), ...)."""
    return [m for d in range(1, degree + 1) for m in itertools.combinations_with_replacement(range(fan_in), d)]


class PolyNeuron(NeuronFunction):
    """PolyLUT: a weighted sum of all monomials of the F inputs up to degree D, plus a bias."""
    kind = "poly"

    def __init__(self, out_features, fan_in, degree: int = 2):
        super().__init__(out_features, fan_in)
        if degree < 1:
            raise ValueError(f"poly neuron: degree must be >= 1, got {degree}")
        self.degree = degree
        self.terms = monomials(fan_in, degree)
        self.weight = nn.Parameter(torch.empty(out_features, len(self.terms)))
        self.bias = nn.Parameter(torch.zeros(out_features))
        nn.init.uniform_(self.weight, -1 / math.sqrt(len(self.terms)), 1 / math.sqrt(len(self.terms)))

    def features(self, x):
        """Monomials, each the product of its factors left to right, built from its prefix."""
        cache = {}
        out = []
        for m in self.terms:
            v = x[..., m[0]] if len(m) == 1 else cache[m[:-1]] * x[..., m[-1]]
            cache[m] = v
            out.append(v)
        return out

    def forward(self, x, exact=False):
        feats = self.features(x)
        if exact:
            return _sum_products(feats, self.weight) + self.bias
        return (torch.stack(feats, -1) * self.weight).sum(-1) + self.bias

    def extra_repr(self):
        return super().extra_repr() + f", degree={self.degree}, monomials={len(self.terms)}"


class SubnetNeuron(NeuronFunction):
    """NeuraLUT: a small MLP inside every neuron, hidden in its truth table.

    ``depth`` hidden layers of ``width`` units, then a linear output unit: ``depth + 1`` linear
    layers, ReLU after each but the last.  With ``skip = S > 0`` the linear layers form blocks of S
    (the last block may be shorter); each block's input is added to the pre-activation of its last
    layer, through a learned linear projection where the widths differ.  NeuraLUT's published
    sub-networks (L = 4 linear layers, skips every S = 2) are ``depth=3, skip=2``: fc1-fc2 with a
    projected input skip, fc3-fc4 with a projected skip down to the output."""
    kind = "subnet"

    def __init__(self, out_features, fan_in, width: int = 16, depth: int = 2, skip: int = 0):
        super().__init__(out_features, fan_in)
        if width < 1 or depth < 0 or skip < 0:
            raise ValueError(f"subnet neuron: need width >= 1, depth >= 0, skip >= 0; got "
                             f"width={width}, depth={depth}, skip={skip}")
        self.width, self.depth, self.skip = width, depth, skip
        dims = [fan_in] + [width] * depth + [1]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for a, b in zip(dims[:-1], dims[1:]):
            self.weights.append(nn.Parameter(torch.randn(out_features, a, b) * math.sqrt(2.0 / a)))
            self.biases.append(nn.Parameter(torch.zeros(out_features, b)))
        n_lin = depth + 1
        self.blocks = [(s, min(s + skip, n_lin)) for s in range(0, n_lin, skip)] if skip else []
        self.proj = nn.ParameterDict()
        for s, e in self.blocks:
            if dims[s] != dims[e]:
                self.proj[str(s)] = nn.Parameter(torch.randn(out_features, dims[s], dims[e]) / math.sqrt(dims[s]))

    @staticmethod
    def _linear(h, w, b, exact):
        if exact:  # h (..., out, a), w (out, a, b): accumulate over a in order
            wt = w.transpose(0, 1).contiguous()  # (a, out, b)
            acc = h[..., 0:1] * wt[0]
            for i in range(1, w.shape[1]):
                acc = acc + h[..., i:i + 1] * wt[i]
            return acc if b is None else acc + b
        y = torch.einsum("...oa,oab->...ob", h, w)
        return y if b is None else y + b

    def forward(self, x, exact=False):
        ends = {e: s for s, e in self.blocks}
        starts = {s for s, _ in self.blocks}
        h, block_in = x, x
        n_lin = len(self.weights)
        for i in range(n_lin):
            if i in starts:
                block_in = h
            z = self._linear(h, self.weights[i], self.biases[i], exact)
            if i + 1 in ends:
                key = str(ends[i + 1])
                z = z + (self._linear(block_in, self.proj[key], None, exact) if key in self.proj else block_in)
            h = torch.relu(z) if i < n_lin - 1 else z
        return h[..., 0]

    def extra_repr(self):
        return super().extra_repr() + f", width={self.width}, depth={self.depth}, skip={self.skip}"


NEURON_KINDS = {"linear": LinearNeuron, "poly": PolyNeuron, "subnet": SubnetNeuron}


@dataclass
class NeuronSpec:
    """A neuron kind and its options (``degree`` for poly; ``width``/``depth``/``skip`` for subnet)."""
    kind: str = "linear"
    degree: int = 2
    width: int = 16
    depth: int = 2
    skip: int = 0

    def build(self, out_features, fan_in) -> NeuronFunction:
        if self.kind not in NEURON_KINDS:
            raise ValueError(f"unknown neuron kind {self.kind!r}; known kinds: {', '.join(NEURON_KINDS)}")
        if self.kind == "poly":
            return PolyNeuron(out_features, fan_in, degree=self.degree)
        if self.kind == "subnet":
            return SubnetNeuron(out_features, fan_in, width=self.width, depth=self.depth, skip=self.skip)
        return LinearNeuron(out_features, fan_in)


def make_neuron(neuron, out_features, fan_in, **options) -> NeuronFunction:
    """``neuron`` is a kind name (with ``options``), a NeuronSpec, or a NeuronFunction class."""
    if isinstance(neuron, str):
        return NeuronSpec(kind=neuron, **options).build(out_features, fan_in)
    if isinstance(neuron, NeuronSpec):
        return neuron.build(out_features, fan_in)
    if isinstance(neuron, type) and issubclass(neuron, NeuronFunction):
        return neuron(out_features, fan_in, **options)
    raise TypeError(f"neuron must be a kind name ({', '.join(NEURON_KINDS)}), a NeuronSpec or a "
                    f"NeuronFunction subclass; got {neuron!r}")
