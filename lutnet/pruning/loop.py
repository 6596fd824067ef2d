"""The LUT and dense pruning loops, written once for every framework (numpy only).

A framework describes its model through a small adapter (:class:`LutPruneTarget` for LUT networks,
:class:`DenseTarget` for dense layers); everything else is here: turning element-wise parameter
scores into per-input importances (the same rule for every neuron kind), the multiple-choice
knapsack with its dead-neuron rounds (:func:`~lutnet.pruning.lut_structures.solve_masks`), the cost
models (``"lutcost"``, a function, or ``"estimate"``: the Yosys-calibrated estimate of every
neuron's actual table for every number of kept inputs), hls4ml structure values and masks of dense
layers, and the budget schedule with fine-tuning between steps.

The PyTorch adapters live in :mod:`.torch_prune`, the Keras ones in :mod:`.keras_prune`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import PruningError
from .knapsack import Solution, solve
from .lut_structures import LayerSpec, LutPruneResult, network_cost, option_cost_total, rank_inputs, solve_masks
from .resources import dense_pruning_problem, lut_cost_model
from .schedule import ConstantSchedule, schedule_budgets

__all__ = ["METRICS", "DensePruneResult", "DenseTarget", "LutPruneTarget", "check_metric", "cost_fn",
           "default_normalize", "dense_values", "estimated_option_costs", "input_importance", "iterative_prune",
           "lut_cost", "prune_dense", "prune_lut"]


METRICS = ("l1", "l2", "taylor")


def check_metric(metric):
    if metric not in METRICS:
        raise PruningError(f"unknown importance metric {metric!r}; known: {', '.join(METRICS)}")


def default_normalize(metric: str) -> bool:
    """Whether to rescale importances per layer (to mean 1) before layers compete in one knapsack:
    yes for magnitudes (weight scales differ between layers), no for Taylor saliency (an estimate
    of the loss change, already comparable across layers)."""
    return metric != "taylor"


def elementwise_scores(values: list, metric: str) -> list:
    """|w| (``l1``) or w**2 (``l2``) of numpy arrays (``taylor`` needs gradients: the framework's)."""
    return [np.abs(v) if metric == "l1" else np.square(v) for v in values]


def taylor_batches(data, batches: int, batch_size: int):
    """``(X, y, [index arrays])`` of Taylor saliency: ``batches`` batches of a fixed permutation (seed
    0) of ``data=(X, y)``, the same for every framework."""
    if data is None:
        raise PruningError("metric 'taylor' needs data=(X, y) to compute gradients")
    X, y = np.asarray(data[0], np.float32), np.asarray(data[1])
    perm = np.random.default_rng(0).permutation(len(X))
    return X, y, [idx for idx in (perm[b * batch_size:(b + 1) * batch_size] for b in range(batches)) if len(idx)]


def cost_fn(cost_model):
    """A vectorized ``(address_bits, out_bits) -> LUTs`` for a cost model name or function."""
    return lut_cost_model(cost_model) if isinstance(cost_model, str) else cost_model


# ====================================================================== LUT networks
class LutPruneTarget:
    """What the LUT pruning loop needs of a framework's LUT network (subclass per framework).

    ``layers``: the LUT layers in order; ``neurons[i]`` has ``kind``, ``fan_in`` and, for ``poly``,
    ``terms`` (the monomials as tuples of input positions)."""

    def specs(self) -> list[LayerSpec]:
        """Every layer's mask, connectivity, input and output bits."""
        raise NotImplementedError

    def named_params(self, li: int) -> dict:
        """Layer ``li``'s neuron parameters (framework objects) by the neuron families' names
        (``weight``, ``weights_0``, ``proj_0``, ...)."""
        raise NotImplementedError

    def param_scores(self, params: list, metric: str, data, batches: int, batch_size: int) -> list[np.ndarray]:
        """Element-wise scores (numpy) of framework parameters: |w|, w**2 or |w * dL/dw| (``taylor``)."""
        raise NotImplementedError

    def neuron_kinds(self) -> list:
        """Per layer, an object with ``kind``, ``fan_in`` and (poly) ``terms``."""
        raise NotImplementedError

    def get_mask(self, li: int) -> np.ndarray:
        raise NotImplementedError

    def set_mask(self, li: int, mask: np.ndarray) -> None:
        raise NotImplementedError

    def extract_layer(self, li: int):
        """Layer ``li``'s :class:`~lutnet.ir.LayerIR` under its current mask (eval-mode tables)."""
        raise NotImplementedError

    def to_ir(self):
        raise NotImplementedError

    # ------------------------------------------------ learned connectivity (lutnet.pruning.learn)
    def layer_name(self, li: int) -> str:
        raise NotImplementedError

    def in_features(self, li: int) -> int:
        raise NotImplementedError

    def learns_mapping(self, li: int) -> bool:
        """Whether layer ``li`` learns its wiring itself (learnable mapping)."""
        return False

    def refan(self, li: int, positions: np.ndarray, mask: np.ndarray) -> None:
        """Replace layer ``li`` by one of fan-in ``positions.shape[1]``: neuron k's input j is its old
        slot ``positions[k, j]`` (connectivity and parameters mapped by
        :func:`lutnet.core.learned.slice_params`), ``mask`` its new input mask.  ``self.model`` is then
        the model holding the new layer (a new object where the framework cannot resize in place)."""
        raise NotImplementedError

    def group_lasso(self, strength: float):
        """A context manager under which the framework's ``fit`` adds ``strength`` times every layer's
        group-lasso penalty (:func:`lutnet.core.learned.group_lasso`) to the training loss."""
        raise NotImplementedError


def input_param_names(neuron, available) -> list[str]:
    """The parameters attached to a neuron's inputs: ``weight`` (linear, poly); the first hidden
    layer's ``weights_0`` and, if the first block has one, its skip projection ``proj_0`` (subnet)."""
    if neuron.kind in ("linear", "poly"):
        return ["weight"]
    if neuron.kind == "subnet":
        return ["weights_0"] + (["proj_0"] if "proj_0" in available else [])
    raise PruningError(f"no importance rule for neuron kind {neuron.kind!r}; pass importances explicitly")


def _reduce_to_inputs(neuron, scores: list) -> np.ndarray:
    """(out, F) per-input sums of element-wise scores of the parameters attached to each input:
    linear ``w[k, j]``; poly: every monomial weight containing input j; subnet: the first hidden
    layer's weights from input j (and the first skip projection's)."""
    kind = neuron.kind
    if kind == "linear":
        return np.asarray(scores[0], np.float64)
    if kind == "poly":
        inc = np.zeros((neuron.fan_in, len(neuron.terms)))
        for t, m in enumerate(neuron.terms):
            inc[list(set(m)), t] = 1.0
        return np.asarray(scores[0], np.float64) @ inc.T
    if kind == "subnet":
        return sum(np.asarray(s, np.float64).sum(-1) for s in scores)
    raise PruningError(f"no importance rule for neuron kind {kind!r}; pass importances explicitly")


def input_importance(target: LutPruneTarget, metric: str = "l1", data=None, batches: int = 4,
                     batch_size: int = 256) -> list[np.ndarray]:
    """(out, F) importance of every input connection of every LUT layer (>= 0; pruned ones 0)."""
    check_metric(metric)
    groups = []
    for li, neuron in enumerate(target.neuron_kinds()):
        named = target.named_params(li)
        groups.append([named[n] for n in input_param_names(neuron, named)])
    flat = iter(target.param_scores([p for g in groups for p in g], metric, data, batches, batch_size))
    out = []
    for li, (neuron, group) in enumerate(zip(target.neuron_kinds(), groups)):
        total = _reduce_to_inputs(neuron, [next(flat) for _ in group])
        if metric == "l2":
            total = np.sqrt(total)
        out.append(np.where(target.get_mask(li), total, 0.0))
    return out


def lut_cost(target: LutPruneTarget, cost_model="lutcost") -> float:
    """LUTs of the current masks: ``"lutcost"`` (no extraction) equals ``to_ir(model).lut_cost()``;
    ``"estimate"`` sums the Yosys-calibrated estimates of the exported tables."""
    if cost_model == "estimate":
        from ..rtl.estimate import estimate_network
        return float(sum(e["luts"] for layer in estimate_network(target.to_ir()) for e in layer))
    return network_cost(target.specs(), cost_fn(cost_model))


def estimated_option_costs(target: LutPruneTarget, importance: list, estimator=None) -> list[np.ndarray]:
    """Per layer (out, F+1): the LUTs the Yosys-calibrated estimator (:mod:`lutnet.rtl.estimate`)
    gives each neuron's table when it keeps its m most important active inputs (m = 0..F; 0 LUTs
    for m = 0 or inactive options).  F extractions per layer; identical tables are estimated once.
    The masks are restored afterwards."""
    if estimator is None:
        from ..rtl.estimate import estimate_table as estimator
    out = []
    for li, spec in enumerate(target.specs()):
        mask = spec.mask
        n, F = mask.shape
        ranked = rank_inputs(mask, np.asarray(importance[li], np.float64))
        cost = np.zeros((n, F + 1))
        memo = {}
        try:
            for m in range(1, F + 1):
                keep = np.zeros((n, F), bool)
                np.put_along_axis(keep, ranked, np.arange(F)[None, :] < m, axis=1)
                keep &= mask
                target.set_mask(li, keep)
                L = target.extract_layer(li)
                for k in np.nonzero(keep.sum(1) == m)[0]:
                    t = L.table(k)
                    key = (t.tobytes(), int(L.address_bits[k]), int(L.out_bits[k]))
                    if key not in memo:
                        memo[key] = estimator(t, L.in_bits[k][L.indices[k] >= 0], int(L.out_bits[k]))["luts"]
                    cost[k, m] = memo[key]
        finally:
            target.set_mask(li, mask)
        out.append(cost)
    return out


def prune_lut(target: LutPruneTarget, budget: float, metric: str = "l1", method: str = "auto", data=None,
              cost_model="lutcost", min_inputs_last: int = 1, importance: list | None = None,
              max_rounds: int = 8, normalize: bool | None = None, max_inputs: list | None = None) -> LutPruneResult:
    """Prune in place (the layers' masks) so that the LUT cost is <= ``budget`` (one shot, no
    training); see :func:`lutnet.pruning.prune_lut_network` for the options.  An infeasible budget
    raises :class:`~lutnet.pruning.InfeasibleBudgetError` and leaves the model untouched.
    ``max_inputs`` (per layer, None = no cap) caps the inputs every neuron keeps (learned
    connectivity, :mod:`lutnet.pruning.learn`; the ``"lutcost"`` model or a function only)."""
    check_metric(metric)
    imp = importance if importance is not None else input_importance(target, metric, data)
    imp = [np.asarray(i, dtype=np.float64) for i in imp]
    specs = target.specs()
    norm = default_normalize(metric) if normalize is None else normalize
    if cost_model == "estimate":
        if max_inputs is not None:
            raise PruningError("a fan-in cap (max_inputs) needs cost model 'lutcost' or a cost function, not "
                               "'estimate' (the estimator would extract tables of the uncapped fan-in)")
        option_costs = estimated_option_costs(target, imp)
        masks, sol, rounds = solve_masks(specs, imp, budget, None, method, min_inputs_last, max_rounds,
                                         option_costs, norm)
        cost = option_cost_total(option_costs, masks)
    else:
        fn = cost_fn(cost_model)
        masks, sol, rounds = solve_masks(specs, imp, budget, fn, method, min_inputs_last, max_rounds,
                                         normalize=norm, max_inputs=max_inputs)
        cost = network_cost([LayerSpec(m, L.connectivity, L.in_bits, L.out_bits) for m, L in zip(masks, specs)], fn)
    for li, m in enumerate(masks):
        target.set_mask(li, m)
    return LutPruneResult.of(sol, masks, cost, budget, rounds)


# ====================================================================== dense layers
@dataclass
class DensePruneResult:
    """Outcome of one dense pruning step: the knapsack solution and the estimated resources."""
    solution: Solution
    usage: dict          # estimated resources after pruning (summed over layers)
    budgets: dict
    per_layer: dict = field(default_factory=dict)


class DenseTarget:
    """What the dense pruning loop needs of a framework's model: its dense layers by name, their
    (out, in) weights, element-wise scores of them, and a way to zero structures for good."""

    def layer_names(self) -> list[str]:
        raise NotImplementedError

    def weight(self, name: str) -> np.ndarray:
        """(out, in) weights (hls4ml's Resource layout)."""
        raise NotImplementedError

    def weight_scores(self, names: list, metric: str, data, batches: int, batch_size: int) -> list[np.ndarray]:
        """(out, in) element-wise scores of the named layers' weights."""
        raise NotImplementedError

    def apply_mask(self, name: str, mask_out_in: np.ndarray) -> None:
        """Zero the unkept weights and keep them zero while fine-tuning."""
        raise NotImplementedError


def dense_values(scores_out_in: np.ndarray, structure_index: np.ndarray, metric: str) -> np.ndarray:
    """Value of every structure (rows of flat (out, in) indices, -1 = padding) of one layer."""
    flat = np.concatenate([np.asarray(scores_out_in, np.float64).reshape(-1), [0.0]])
    idx = np.asarray(structure_index, np.int64)
    v = flat[np.where(idx >= 0, idx, flat.size - 1)].sum(1)
    return np.sqrt(v) if metric == "l2" else v


def dense_usage(target: DenseTarget, resource_models: dict) -> dict:
    """Estimated DSP/LUT/BRAM of the dense layers named in ``resource_models``."""
    total = {"dsp": 0.0, "lut": 0.0, "bram": 0.0}
    for name in target.layer_names():
        if name in resource_models:
            for r, v in resource_models[name].usage(target.weight(name)).items():
                total[r] += v
    return total


def prune_dense(target: DenseTarget, budgets: dict, resource_models: dict, metric: str = "l1",
                method: str = "auto", data=None, normalize: bool | None = None, min_keep: int = 1,
                kind: str = "dense layer") -> DensePruneResult:
    """Zero hls4ml structures of the dense layers named in ``resource_models`` ({name: model}) so
    the estimated resources fit ``budgets`` (e.g. ``{"dsp": 200}``).  All-zero structures stay
    pruned (they are worth nothing); layers not named keep all weights; each layer keeps at least
    its ``min_keep`` most important structures."""
    check_metric(metric)
    normalize = default_normalize(metric) if normalize is None else normalize
    all_names = target.layer_names()
    names = [n for n in all_names if n in resource_models]
    missing = set(resource_models) - set(names)
    if missing:
        raise PruningError(f"no {kind} named {sorted(missing)} in the model; the model's {kind}s: {all_names}")
    for n in names:
        rm, shape = resource_models[n], target.weight(n).shape
        if tuple(shape) != (rm.n_out, rm.n_in):
            raise PruningError(f"layer {n!r} has (out, in) weight {tuple(shape)}, its resource model expects "
                               f"({rm.n_out}, {rm.n_in})")
    idx = [resource_models[n].structure_index() for n in names]
    scores = target.weight_scores(names, metric, data, 4, 256)
    values = [dense_values(s, ix, metric) for s, ix in zip(scores, idx)]
    problem = dense_pruning_problem(values, [resource_models[n] for n in names], normalize, min_keep)
    sol = solve(problem, budgets, method=method)
    start, per_layer = 0, {}
    for n, ix in zip(names, idx):
        keep = sol.selected[start:start + len(ix)]
        start += len(ix)
        shape = target.weight(n).shape
        size = int(np.prod(shape))
        flat = np.zeros(size + 1, bool)
        flat[np.where(ix[keep] >= 0, ix[keep], size)] = True
        target.apply_mask(n, flat[:-1].reshape(shape))
        per_layer[n] = resource_models[n].usage(target.weight(n))
    return DensePruneResult(sol, dense_usage(target, resource_models), dict(budgets), per_layer)


# ====================================================================== schedules + fine-tuning
def iterative_prune(model, X_train, y_train, target: dict, prune_step, current_usage, schedule=None,
                    finetune=None, log=None, fit=None) -> list[dict]:
    """Run ``schedule`` from the current usage to ``target`` budgets: at every step call
    ``prune_step(model, budgets)``, then fine-tune: ``finetune`` is a TrainConfig for ``fit``
    (the framework's trainer, which holds out its validation split from the training data) or a
    callable ``(model, X_train, y_train) -> validation accuracy``.  Returns one record per step."""
    schedule = schedule or ConstantSchedule()
    history = []
    for i, budgets in enumerate(schedule_budgets(schedule, current_usage(model), target)):
        result = prune_step(model, budgets)
        rec = {"step": i, "budgets": budgets, "usage": current_usage(model), "result": result}
        if callable(finetune):
            rec["val_acc"] = float(finetune(model, X_train, y_train))
        elif finetune is not None and finetune.epochs > 0:
            if fit is None:
                raise PruningError("finetune is a TrainConfig but no trainer was given (fit=)")
            tr = fit(model, X_train, y_train, finetune, progress=False, log=lambda *a: None)
            rec["val_acc"] = tr.best_val_acc
        history.append(rec)
        if log:
            log(f"step {i}: budgets {budgets} -> usage {rec['usage']}"
                + (f", val acc {rec['val_acc']:.4f}" if "val_acc" in rec else ""))
    return history
