"""Resource-aware pruning loops for PyTorch/Brevitas: lutnet LUT networks and dense MLPs.

**LUT networks** (:class:`lutnet.nn.LUTNet`): the multiple-choice knapsack of
:mod:`~lutnet.pruning.lut_structures` (per neuron, how many of its most important inputs to keep)
decides each layer's ``input_mask``, so :func:`lutnet.export.to_ir` emits the smaller tables and
``ir.lut_cost()`` equals :func:`lut_network_cost`.

**Dense MLPs** (``nn.Linear``/Brevitas ``QuantLinear``): hls4ml patterns/blocks
(:class:`~lutnet.pruning.resources.DenseResourceModel`) are zeroed; a gradient hook keeps them at
zero while fine-tuning with a fresh optimizer.

:func:`iterative_prune` runs a :mod:`schedule <lutnet.pruning.schedule>` of budgets with
fine-tuning (:func:`lutnet.train.fit`, whose validation split comes from the training data) after
each step.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..config import TrainConfig
from ..nn.layer import LUTNet
from .errors import PruningError
from .importance import default_normalize, dense_structure_importance, lut_input_importance
from .knapsack import Solution, solve
from .lut_structures import (LayerSpec, LutPruneResult, LutPruningProblem, build_problem, network_cost,
                             option_cost_total, rank_inputs, solve_masks)
from .resources import dense_pruning_problem, lut_cost_model
from .schedule import ConstantSchedule, schedule_budgets


# ====================================================================== LUT networks
def _layer_bits(model: LUTNet):
    """(input bits, output bits) of every layer."""
    ins = [model.layers[0].input_info().bits] + [l.output_info().bits for l in model.layers[:-1]]
    return list(zip(ins, [l.output_info().bits for l in model.layers]))


def _cost_fn(cost_model):
    return lut_cost_model(cost_model) if isinstance(cost_model, str) else cost_model


def lut_layer_specs(model: LUTNet) -> list[LayerSpec]:
    """The model's layers as framework-neutral :class:`~lutnet.pruning.lut_structures.LayerSpec`."""
    return [LayerSpec(l.input_mask.cpu().numpy().astype(bool), l.connectivity.cpu().numpy(), bi, bo)
            for l, (bi, bo) in zip(model.layers, _layer_bits(model))]


def lut_network_cost(model: LUTNet, cost_model="lutcost") -> float:
    """LUTs of the model's current pruning state: with ``"lutcost"`` (no table extraction) this
    equals ``to_ir(model).lut_cost()``; ``"estimate"`` sums the Yosys-calibrated estimates of the
    exported tables."""
    if cost_model == "estimate":
        from ..export import to_ir
        from ..rtl.estimate import estimate_network
        return float(sum(e["luts"] for layer in estimate_network(to_ir(model)) for e in layer))
    return network_cost(lut_layer_specs(model), _cost_fn(cost_model))


def lut_pruning_problem(model: LUTNet, importance: list, cost_model="lutcost", min_inputs_last: int = 1,
                        frozen: list | None = None, normalize: bool = True) -> LutPruningProblem:
    """The multiple-choice knapsack of ``model`` (see :func:`lutnet.pruning.lut_structures.build_problem`)."""
    imp = [np.asarray(torch.as_tensor(i).cpu(), dtype=np.float64) for i in importance]
    return build_problem(lut_layer_specs(model), imp, _cost_fn(cost_model), min_inputs_last, frozen, normalize)


@torch.no_grad()
def estimated_option_costs(model: LUTNet, importance: list, estimator=None) -> list[np.ndarray]:
    """Per layer (out, F+1): the LUTs the Yosys-calibrated estimator (:mod:`lutnet.rtl.estimate`)
    gives each neuron's table when it keeps its m most important active inputs (m = 0..F; 0 LUTs
    for m = 0 or inactive options).  Tables are extracted with :func:`lutnet.export.extract_layer`
    (F extractions per layer) and identical tables are estimated once."""
    from ..export import extract_layer
    if estimator is None:
        from ..rtl.estimate import estimate_table as estimator
    infos = [model.layers[0].input_info()] + [l.output_info() for l in model.layers[:-1]]
    out = []
    was = model.training
    model.eval()
    try:
        for li, (layer, src) in enumerate(zip(model.layers, infos)):
            mask = layer.input_mask.cpu().numpy().astype(bool)
            n, F = mask.shape
            ranked = rank_inputs(mask, np.asarray(torch.as_tensor(importance[li]).cpu(), np.float64))
            cost = np.zeros((n, F + 1))
            memo = {}
            original = layer.input_mask.clone()
            try:
                for m in range(1, F + 1):
                    keep = np.zeros((n, F), bool)
                    np.put_along_axis(keep, ranked, np.arange(F)[None, :] < m, axis=1)
                    keep &= mask
                    layer.input_mask.copy_(torch.as_tensor(keep, device=original.device))
                    L = extract_layer(layer, src, li)
                    for k in np.nonzero(keep.sum(1) == m)[0]:
                        t = L.table(k)
                        key = (t.tobytes(), int(L.address_bits[k]), int(L.out_bits[k]))
                        if key not in memo:
                            memo[key] = estimator(t, L.in_bits[k][L.indices[k] >= 0], int(L.out_bits[k]))["luts"]
                        cost[k, m] = memo[key]
            finally:
                layer.input_mask.copy_(original)
            out.append(cost)
    finally:
        model.train(was)
    return out


def prune_lut_network(model: LUTNet, budget: float, metric: str = "l1", method: str = "auto", data=None,
                      cost_model="lutcost", min_inputs_last: int = 1, importance: list | None = None,
                      max_rounds: int = 6, normalize: bool | None = None) -> LutPruneResult:
    """Prune ``model`` in place (its layers' ``input_mask``) so that its LUT cost is <= ``budget``
    (one shot, no training).  Importance comes from ``metric`` (``l1``/``l2``/``taylor``; ``taylor``
    needs ``data=(X, y)``) unless given as per-layer (out, F) arrays.  Already pruned connections
    stay pruned.  An infeasible budget raises :class:`~lutnet.pruning.InfeasibleBudgetError`
    stating the minimum, leaving the model untouched.

    ``cost_model``: ``"lutcost"`` (LogicNets' formula, what ``ir.lut_cost()`` reports), a function
    ``(address_bits, out_bits) -> LUTs``, or ``"estimate"``: the Yosys-calibrated estimate of every
    neuron's actual table for every number of kept inputs (:func:`estimated_option_costs`; the
    budget is then in estimated LUTs of the current tables — fine-tuning changes the tables).
    ``normalize`` (default: per :func:`~lutnet.pruning.importance.default_normalize`) rescales
    each layer's importances to mean 1."""
    if not isinstance(model, LUTNet):
        raise TypeError(f"prune_lut_network expects a lutnet.nn.LUTNet, got {type(model).__name__}")
    imp = importance if importance is not None else lut_input_importance(model, metric, data)
    imp = [np.asarray(torch.as_tensor(i).cpu(), dtype=np.float64) for i in imp]
    specs = lut_layer_specs(model)
    norm = default_normalize(metric) if normalize is None else normalize
    if cost_model == "estimate":
        option_costs = estimated_option_costs(model, imp)
        masks, sol, rounds = solve_masks(specs, imp, budget, None, method, min_inputs_last, max_rounds,
                                         option_costs, norm)
        cost = option_cost_total(option_costs, masks)
    else:
        fn = _cost_fn(cost_model)
        masks, sol, rounds = solve_masks(specs, imp, budget, fn, method, min_inputs_last, max_rounds,
                                         normalize=norm)
        cost = network_cost([LayerSpec(m, L.connectivity, L.in_bits, L.out_bits) for m, L in zip(masks, specs)], fn)
    with torch.no_grad():
        for layer, m in zip(model.layers, masks):
            layer.input_mask.copy_(torch.as_tensor(m, device=layer.input_mask.device))
    return LutPruneResult.of(sol, masks, cost, budget, rounds)


# ====================================================================== dense layers
def dense_layers(model) -> list[tuple[str, torch.nn.Linear]]:
    """(name, module) of every ``nn.Linear`` (including Brevitas ``QuantLinear``) in order."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]


@torch.no_grad()
def _set_dense_mask(module: torch.nn.Linear, mask: torch.Tensor):
    """Zero the pruned weights and keep their gradient at zero from now on."""
    mask = mask.to(module.weight.device, module.weight.dtype)
    module.weight.mul_(mask)
    old = getattr(module, "_lutnet_prune_hook", None)
    if old is not None:
        old.remove()
    module._lutnet_prune_hook = module.weight.register_hook(lambda g, m=mask: g * m)
    module.register_buffer("prune_mask", mask.bool(), persistent=False)


@dataclass
class DensePruneResult:
    """Outcome of one dense pruning step: the knapsack solution and the estimated resources."""
    solution: Solution
    usage: dict          # estimated resources after pruning (summed over layers)
    budgets: dict
    per_layer: dict = field(default_factory=dict)


def dense_usage(model, resource_models: dict) -> dict:
    """Estimated DSP/LUT/BRAM of ``model``'s dense layers (hls4ml model per layer name)."""
    total = {"dsp": 0.0, "lut": 0.0, "bram": 0.0}
    for name, mod in dense_layers(model):
        if name in resource_models:
            for r, v in resource_models[name].usage(mod.weight.detach().cpu().numpy()).items():
                total[r] += v
    return total


def prune_dense(model, budgets: dict, resource_models: dict, metric: str = "l1", method: str = "auto",
                data=None, normalize: bool | None = None, min_keep: int = 1) -> DensePruneResult:
    """Zero hls4ml structures of the dense layers named in ``resource_models`` ({name: model}) so
    the estimated resources fit ``budgets`` (e.g. ``{"dsp": 200}``).  Structures already all-zero
    stay pruned (they are worth nothing).  Layers not named keep all weights.  ``normalize``
    (default per :func:`~lutnet.pruning.importance.default_normalize`) rescales each layer's
    importances to mean 1; each layer keeps at least its ``min_keep`` most important structures."""
    normalize = default_normalize(metric) if normalize is None else normalize
    layers = [(n, m) for n, m in dense_layers(model) if n in resource_models]
    missing = set(resource_models) - {n for n, _ in layers}
    if missing:
        raise PruningError(f"no nn.Linear named {sorted(missing)} in the model; dense layers are: "
                           f"{[n for n, _ in dense_layers(model)]}")
    for n, m in layers:
        rm = resource_models[n]
        if tuple(m.weight.shape) != (rm.n_out, rm.n_in):
            raise PruningError(f"layer {n!r} has weight {tuple(m.weight.shape)}, its resource model expects "
                               f"({rm.n_out}, {rm.n_in})")
    idx = [resource_models[n].structure_index() for n, _ in layers]
    imp = dense_structure_importance([m.weight for _, m in layers], idx, metric, model, data)
    problem = dense_pruning_problem([v.numpy() for v in imp], [resource_models[n] for n, _ in layers],
                                    normalize, min_keep)
    sol = solve(problem, budgets, method=method)
    start, per_layer = 0, {}
    for (n, mod), ix in zip(layers, idx):
        keep = sol.selected[start:start + len(ix)]
        start += len(ix)
        flat = np.zeros(mod.weight.numel() + 1, bool)
        flat[np.where(ix[keep] >= 0, ix[keep], mod.weight.numel())] = True
        _set_dense_mask(mod, torch.as_tensor(flat[:-1].reshape(mod.weight.shape)))
        per_layer[n] = resource_models[n].usage(mod.weight.detach().cpu().numpy())
    usage = dense_usage(model, resource_models)
    return DensePruneResult(sol, usage, dict(budgets), per_layer)


# ====================================================================== schedules + fine-tuning
def iterative_prune(model, X_train, y_train, target: dict, prune_step, current_usage, schedule=None,
                    finetune=None, log=None) -> list[dict]:
    """Run ``schedule`` from the current usage to ``target`` budgets: at every step call
    ``prune_step(model, budgets)``, then fine-tune: ``finetune`` is a TrainConfig for
    :func:`lutnet.train.fit` (which holds out its validation split from the training data) or a
    callable ``(model, X_train, y_train) -> validation accuracy``.  Returns one record per step."""
    from ..train import fit

    schedule = schedule or ConstantSchedule()
    history = []
    for i, budgets in enumerate(schedule_budgets(schedule, current_usage(model), target)):
        result = prune_step(model, budgets)
        rec = {"step": i, "budgets": budgets, "usage": current_usage(model), "result": result}
        if callable(finetune):
            rec["val_acc"] = float(finetune(model, X_train, y_train))
        elif finetune is not None and finetune.epochs > 0:
            tr = fit(model, X_train, y_train, finetune, progress=False, log=lambda *a: None)
            rec["val_acc"] = tr.best_val_acc
        history.append(rec)
        if log:
            log(f"step {i}: budgets {budgets} -> usage {rec['usage']}"
                + (f", val acc {rec['val_acc']:.4f}" if "val_acc" in rec else ""))
    return history


def prune_lut_iteratively(model: LUTNet, X_train, y_train, budget: float, schedule=None,
                          finetune: TrainConfig | None = None, metric: str = "l1", method: str = "auto",
                          cost_model="lutcost", min_inputs_last: int = 1, normalize: bool | None = None,
                          log=None) -> list[dict]:
    """LUT-budget pruning with a schedule and fine-tuning between steps (see :func:`iterative_prune`).
    Taylor importance uses a few batches of the training data."""
    def step(m, budgets):
        return prune_lut_network(m, budgets["lut"], metric, method, (X_train, y_train), cost_model,
                                 min_inputs_last, normalize=normalize)

    return iterative_prune(model, X_train, y_train, {"lut": float(budget)}, step,
                           lambda m: {"lut": lut_network_cost(m, cost_model)}, schedule, finetune, log)


def prune_dense_iteratively(model, X_train, y_train, budgets: dict, resource_models: dict, schedule=None,
                            finetune: TrainConfig | None = None, metric: str = "l1", method: str = "auto",
                            normalize: bool | None = None, min_keep: int = 1, log=None) -> list[dict]:
    """hls4ml-resource pruning of dense layers with a schedule and fine-tuning between steps."""
    def step(m, b):
        return prune_dense(m, b, resource_models, metric, method, (X_train, y_train), normalize, min_keep)

    return iterative_prune(model, X_train, y_train, dict(budgets), step,
                           lambda m: dense_usage(m, resource_models), schedule, finetune, log)

