"""Neurons assembled from trees of small tables: PolyLUT-Add and NeuraLUT-Assemble, written once.

A *tree layer* of ``out_features`` neurons computes each neuron from ``F * A_1 * ... * A_k`` inputs
with small tables only:

* **leaves**: ``out_features * A_1 * ... * A_k`` tables of the layer's neuron kind (linear, poly,
  subnet, ...), each reading ``F`` inputs; a neuron's leaves read *disjoint* groups of its inputs
  (the layer's connectivity is drawn with fan-in ``F * A_1 * ... * A_k`` and cut into groups of F);
* **level j** (1..k): tables of ``A_j`` inputs, each reading ``A_j`` consecutive outputs of level
  ``j - 1`` (a neuron's subtree is contiguous); level k has ``out_features`` tables, the layer's
  outputs.

Every level's outputs are quantized codes (straight-through quantizers in training), so every level
is an ordinary sparse table layer of the IR and every emitter, the harness and the build report
handle it unchanged.  Two modes:

* ``add`` (PolyLUT-Add, Lou et al., FPL 2024): one level above the leaves (``A`` sub-neurons) whose
  tables are the **adder** neuron :class:`AddFamily`: the sum of the A dequantized sub-neuron
  outputs, then batch norm and the layer's output quantizer.  Sub-neuron outputs are *signed* codes
  of ``add_bits`` bits (PolyLUT-Add: ``QuantIdentity`` of hidden bits + 1).
* ``assemble`` (NeuraLUT-Assemble, Andronic & Constantinides, FCCM 2025): ``k >= 1`` levels whose
  tables are neurons of the layer's own kind (sub-networks in the paper) of fan-in ``A_j``; hidden
  codes are *unsigned* ``assemble_bits``-bit codes (a quantized ReLU, like hidden layers).

The adder level exports in whichever of two exact IR forms is smaller, chosen per neuron at export
(:class:`lutnet.transforms.SumAddress`, ``mode="auto"``, the IR cost model): a table on the
concatenated sub-neuron codes (absorbing the sum, the batch norm and the re-quantization), or an
**adder neuron** (``LayerIR.sum_address``: an adder, then a table on the sum).  Measured
(``benchmarks/bench_families.py --adder``, Yosys 0.23 ``synth_xilinx`` on the layer whole): 2 x 3-bit
codes (HDR-Add2) favour tables (200 vs 500 LUTs for 100 neurons), 2 x 4-bit (JSC-M Lite-Add2) adders
(224 vs 356 for 32), 2 x 6-bit (JSC-XL-Add2) adders by far.

No framework import here: the frontends (:mod:`lutnet.nn.assemble`, :mod:`lutnet.keras.assemble`,
the config builders through :mod:`lutnet.core.plan`) create ordinary LUT layers from :func:`tree_levels`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import LayerConfigError
from . import neurons as _neurons
from .neurons import NeuronFamily

ADD_KIND = "add"
MODES = ("add", "assemble")


class AddFamily(NeuronFamily):
    """PolyLUT-Add's adder neuron: the sum of its F dequantized inputs (no parameters; the batch
    norm and the output quantizer of its layer scale and re-quantize the sum).  Exact path: the
    left-to-right chain ``((x0 + x1) + x2) + ...`` in float32, the same in every framework."""
    kind = ADD_KIND

    def params(self):
        return []

    def forward(self, ops, x, p, exact):
        if not exact:
            return ops.reduce_sum(x, -1)
        acc = x[..., 0]
        for j in range(1, self.fan_in):
            acc = acc + x[..., j]
        return acc

    def work_width(self, shared_input=False):
        return 1 + (self.fan_in / self.out_features if shared_input else self.fan_in)


_neurons.FAMILIES[ADD_KIND] = AddFamily  # make_family("add", ...) (neurons.py imports this module at its end)


# ---------------------------------------------------------------------- tree plans
@dataclass(frozen=True)
class TreeSpec:
    """A tree layer: ``mode`` (``add`` or ``assemble``), ``arity`` ``(A_1, ..., A_k)`` (leaves
    first), and the hidden codes' ``bits`` and signedness."""
    mode: str
    arity: tuple
    bits: int
    signed: bool

    @property
    def leaves_per_neuron(self) -> int:
        return math.prod(self.arity)


@dataclass
class TreeLevel:
    """One table level of a tree layer: ``count`` tables of ``fan_in`` inputs reading
    ``connectivity`` (indices into the layer's inputs for the leaves, into the previous level's
    outputs above); ``kind`` is None for the layer's own neuron kind; ``bits``/``signed`` are the
    hidden codes (None on the top level: the layer's own output quantizer)."""
    level: int
    count: int
    fan_in: int
    connectivity: np.ndarray
    kind: str | None
    bits: int | None
    signed: bool | None

    @property
    def top(self) -> bool:
        return self.bits is None


def tree_spec(where: str, add=None, add_bits=None, assemble=None, assemble_bits=None,
              out_bits: int = 2, hidden_bits: int = 2) -> TreeSpec | None:
    """The tree of a layer's options (None: an ordinary layer).  ``add_bits`` defaults to
    ``out_bits + 1`` (PolyLUT-Add's sub-neuron outputs), ``assemble_bits`` to ``hidden_bits``."""
    if add is not None and assemble is not None:
        raise LayerConfigError(f"{where}: add and assemble are exclusive (PolyLUT-Add or NeuraLUT-Assemble); "
                               f"set one of them")
    if add_bits is not None and add is None:
        raise LayerConfigError(f"{where}: add_bits={add_bits} is set but add is not; set add: A (sub-neurons "
                               f"per neuron) or remove add_bits")
    if assemble_bits is not None and assemble is None:
        raise LayerConfigError(f"{where}: assemble_bits={assemble_bits} is set but assemble is not; set "
                               f"assemble: [A, ...] or remove assemble_bits")
    if add is not None:
        if isinstance(add, bool) or not isinstance(add, (int, np.integer)) or add < 2:
            raise LayerConfigError(f"{where}: add must be an integer >= 2 (sub-neurons added per neuron), got {add!r}")
        bits = out_bits + 1 if add_bits is None else add_bits
        if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or bits < 2:
            raise LayerConfigError(f"{where}: add_bits must be an integer >= 2 (signed sub-neuron outputs), "
                                   f"got {bits!r}")
        return TreeSpec("add", (int(add),), int(bits), True)
    if assemble is not None:
        arity = tuple(assemble) if isinstance(assemble, (list, tuple)) else (assemble,)
        if not arity or any(isinstance(a, bool) or not isinstance(a, (int, np.integer)) or a < 2 for a in arity):
            raise LayerConfigError(f"{where}: assemble must list the tree's arities, integers >= 2 from the "
                                   f"leaves up (e.g. [6]), got {assemble!r}")
        bits = hidden_bits if assemble_bits is None else assemble_bits
        if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or bits < 1:
            raise LayerConfigError(f"{where}: assemble_bits must be an integer >= 1, got {bits!r}")
        return TreeSpec("assemble", tuple(int(a) for a in arity), int(bits), False)
    return None


def check_tree(where: str, spec: TreeSpec, in_features: int, fan_in: int) -> int:
    """The effective fan-in ``F * A_1 * ... * A_k``; refused when it is larger than the inputs."""
    key = "add" if spec.mode == "add" else "assemble"
    eff = fan_in * spec.leaves_per_neuron
    if eff > in_features:
        raise LayerConfigError(
            f"{where}: {key}={list(spec.arity) if key == 'assemble' else spec.arity[0]} with fan_in={fan_in} reads "
            f"{eff} distinct inputs per neuron (fan_in x {' x '.join(map(str, spec.arity))}), more than the "
            f"layer's {in_features} inputs; lower fan_in or {key}")
    return eff


def tree_levels(spec: TreeSpec, out_features: int, fan_in: int, connectivity) -> list[TreeLevel]:
    """The table levels of a tree layer, leaves first.  ``connectivity`` is the layer's
    ``(out_features, F * A_1 * ... * A_k)`` input indices; neuron n's leaf ``g`` reads its columns
    ``[g * F, (g + 1) * F)``."""
    conn = np.asarray(connectivity, np.int64)
    per = spec.leaves_per_neuron
    if conn.shape != (out_features, fan_in * per):
        raise LayerConfigError(f"tree layer: connectivity has shape {conn.shape}, expected "
                               f"({out_features}, {fan_in * per}) (out_features, fan_in x leaves per neuron)")
    levels = [TreeLevel(0, out_features * per, fan_in, conn.reshape(out_features * per, fan_in), None,
                        spec.bits, spec.signed)]
    count = out_features * per
    k = len(spec.arity)
    for j, a in enumerate(spec.arity, start=1):
        count //= a
        top = j == k
        levels.append(TreeLevel(j, count, a, np.arange(count * a, dtype=np.int64).reshape(count, a),
                                ADD_KIND if spec.mode == "add" else None,
                                None if top else spec.bits, None if top else spec.signed))
    return levels


def level_name(name: str, level: TreeLevel, n_levels: int) -> str:
    """``layer1`` for the top level (the layer's outputs keep its name), ``layer1_t0``, ``layer1_t1``
    ... below it."""
    return name if level.level == n_levels - 1 else f"{name}_t{level.level}"


def tree_table_bits(spec: TreeSpec, fan_in: int, in_bits: int) -> list[tuple[int, int]]:
    """``(level, address bits)`` of every level's tables (for size checks before building)."""
    out = [(0, fan_in * in_bits)]
    out += [(j, a * spec.bits) for j, a in enumerate(spec.arity, start=1)]
    return out
