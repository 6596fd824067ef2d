"""Neuron functions of the Brevitas LUT layer: PyTorch parameters over the families of
:mod:`lutnet.core.neurons` (options, parameter list and forward function live there, written once).

All neurons of a layer are evaluated at once: inputs ``x`` have shape ``(..., out_features, F)``
(or ``(..., 1, F)``, broadcast over neurons) and the result has shape ``(..., out_features)``.
``exact=False`` (training) uses fused reductions; ``exact=True`` (evaluation and table extraction)
is the core's batch-invariant chain of element-wise multiplies and adds.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import torch
from torch import nn

from ..config import NeuronConfig
from ..core import kernels
from ..core.neurons import KINDS, ParamSpec, make_family, monomials  # noqa: F401  (monomials re-exported)


class TorchOps:
    """The core's ops adapter over PyTorch tensors."""
    name = "torch"

    @staticmethod
    def dot_chain(x, w, b):
        needs_grad = torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in (x, w, b))
        n, a, nb = w.shape
        rows = x.numel() // max(1, x.shape[-1] * x.shape[-2])
        if x.device.type == "cpu" and not needs_grad and kernels.wants_kernel(rows, n, a, nb):
            out = kernels.dot_chain(x.detach().numpy(), w.detach().numpy(), None if b is None else b.detach().numpy(),
                                    force="kernel")  # the core's compiled chain
            return torch.from_numpy(out)
        wt = w.transpose(0, 1).contiguous()  # (A, N, B); the same per-element sequence, on any device
        acc = x[..., 0:1] * wt[0]
        for i in range(1, w.shape[1]):
            acc = acc + x[..., i:i + 1] * wt[i]
        return acc if b is None else acc + b

    @staticmethod
    def linear(h, w, b):
        y = torch.einsum("...oa,oab->...ob", h, w)
        return y if b is None else y + b

    relu = staticmethod(torch.relu)
    stack = staticmethod(torch.stack)

    @staticmethod
    def columns(w):
        return w.movedim(-1, 0).contiguous()

    @staticmethod
    def to_numpy(t):
        return t.detach().cpu().numpy()

    @staticmethod
    def from_numpy(a, like):
        return torch.from_numpy(a).to(like.device)

    @staticmethod
    def reduce_sum(x, dim):
        return x.sum(dim)

    @staticmethod
    def to_float(codes):
        return codes.to(torch.float32)

    @staticmethod
    def mask_zero(mask, v):
        return torch.where(mask, v, torch.zeros((), dtype=v.dtype, device=v.device))

    @staticmethod
    def all(mask) -> bool:
        return bool(mask.all())


TORCH_OPS = TorchOps()
_SLOT = re.compile(r"(weights|biases|proj)_(\d+)")


def _init(spec: ParamSpec) -> torch.Tensor:
    i = spec.init
    if i.dist == "uniform":
        return nn.init.uniform_(torch.empty(spec.shape), -i.bound, i.bound)
    if i.dist == "normal":
        r = torch.randn(spec.shape)
        return r / i.divisor if i.divisor else r * i.std
    return torch.zeros(spec.shape)


class NeuronFunction(nn.Module):
    """The parameters of one family (state-dict names ``weight``/``bias``, or ``weights.i``,
    ``biases.i``, ``proj.s`` for sub-networks) and its forward."""
    kind = ""

    def __init__(self, out_features: int, fan_in: int, where: str = "LUTLayer", **options):
        super().__init__()
        self.family = make_family(self.kind, out_features, fan_in, where, **options)
        self.out_features, self.fan_in = out_features, fan_in
        for k, v in self.family.options.items():
            setattr(self, k, v)
        for spec in self.family.params():  # in the family's order: the RNG draws follow it
            value = nn.Parameter(_init(spec))
            m = _SLOT.fullmatch(spec.name)
            if m is None:
                self.register_parameter(spec.name, value)
            elif m.group(1) == "proj":
                if not hasattr(self, "proj"):
                    self.proj = nn.ParameterDict()
                self.proj[m.group(2)] = value
            else:
                if not hasattr(self, m.group(1)):
                    setattr(self, m.group(1), nn.ParameterList())
                getattr(self, m.group(1)).append(value)

    def params(self) -> dict:
        """Parameters by the family's names (``weights_0``, ``proj_2``, ...)."""
        out = {}
        for name, p in self.named_parameters():
            parts = name.split(".")
            out["_".join(parts)] = p
        return out

    def forward(self, x, exact=False):
        return self.family.forward(TORCH_OPS, x, self.params(), exact)

    def extra_repr(self):
        extra = self.family.describe()
        return f"kind={self.kind}, out_features={self.out_features}, fan_in={self.fan_in}" + (f", {extra}" if extra else "")


class LinearNeuron(NeuronFunction):
    """LogicNets: ``w . x + b`` over the neuron's F inputs."""
    kind = "linear"


class PolyNeuron(NeuronFunction):
    """PolyLUT: a weighted sum of all monomials of the F inputs up to degree D, plus a bias."""
    kind = "poly"

    @property
    def terms(self):
        return self.family.terms


class SubnetNeuron(NeuronFunction):
    """NeuraLUT: a small MLP inside every neuron (see :class:`lutnet.core.neurons.SubnetFamily`)."""
    kind = "subnet"

    def __init__(self, out_features, fan_in, where: str = "LUTLayer", **options):
        super().__init__(out_features, fan_in, where, **options)
        if not hasattr(self, "proj"):
            self.proj = nn.ParameterDict()

    @property
    def blocks(self):
        return self.family.blocks


class AddNeuron(NeuronFunction):
    """PolyLUT-Add's adder: the sum of the inputs, no parameters (:class:`lutnet.core.assemble.AddFamily`)."""
    kind = "add"


NEURON_KINDS = {"linear": LinearNeuron, "poly": PolyNeuron, "subnet": SubnetNeuron, "add": AddNeuron}
assert tuple(NEURON_KINDS) == KINDS


@dataclass
class NeuronSpec(NeuronConfig):
    """A neuron kind and its options (``degree`` for poly; ``width``/``depth``/``skip`` for subnet),
    as in a config, that builds the PyTorch neuron."""

    def build(self, out_features, fan_in, where: str = "LUTLayer") -> NeuronFunction:
        family = make_family(self.kind, out_features, fan_in, where, degree=self.degree, width=self.width,
                             depth=self.depth, skip=self.skip)
        return NEURON_KINDS[self.kind](out_features, fan_in, where, **family.options)


def make_neuron(neuron, out_features, fan_in, where: str = "LUTLayer", **options) -> NeuronFunction:
    """``neuron`` is a kind name (with ``options``), a NeuronSpec, or a NeuronFunction class."""
    if isinstance(neuron, str):
        return NeuronSpec(kind=neuron, **options).build(out_features, fan_in, where)
    if isinstance(neuron, NeuronSpec):
        return neuron.build(out_features, fan_in, where)
    if isinstance(neuron, type) and issubclass(neuron, NeuronFunction):
        return neuron(out_features, fan_in, where, **options)
    raise TypeError(f"{where}: neuron must be a kind name ({', '.join(KINDS)}), a NeuronSpec or a "
                    f"NeuronFunction subclass; got {neuron!r}")
