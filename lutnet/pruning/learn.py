"""Learned connectivity through knapsack pruning, written once for every framework (numpy only).

Train a LUT network with a larger fan-in ``S`` per neuron (``start_fan_in``; or densely: every neuron
reads all its layer's inputs), then let the resource-aware knapsack of :mod:`.lut_structures` choose
which inputs each neuron keeps, in ``steps`` steps whose fan-in caps fall geometrically from ``S`` to
the target fan-in ``F``, with fine-tuning after each step:

* step i prunes with the multiple-choice knapsack (per neuron: how many of its most important inputs
  to keep, at most the step's cap; importances by ``metric``) under the budget ``ratio x`` (the LUT
  cost of every neuron at the step's cap), where ``ratio = budget_luts / (cost with every neuron at
  F)`` (at most 1); the last step's budget is ``budget_luts`` itself (default: every neuron at F);
* each layer is then *frozen* to the cap (:func:`lutnet.core.learned.freeze_positions` /
  ``slice_params``): a layer of fan-in cap whose ``connectivity`` index array lists the kept inputs
  (a neuron the knapsack gave fewer inputs reads padding inputs whose mask is off), computing the same
  function as before, so fine-tuning continues from it;
* fine-tuning: the framework's ``fit`` (validation carved from the training split, never the test set).

The result is an ordinary LUT network of fan-in ``F`` whose connectivity and masks are saved with its
weights (checkpoints rebuild it from the config with the target fan-in), so the IR is a sparse table
network of fan-in ``F`` whose LUT cost is at most ``budget_luts``.

``kind="group_lasso"`` is NeuraLUT-Assemble's variant: the pre-training adds ``lasso x`` the sum of the
L2 norms of each neuron's per-input weight groups to the loss (the target's ``group_lasso`` context),
and one step keeps the top inputs by those norms (``metric="l2"``) under the same budget and freeze path.

The PyTorch and Keras targets (:class:`~lutnet.pruning.torch_prune.TorchLutTarget`,
:class:`~lutnet.pruning.keras_prune.KerasLutTarget`) implement ``refan`` and ``group_lasso``;
:func:`fit_learned` runs the whole recipe from a :class:`lutnet.config.ModelConfig`'s
``learn_connectivity`` block for either frontend.
"""
from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ..core.learned import LEARNABLE_NEURONS, check_learn, fan_in_steps, freeze_positions
from ..errors import LayerConfigError
from .errors import InfeasibleBudgetError, PruningError
from .loop import METRICS, LutPruneTarget, cost_fn, lut_cost, prune_lut
from .lut_structures import build_problem, network_cost

__all__ = ["LearnResult", "fit_learned", "learn_connectivity", "start_config"]


@dataclass
class LearnResult:
    """What :func:`learn_connectivity` did: per step the caps, budget, LUT cost and validation
    accuracy; the final fan-ins and LUT cost (``lut_cost`` <= ``budget``)."""
    fan_in: list
    budget: float
    lut_cost: float
    history: list = field(default_factory=list)
    model: object = None


def _targets(target: LutPruneTarget, fan_in) -> list[int]:
    n = len(target.specs())
    if isinstance(fan_in, (int, np.integer)):
        return [int(fan_in)] * n
    fan_in = [int(f) for f in fan_in]
    if len(fan_in) != n:
        raise PruningError(f"learned connectivity: fan_in lists {len(fan_in)} values for {n} LUT layers")
    return fan_in


def _full_cost(specs, caps, fn) -> float:
    """LUTs with every neuron keeping min(cap, active) inputs."""
    from .lut_structures import LayerSpec
    capped = []
    for L, c in zip(specs, caps):
        keep = np.zeros_like(L.mask)
        n = np.minimum(L.mask.sum(1), c)
        keep[np.arange(L.mask.shape[1])[None, :] < n[:, None]] = True
        capped.append(LayerSpec(keep, L.connectivity, L.in_bits, L.out_bits))
    return network_cost(capped, fn)


def _identity_skip_width(neuron):
    """A subnet neuron with an input skip: the fan-in at which that skip is the identity (its width)."""
    family = getattr(neuron, "family", neuron)  # a PyTorch neuron module holds its core family
    if family.kind == "subnet" and family.skip:
        return int(family.dims[dict(family.blocks)[0]])
    return None


def check_target(target: LutPruneTarget, fan_in: list[int], steps: int, budget, kind: str = "knapsack",
                 lasso: float = 0.0) -> list[int]:
    """Each layer's current (start) fan-in, checked against its target ``fan_in``."""
    starts = []
    kinds = target.neuron_kinds()
    for li, spec in enumerate(target.specs()):
        where = f"LUT layer {target.layer_name(li)!r}"
        if target.learns_mapping(li):
            raise LayerConfigError(f"{where}: learned connectivity (knapsack/group lasso) and a learnable mapping "
                                   f"both choose the layer's inputs; use one of them (mapping: fixed)")
        if kinds[li].kind not in LEARNABLE_NEURONS:
            raise LayerConfigError(f"{where}: learned connectivity supports neuron kinds "
                                   f"{', '.join(LEARNABLE_NEURONS)}, not {kinds[li].kind!r}")
        S = spec.mask.shape[1]
        check_learn(where, kind, S, fan_in[li], target.in_features(li), steps, budget, lasso)
        starts.append(S)
    return starts


def learn_connectivity(target: LutPruneTarget, X_train, y_train, fan_in, steps: int = 3, budget: float | None = None,
                       metric: str = "l2", method: str = "auto", cost_model="lutcost", finetune=None, fit=None,
                       min_inputs_last: int = 1, log=None, kind: str = "knapsack") -> LearnResult:
    """Prune ``target`` (a model trained at its start fan-in) to ``fan_in`` inputs per neuron (an int,
    or one per LUT layer) under ``budget`` LUTs (``cost_model``: ``"lutcost"``, what ``ir.lut_cost()``
    reports, or a ``(address_bits, out_bits) -> LUTs`` function; default budget: every neuron at
    ``fan_in``), in ``steps`` steps with ``finetune`` (a TrainConfig for ``fit``, or a callable
    ``(model, X, y) -> validation accuracy``) after each; see the module docstring.  ``target.model``
    is the learned model afterwards (also ``result.model``)."""
    if metric not in METRICS:
        raise PruningError(f"unknown importance metric {metric!r}; known: {', '.join(METRICS)}")
    if cost_model == "estimate":
        raise PruningError("learned connectivity prunes wider layers than the target fan-in, whose tables cannot be "
                           "estimated; use cost_model='lutcost' (and measure the result with lutnet.rtl.estimate)")
    fn = cost_fn(cost_model)
    F = _targets(target, fan_in)
    starts = check_target(target, F, steps, budget, kind)
    kinds = target.neuron_kinds()
    caps = [fan_in_steps(S, f, steps, _identity_skip_width(n)) for S, f, n in zip(starts, F, kinds)]
    specs = target.specs()
    full = _full_cost(specs, F, fn)
    budget = float(full if budget is None else budget)
    least = build_problem(specs, [m.mask.astype(np.float64) for m in specs], fn, min_inputs_last,
                          max_inputs=F).problem.minimum_cost()["lut"]
    if budget < least:
        raise InfeasibleBudgetError(f"learned connectivity: budget_luts={budget:g} is below {least:g} LUTs, the least "
                                    f"the network can cost (every last-layer neuron keeps {min_inputs_last} "
                                    f"input(s)); raise budget_luts to >= {least:g}", {"lut": least})
    ratio = min(1.0, budget / full) if full > 0 else 1.0
    data = (np.asarray(X_train, np.float32), np.asarray(y_train))
    history = []
    for i in range(steps):
        cap = [c[i] for c in caps]
        last = i == steps - 1
        b = budget if last else ratio * _full_cost(target.specs(), cap, fn)
        res = prune_lut(target, b, metric, method, data, cost_model, min_inputs_last, max_inputs=cap)
        for li, spec in enumerate(target.specs()):
            if spec.mask.shape[1] > cap[li]:
                positions, mask = freeze_positions(spec.mask, cap[li])
                target.refan(li, positions, mask)
        rec = {"step": i, "fan_in": cap, "budget": b, "lut_cost": lut_cost(target, cost_model),
               "kept_connections": res.kept_connections, "constant_neurons": res.constant_neurons}
        if callable(finetune):
            rec["val_acc"] = float(finetune(target.model, *data))
        elif finetune is not None and finetune.epochs > 0:
            if fit is None:
                raise PruningError("finetune is a TrainConfig but no trainer was given (fit=)")
            rec["val_acc"] = fit(target.model, *data, finetune, progress=False, log=lambda *a: None).best_val_acc
        history.append(rec)
        if log:
            log(f"learned connectivity step {i}: fan-in caps {cap}, budget {b:.6g} -> LUT cost {rec['lut_cost']:.6g}"
                + (f", val acc {rec['val_acc']:.4f}" if "val_acc" in rec else ""))
    cost = lut_cost(target, cost_model)
    if cost > budget:
        raise PruningError(f"internal error: learned connectivity cost {cost:g} exceeds the budget {budget:g}")
    return LearnResult(F, budget, cost, history, target.model)


# ---------------------------------------------------------------------- from a config
def start_config(model_cfg):
    """The ModelConfig trained before learning: every layer's fan-in replaced by its start fan-in
    (``learn_connectivity.start_fan_in``, at most the layer's inputs; none: dense).  The layer
    widths, bits, neurons and seeds are the config's."""
    lc = model_cfg.learn_connectivity
    layers = []
    for i, l in enumerate(model_cfg.layers):
        if getattr(l, "add", None) is not None or getattr(l, "assemble", None) is not None:
            raise LayerConfigError(f"model.layers[{i}]: learned connectivity does not apply to a tree layer "
                                   f"(add/assemble); drop model.learn_connectivity or the tree")
        layers.append(dataclasses.replace(l, fan_in=lc.start_fan_in or 1 << 30))
    return dataclasses.replace(model_cfg, layers=layers, learn_connectivity=None, input_min_active=0.0)


def _cap_start_fan_ins(cfg, in_features: int, pool_size: int | None):
    """``cfg`` with each layer's start fan-in at most its inputs (layer 0: its input pool)."""
    layers, src = [], in_features if pool_size is None else pool_size
    for l in cfg.layers:
        layers.append(dataclasses.replace(l, fan_in=min(l.fan_in, src)))
        src = l.out_features
    return dataclasses.replace(cfg, layers=layers)


def fit_learned(frontend, model_cfg, train_cfg, X_train, y_train, log=print, progress: bool = False, on_epoch=None):
    """Build, train and learn the connectivity of ``model_cfg`` (which has ``learn_connectivity``)
    with ``frontend`` (:func:`lutnet.frontend.get_frontend`): pre-train at the start fan-in for
    ``pretrain_epochs`` (default ``train_cfg.epochs``; group lasso: with the penalty), then
    :func:`learn_connectivity` with ``finetune_epochs`` of fine-tuning per step.  Returns
    ``(model, TrainResult of the last fine-tuning (of the pre-training without fine-tuning),
    LearnResult)``; the model has the config's target fan-ins, so a checkpoint of it loads with
    ``model_cfg``.  ``on_epoch(record)`` is called after each pre-training epoch."""
    from ..builder import input_pool
    from ..core.plan import layer_fan_in
    lc = model_cfg.learn_connectivity
    if lc is None:
        raise PruningError("fit_learned needs a model config with learn_connectivity")
    n = np.shape(X_train)[-1]
    pool = input_pool(model_cfg, n, X_train)
    start = start_config(model_cfg)
    start = _cap_start_fan_ins(start, n, None if pool is None else len(pool))
    if pool is not None:
        start = dataclasses.replace(start, input_min_active=model_cfg.input_min_active)
    model = frontend.build(start, n, X_train)
    pre = dataclasses.replace(train_cfg, epochs=lc.pretrain_epochs if lc.pretrain_epochs is not None
                              else train_cfg.epochs)
    target = frontend.prune_target(model)
    ctx = target.group_lasso(lc.lasso) if lc.kind == "group_lasso" else contextlib.nullcontext()
    with ctx:
        kw = {} if on_epoch is None else {"on_epoch": on_epoch}
        last = {"result": frontend.fit(model, X_train, y_train, pre, progress=progress, **kw)}

    def finetune(m, X, y):
        last["result"] = frontend.fit(m, X, y, dataclasses.replace(train_cfg, epochs=lc.finetune_epochs),
                                      progress=progress)
        return last["result"].best_val_acc

    fan_in = [layer_fan_in(model_cfg, i) for i in range(len(model_cfg.layers))]
    steps = 1 if lc.kind == "group_lasso" else lc.steps
    result = learn_connectivity(target, X_train, y_train, fan_in, steps, lc.budget_luts, lc.metric,
                                finetune=finetune if lc.finetune_epochs > 0 else None, log=log, kind=lc.kind)
    return result.model, last.get("result"), result
