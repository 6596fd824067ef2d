"""Brevitas LUT layers: sparse layers of LUT neurons with pluggable neuron functions.

A :class:`LUTLayer` has ``out_features`` neurons; neuron k reads the ``fan_in`` inputs listed in
row k of the saved buffer ``connectivity``: drawn with ``seed`` (``"random"``: each neuron draws its
inputs independently; ``"balanced"``: inputs are dealt out from shuffled decks, so every input is
read equally often, +-1, and a layer with ``out_features * fan_in <= in_features`` is a tree) from
all inputs or from ``input_pool``, or passed explicitly as an index array.
Its output is ``output_quant(batch_norm(neuron_fn(inputs)))``.  ``input_mask`` (saved too) marks
inputs removed by pruning; a pruned input is read as 0 and drops out of the neuron's table.

In eval mode a layer computes on integer codes: it takes the codes of its input quantizer (or of the
previous layer's QuantTensor), dequantizes them with one fixed formula, and evaluates the neuron
function on the batch-invariant path.  Table extraction (:func:`lutnet.export.to_ir`) calls the
same :meth:`LUTLayer.function_of_codes`, so the model and its tables agree bit for bit.

Layers only train and export; they never write files.
"""
from __future__ import annotations

from collections import deque

import numpy as np
import torch
from brevitas.quant_tensor import QuantTensor
from torch import nn

from ..quant import QuantInfo, UnsignedActQuant, int_codes, make_act_quant
from .neurons import make_neuron


def random_connectivity(in_features: int, out_features: int, fan_in: int, seed: int, pool=None) -> torch.Tensor:
    """Each neuron reads ``fan_in`` distinct inputs drawn uniformly from ``pool`` (default: all
    ``in_features`` inputs), independently of the other neurons (seeded, reproducible)."""
    g = torch.Generator().manual_seed(int(seed))
    n = in_features if pool is None else len(pool)
    pick = torch.argsort(torch.rand(out_features, n, generator=g), dim=1)[:, :fan_in]
    return (pick if pool is None else torch.as_tensor(np.asarray(pool), dtype=torch.long)[pick]).contiguous()


def balanced_connectivity(in_features: int, out_features: int, fan_in: int, seed: int, pool=None) -> torch.Tensor:
    """Neurons take their ``fan_in`` distinct inputs in turn from a queue of shuffled copies of
    ``pool`` (default: all inputs): every input is read by as many neurons as any other, +-1, and
    when ``out_features * fan_in <= len(pool)`` no input is read twice (a tree).  An input that a
    neuron already reads is put back at the front of the queue for the next neuron."""
    cand = np.arange(in_features) if pool is None else np.asarray(pool, dtype=np.int64)
    rng = np.random.default_rng(int(seed))
    queue: deque = deque()
    rows = np.empty((out_features, fan_in), dtype=np.int64)
    for k in range(out_features):
        row, skipped = [], []
        while len(row) < fan_in:
            if not queue:
                queue.extend(rng.permutation(cand).tolist())
            c = queue.popleft()
            (skipped if c in row else row).append(c)
        queue.extendleft(reversed(skipped))
        rows[k] = row
    return torch.as_tensor(rows)


CONNECTIVITY = {"random": random_connectivity, "balanced": balanced_connectivity}
CONNECTIVITY_KINDS = tuple(CONNECTIVITY)


class LUTLayer(nn.Module):
    def __init__(self, in_features: int, out_features: int, fan_in: int, neuron="linear",
                 input_quant=None, output_quant=UnsignedActQuant, input_bit_width: int | None = None,
                 output_bit_width: int | None = 2, batch_norm: bool = True, connectivity="random",
                 seed: int = 0, name: str | None = None, input_pool=None, **neuron_options):
        super().__init__()
        self.name = name or f"LUTLayer({in_features}->{out_features})"
        where = f"LUTLayer {self.name!r}"
        if fan_in < 1:
            raise ValueError(f"{where}: fan_in must be >= 1, got {fan_in}")
        if fan_in > in_features:
            raise ValueError(f"{where}: fan_in={fan_in} is larger than in_features={in_features} "
                             f"(the width of the previous layer); use fan_in <= {in_features}")
        self.in_features, self.out_features, self.fan_in = in_features, out_features, fan_in
        self.neuron = make_neuron(neuron, out_features, fan_in, **neuron_options)
        self.bn = nn.BatchNorm1d(out_features) if batch_norm else None
        self.input_quant = make_act_quant(input_quant, input_bit_width, where + " input_quant")
        self.output_quant = make_act_quant(output_quant, output_bit_width, where + " output_quant")
        if self.output_quant is None:
            raise ValueError(f"{where}: output_quant is required (a LUT neuron's output is a code)")
        if input_pool is not None:
            input_pool = np.unique(np.asarray(input_pool, dtype=np.int64))
            if input_pool.size and (input_pool.min() < 0 or input_pool.max() >= in_features):
                raise ValueError(f"{where}: input_pool indices must lie in 0..{in_features - 1}")
            if input_pool.size < fan_in:
                raise ValueError(f"{where}: input_pool has {input_pool.size} inputs but fan_in={fan_in}; "
                                 f"give a larger pool or a smaller fan_in")
        if connectivity is None or isinstance(connectivity, str):
            kind = connectivity or "random"
            if kind not in CONNECTIVITY_KINDS:
                raise ValueError(f"{where}: connectivity must be one of {', '.join(CONNECTIVITY_KINDS)} "
                                 f"or an index array, got {kind!r}")
            conn = CONNECTIVITY[kind](in_features, out_features, fan_in, seed, input_pool)
        else:
            if input_pool is not None:
                raise ValueError(f"{where}: input_pool only applies to drawn connectivity, not to an index array")
            conn = torch.as_tensor(connectivity, dtype=torch.long)
            if conn.shape != (out_features, fan_in):
                raise ValueError(f"{where}: connectivity must have shape ({out_features}, {fan_in}); "
                                 f"got {tuple(conn.shape)}")
            if conn.numel() and (conn.min() < 0 or conn.max() >= in_features):
                raise ValueError(f"{where}: connectivity indices must lie in 0..{in_features - 1}")
            if any(len(set(r)) != len(r) for r in conn.tolist()):
                raise ValueError(f"{where}: a neuron lists the same input twice in connectivity")
        self.register_buffer("connectivity", conn)
        self.register_buffer("input_mask", torch.ones(out_features, fan_in, dtype=torch.bool))

    def extra_repr(self):
        return f"name={self.name!r}, in_features={self.in_features}, out_features={self.out_features}, fan_in={self.fan_in}"

    # ------------------------------------------------------------ the neuron function
    def _post(self, y, exact):
        if self.bn is None:
            return y
        if not exact:
            return self.bn(y)
        bn = self.bn  # element-wise, fixed order: batch-invariant
        inv_std = 1.0 / torch.sqrt(bn.running_var + bn.eps)
        return (y - bn.running_mean) * inv_std * bn.weight + bn.bias

    def function_of_codes(self, codes, scale, zero_point):
        """Pre-quantization output (..., out) from input codes (..., out, F) (or (..., 1, F)):
        dequantize, zero the pruned inputs, neuron function, batch norm. Batch-invariant."""
        v = (codes.to(torch.float32) - zero_point) * scale
        if not bool(self.input_mask.all()):  # (skipping it keeps (rows, 1, F) enumeration inputs shared)
            v = torch.where(self.input_mask, v, torch.zeros((), dtype=v.dtype, device=v.device))
        return self._post(self.neuron(v, exact=True), exact=True)

    # ------------------------------------------------------------ forward
    def forward(self, x):
        qt = self.input_quant(x) if self.input_quant is not None else x
        if not isinstance(qt, QuantTensor):
            raise TypeError(f"LUTLayer {self.name!r}: got a float tensor but the layer has no input_quant; "
                            f"give the first layer input_quant=... or feed it the previous LUTLayer's output")
        if self.training:
            v = qt.value[:, self.connectivity] * self.input_mask
            y = self._post(self.neuron(v, exact=False), exact=False)
        else:
            codes = int_codes(qt)[:, self.connectivity]
            y = self.function_of_codes(codes, qt.scale.reshape(()), qt.zero_point.reshape(()).to(torch.float32))
        return self.output_quant(y)

    # ------------------------------------------------------------ encodings
    def output_info(self) -> QuantInfo:
        return QuantInfo(self.output_quant, f"LUTLayer {self.name!r} output_quant")

    def input_info(self) -> QuantInfo:
        return QuantInfo(self.input_quant, f"LUTLayer {self.name!r} input_quant")


class LUTNet(nn.Module):
    """A chain of LUT layers: the first quantizes the float input, each next one reads the previous
    one's output codes; ``forward`` returns the last layer's dequantized outputs (class scores)."""

    def __init__(self, layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        if not len(self.layers):
            raise ValueError("LUTNet needs at least one LUTLayer")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, LUTLayer):
                raise TypeError(f"LUTNet: element {i} is {type(layer).__name__}, not a LUTLayer")
            if i == 0 and layer.input_quant is None:
                raise ValueError(f"LUTNet: the first layer {layer.name!r} needs input_quant= (it quantizes the float input)")
            if i > 0 and layer.input_quant is not None:
                raise ValueError(f"LUTNet: layer {i} ({layer.name!r}) has an input_quant; only the first layer "
                                 f"quantizes its input, the others read the previous layer's output codes")
            if i > 0 and layer.in_features != self.layers[i - 1].out_features:
                raise ValueError(f"LUTNet: layer {i} ({layer.name!r}) has in_features={layer.in_features} but "
                                 f"layer {i - 1} has out_features={self.layers[i - 1].out_features}")

    @property
    def in_features(self):
        return self.layers[0].in_features

    @property
    def out_features(self):
        return self.layers[-1].out_features

    def forward_quant(self, x) -> QuantTensor:
        qt = x
        for layer in self.layers:
            qt = layer(qt)
        return qt

    def forward(self, x):
        return self.forward_quant(x).value

    @torch.no_grad()
    def input_codes(self, x) -> torch.Tensor:
        """The codes the first layer's input quantizer produces for float inputs (eval mode)."""
        was = self.training
        self.eval()
        try:
            return int_codes(self.layers[0].input_quant(x)).to(torch.int64)
        finally:
            self.train(was)

    @torch.no_grad()
    def output_codes(self, x, batch_size: int = 8192) -> torch.Tensor:
        """The last layer's output codes for float inputs, in eval mode."""
        was = self.training
        self.eval()
        try:
            outs = [int_codes(self.forward_quant(x[i:i + batch_size])).to(torch.int64)
                    for i in range(0, len(x), batch_size)]
        finally:
            self.train(was)
        return torch.cat(outs) if outs else torch.zeros(0, self.out_features, dtype=torch.int64)
