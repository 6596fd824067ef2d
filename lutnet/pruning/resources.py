"""Resource models: what a structure costs on the FPGA.

**LUT neurons.**  A neuron whose active inputs have ``X`` address bits in total and ``Y`` output
bits costs ``LUTCost(X, Y)`` LUT6s (LogicNets; :func:`lutnet.ir.lut_cost`, the same number
``NetworkIR.lut_cost()`` reports).  The alternative, the Yosys-calibrated table estimator of
:mod:`lutnet.rtl.estimate`, is applied per table by
:func:`lutnet.pruning.torch_prune.estimated_option_costs`.

**Dense layers (hls4ml).**  :class:`DenseResourceModel` follows hls4ml's Vivado ``Resource``
strategy with reuse factor ``RF``: the weight matrix ``W`` (out, in) — PyTorch layout, which is
hls4ml's transposed Keras kernel — is flattened row-major and processed by ``n_in*n_out/RF``
multipliers, multiplier ``p`` handling the ``RF`` consecutive weights ``p*RF .. p*RF+RF-1`` one
per clock.  Such a *pattern* is a DSP saved only when all its weights are zero.  Weights of fewer
than 9 bits are multiplied in fabric (no DSP; LUTs instead).  With RF > 1 the weights sit in
BRAM 36 bits wide, so ``36 / bits`` consecutive patterns share a BRAM word (``ceil(72 / bits)``
when 36 is not a multiple of the width): a *block* of them is the structure that saves a BRAM.
These are the structures and costs of hls4ml's ``VivadoDSPEstimator`` /
``VivadoMultiObjectiveEstimator`` (``hls4ml.optimization.dsp_aware_pruning``).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..ir import lut_cost
from .errors import PruningError

LutCostFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def lut_neuron_cost(address_bits, out_bits) -> np.ndarray:
    """LUT6 count of neurons with ``address_bits`` input bits and ``out_bits`` output bits."""
    return lut_cost(address_bits, out_bits)


def lut_cost_model(name: str = "lutcost") -> LutCostFn:
    """A vectorized cost function ``(address_bits, out_bits) -> LUTs``: ``"lutcost"`` is the
    LogicNets formula (what ``ir.lut_cost()`` uses).  The Yosys-calibrated estimator
    (:mod:`lutnet.rtl.estimate`) depends on a table's contents, not just its size, so it is no such
    function: use ``prune_lut_network(..., cost_model="estimate")``, which estimates every neuron's
    table for every number of kept inputs."""
    if name == "lutcost":
        return lut_neuron_cost
    if name == "estimate":
        raise PruningError("cost model 'estimate' depends on the tables' contents; pass "
                           "cost_model='estimate' to prune_lut_network (it estimates every option's table) "
                           "or use cost model 'lutcost'")
    raise PruningError(f"unknown LUT cost model {name!r}; known: lutcost, estimate")


def fabric_multiplier_luts(weight_bits: int, input_bits: int) -> float:
    """LUT6s of a ``weight_bits`` x ``input_bits`` multiplier built in fabric (no DSP): about one
    LUT per two partial-product bits (a rough, documented model; Vivado varies with the operands)."""
    return float(math.ceil(weight_bits * input_bits / 2))


@dataclass
class DenseResourceModel:
    """hls4ml resources of one dense layer ``(n_out, n_in)`` with ``weight_bits``-bit weights,
    ``input_bits``-bit activations, ``strategy`` (``"resource"``/``"latency"``) and ``reuse_factor``.

    ``structure``: ``"pattern"`` (one multiplier's RF weights; costs DSP or LUT) or ``"block"``
    (the consecutive patterns sharing a BRAM word; costs DSPs/LUTs and one BRAM)."""
    n_in: int
    n_out: int
    weight_bits: int = 16
    input_bits: int = 16
    reuse_factor: int = 1
    strategy: str = "resource"
    structure: str = "pattern"

    DSP_MIN_BITS = 9  # hls4ml: narrower multiplications are not mapped to DSPs
    BRAM_WIDTH = 36

    def __post_init__(self):
        n = self.n_in * self.n_out
        if self.strategy not in ("resource", "latency"):
            raise PruningError(f"unknown hls4ml strategy {self.strategy!r}; known: resource, latency")
        if self.structure not in ("pattern", "block"):
            raise PruningError(f"unknown structure {self.structure!r}; known: pattern, block")
        if self.reuse_factor < 1 or n % self.reuse_factor:
            valid = [r for r in range(1, n + 1) if n % r == 0]
            raise PruningError(f"reuse_factor={self.reuse_factor} must divide n_in*n_out={n}; valid values "
                               f"include {valid[:12]}")

    @property
    def n_patterns(self) -> int:
        return self.n_in * self.n_out // self.reuse_factor

    @property
    def uses_bram(self) -> bool:
        return self.strategy == "resource" and self.reuse_factor > 1

    @property
    def patterns_per_block(self) -> int:
        b = self.weight_bits
        c = self.BRAM_WIDTH // b if self.BRAM_WIDTH % b == 0 else math.ceil(2 * self.BRAM_WIDTH / b)
        return max(1, min(c, self.n_patterns))

    def pattern_index(self) -> np.ndarray:
        """(n_patterns, RF) indices into the row-major flattened (out, in) weight."""
        return np.arange(self.n_in * self.n_out).reshape(self.n_patterns, self.reuse_factor)

    def structure_index(self) -> np.ndarray:
        """(n_structures, k) flat weight indices of each structure (patterns or blocks; a last
        partial block is padded with -1)."""
        pat = self.pattern_index()
        if self.structure == "pattern":
            return pat
        c = self.patterns_per_block
        n_blocks = math.ceil(self.n_patterns / c)
        padded = np.full((n_blocks * c, self.reuse_factor), -1, np.int64)
        padded[:self.n_patterns] = pat
        return padded.reshape(n_blocks, c * self.reuse_factor)

    def pattern_cost(self) -> dict:
        """Cost of one multiplier (pattern) per resource."""
        dsp = self.weight_bits >= self.DSP_MIN_BITS
        return {"dsp": 1.0 if dsp else 0.0,
                "lut": 0.0 if dsp else fabric_multiplier_luts(self.weight_bits, self.input_bits),
                "bram": 0.0}

    def structure_costs(self) -> dict:
        """{resource: (n_structures,) cost} for the structures of :meth:`structure_index`."""
        idx = self.structure_index()
        n_pat = (idx >= 0).sum(1) // self.reuse_factor
        pc = self.pattern_cost()
        out = {r: n_pat * v for r, v in pc.items()}
        # a block's share of BRAM: its weight bits over the 36-bit word (1 when bits divides 36);
        # single patterns get none (a BRAM is only freed with its whole block)
        out["bram"] = (n_pat * self.weight_bits / self.BRAM_WIDTH if self.structure == "block" and self.uses_bram
                       else np.zeros(len(idx)))
        return out

    def usage(self, weight) -> dict:
        """Estimated DSP/LUT/BRAM of the layer for an actual (possibly pruned) weight (out, in):
        a pattern with a non-zero weight needs its multiplier; BRAM follows hls4ml's
        ``ceil(bits * n_weights / (RF * 36))`` over the blocks still holding a non-zero weight."""
        w = np.asarray(weight).reshape(-1)
        if w.size != self.n_in * self.n_out:
            raise PruningError(f"weight has {w.size} entries, the layer model expects {self.n_in * self.n_out}")
        live = (w[self.pattern_index()] != 0).any(1)
        pc = self.pattern_cost()
        res = {"dsp": float(live.sum() * pc["dsp"]), "lut": float(live.sum() * pc["lut"]), "bram": 0.0}
        if self.uses_bram:
            c = self.patterns_per_block
            pad = (-len(live)) % c
            blocks = np.pad(live, (0, pad)).reshape(-1, c).any(1)
            sizes = np.full(len(blocks), c)
            sizes[-1] -= pad  # a last partial block holds fewer patterns
            res["bram"] = float(math.ceil(self.weight_bits * int(sizes[blocks].sum()) / self.BRAM_WIDTH))
        return res

    def full_usage(self) -> dict:
        """Resources of the unpruned layer (hls4ml's ``layer_resources``)."""
        return self.usage(np.ones(self.n_in * self.n_out))


def dense_pruning_problem(importances, resource_models, normalize: bool = True, min_keep: int = 1):
    """The knapsack over the structures of several dense layers: ``importances`` (per layer, one
    value per row of its model's :meth:`~DenseResourceModel.structure_index`), costs in dsp/lut/bram.
    ``normalize`` rescales each layer's importances to mean 1; the ``min_keep`` most important
    (non-zero) structures of every layer are mandatory, so no layer is cut off entirely."""
    from .knapsack import KnapsackProblem

    resources = ("dsp", "lut", "bram")
    values, costs, mandatory = [], [], []
    for v, rm in zip(importances, resource_models):
        v = np.asarray(v, dtype=np.float64).reshape(-1)
        if normalize and v.size and v.mean() > 0:
            v = v / v.mean()
        rank = np.empty(len(v), np.int64)
        rank[np.argsort(-v, kind="stable")] = np.arange(len(v))
        c = rm.structure_costs()
        values.append(v)
        costs.append(np.stack([c[r] for r in resources], 1))
        mandatory.append((rank < min_keep) & (v > 0))
    return KnapsackProblem(np.concatenate(values), np.concatenate(costs), resources,
                           mandatory=np.concatenate(mandatory))
