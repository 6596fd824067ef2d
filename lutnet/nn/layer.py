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

import torch
from brevitas.quant_tensor import QuantTensor
from torch import nn

from ..core import connectivity as _conn
from ..core.connectivity import CONNECTIVITY_KINDS  # noqa: F401  (re-exported: builder/config use it)
from ..core.inputs import check_torch_features
from ..core.neurons import exact_function
from ..errors import LayerConfigError
from ..quant import QuantInfo, UnsignedActQuant, int_codes, make_act_quant
from .neurons import TORCH_OPS, make_neuron


def random_connectivity(in_features: int, out_features: int, fan_in: int, seed: int, pool=None) -> torch.Tensor:
    """:func:`lutnet.core.connectivity.random_connectivity` as a tensor."""
    return torch.from_numpy(_conn.random_connectivity(in_features, out_features, fan_in, seed, pool))


def balanced_connectivity(in_features: int, out_features: int, fan_in: int, seed: int, pool=None) -> torch.Tensor:
    """:func:`lutnet.core.connectivity.balanced_connectivity` as a tensor."""
    return torch.from_numpy(_conn.balanced_connectivity(in_features, out_features, fan_in, seed, pool))


CONNECTIVITY = {"random": random_connectivity, "balanced": balanced_connectivity}


def _learnable_mapping(where, mapping, in_features, out_features, fan_in, seed, conn, candidates):
    """``mapping="learnable"``: a :class:`lutnet.nn.dwn.LearnableMapping` starting from the drawn
    ``conn`` (any neuron kind; frozen into ``connectivity`` in eval mode); ``None``: fixed wiring."""
    if mapping is None or mapping == "fixed":
        return None
    if mapping != "learnable":
        raise LayerConfigError(f"{where}: mapping must be 'learnable' or None (fixed connectivity), got {mapping!r}")
    from .dwn import LearnableMapping
    return LearnableMapping(in_features, out_features, fan_in, seed, conn, 1.0, candidates)


class LUTLayer(nn.Module):
    def __init__(self, in_features: int, out_features: int, fan_in: int, neuron="linear",
                 input_quant=None, output_quant=UnsignedActQuant, input_bit_width: int | None = None,
                 output_bit_width: int | None = 2, batch_norm: bool = True, connectivity="random",
                 seed: int = 0, name: str | None = None, input_pool=None, mapping: str | None = None,
                 mapping_candidates: int | None = None, **neuron_options):
        super().__init__()
        self.name = name or f"LUTLayer({in_features}->{out_features})"
        where = f"LUTLayer {self.name!r}"
        conn = _conn.resolve_connectivity(where, connectivity, in_features, out_features, fan_in, seed, input_pool)
        self.in_features, self.out_features, self.fan_in = in_features, out_features, fan_in
        self.neuron = make_neuron(neuron, out_features, fan_in, where, **neuron_options)
        self.bn = nn.BatchNorm1d(out_features) if batch_norm else None
        self.input_quant = make_act_quant(input_quant, input_bit_width, where + " input_quant")
        self.output_quant = make_act_quant(output_quant, output_bit_width, where + " output_quant")
        if self.output_quant is None:
            raise LayerConfigError(f"{where}: output_quant is required (a LUT neuron's output is a code)")
        self.mapping = _learnable_mapping(where, mapping, in_features, out_features, fan_in, seed, conn,
                                          mapping_candidates)
        conn = torch.from_numpy(conn) if self.mapping is None else self.mapping.indices()
        self.register_buffer("connectivity", conn)
        self.register_buffer("input_mask", torch.ones(out_features, fan_in, dtype=torch.bool))

    def train(self, mode: bool = True):
        if not mode and self.mapping is not None:  # freeze the learned wiring: what eval and to_ir read
            with torch.no_grad():
                self.connectivity.copy_(self.mapping.indices())
        return super().train(mode)

    def extra_repr(self):
        return f"name={self.name!r}, in_features={self.in_features}, out_features={self.out_features}, fan_in={self.fan_in}"

    # ------------------------------------------------------------ the neuron function
    def bn_params(self):
        """``(mean, var, eps, gamma, beta)`` of the running-statistics batch norm, or None."""
        bn = self.bn
        return None if bn is None else (bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)

    def function_of_codes(self, codes, scale, zero_point):
        """Pre-quantization output (..., out) from input codes (..., out, F) (or (..., 1, F)):
        dequantize, zero the pruned inputs, neuron function, batch norm (the core's
        :func:`~lutnet.core.neurons.exact_function`). Batch-invariant."""
        return exact_function(TORCH_OPS, self.neuron.family, codes, scale, zero_point, self.neuron.params(),
                              self.input_mask, self.bn_params())

    # ------------------------------------------------------------ forward
    def forward(self, x):
        if self.input_quant is not None and not self.training:
            check_torch_features(x, self.in_features)  # NaN, feature count: lutnet.core.inputs
        qt = self.input_quant(x) if self.input_quant is not None else x
        if not isinstance(qt, QuantTensor):
            raise TypeError(f"LUTLayer {self.name!r}: got a float tensor but the layer has no input_quant; "
                            f"give the first layer input_quant=... or feed it the previous LUTLayer's output")
        if self.training:
            if self.mapping is not None:  # learnable mapping: the current selection, softmax gradients
                with torch.no_grad():
                    self.connectivity.copy_(self.mapping.indices())
                v = self.mapping(qt.value, self.connectivity) * self.input_mask
            else:
                v = qt.value[:, self.connectivity] * self.input_mask
            y = self.neuron(v, exact=False)
            y = y if self.bn is None else self.bn(y)
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
            return int_codes(self.layers[0].input_quant(check_torch_features(x, self.in_features))).to(torch.int64)
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

    def save(self, path, overwrite: bool = False):
        """Write the model (layer arguments + weights) to ``path``; :meth:`load` reads it back."""
        from ..checkpoint import save_model
        return save_model(self, path, overwrite)

    @staticmethod
    def load(path) -> LUTNet:
        """The model saved at ``path`` by :meth:`save` (eval mode)."""
        from ..checkpoint import load_model
        return load_model(path)
