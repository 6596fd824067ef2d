"""Resource-aware pruning for PyTorch/Brevitas: lutnet LUT networks and dense MLPs.

The loops are framework-neutral (:mod:`.loop`, shared with Keras); this module is the PyTorch side:
:class:`TorchLutTarget` (a :class:`lutnet.nn.LUTNet`'s masks, connectivity, bits, parameter scores
and tables) and :class:`TorchDenseTarget` (``nn.Linear``/Brevitas ``QuantLinear`` weights).

**LUT networks**: the multiple-choice knapsack of :mod:`~lutnet.pruning.lut_structures` (per
neuron, how many of its most important inputs to keep) decides each layer's ``input_mask``, so
:func:`lutnet.export.to_ir` emits the smaller tables and ``ir.lut_cost()`` equals
:func:`lut_network_cost`.

**Dense MLPs**: hls4ml patterns/blocks (:class:`~lutnet.pruning.resources.DenseResourceModel`) are
zeroed; a gradient hook keeps them at zero while fine-tuning with a fresh optimizer.

The iterative loops run a :mod:`schedule <lutnet.pruning.schedule>` of budgets with fine-tuning
(:func:`lutnet.train.fit`, whose validation split comes from the training data) after each step.
"""
from __future__ import annotations

import contextlib

import numpy as np
import torch

from ..config import TrainConfig
from ..nn.layer import LUTNet
from . import loop
from .importance import named_params, torch_scores
from .loop import DensePruneResult, iterative_prune  # noqa: F401  (public names of this module)
from .lut_structures import LayerSpec, LutPruneResult, LutPruningProblem, build_problem

__all__ = ["DensePruneResult", "TorchDenseTarget", "TorchLutTarget", "dense_layers", "dense_usage",
           "estimated_option_costs", "iterative_prune", "learn_lut_connectivity", "lut_layer_specs",
           "lut_network_cost", "lut_pruning_problem",
           "prune_dense", "prune_dense_iteratively", "prune_lut_iteratively", "prune_lut_network"]


# ====================================================================== LUT networks
class TorchLutTarget(loop.LutPruneTarget):
    """A :class:`lutnet.nn.LUTNet` as the shared LUT pruning loop sees it."""

    def __init__(self, model: LUTNet, loss_fn=torch.nn.functional.cross_entropy):
        if not isinstance(model, LUTNet):
            raise TypeError(f"expected a lutnet.nn.LUTNet, got {type(model).__name__}")
        self.model, self.loss_fn = model, loss_fn
        self.layers = list(model.layers)

    def _infos(self):
        return [self.layers[0].input_info()] + [l.output_info() for l in self.layers]

    def specs(self):
        infos = self._infos()
        return [LayerSpec(l.input_mask.cpu().numpy().astype(bool), l.connectivity.cpu().numpy(),
                          infos[i].bits, infos[i + 1].bits) for i, l in enumerate(self.layers)]

    def neuron_kinds(self):
        return [l.neuron for l in self.layers]

    def named_params(self, li):
        return named_params(self.layers[li].neuron)

    def param_scores(self, params, metric, data, batches, batch_size):
        return torch_scores(params, metric, self.model, data, batches, batch_size, self.loss_fn)

    def get_mask(self, li):
        return self.layers[li].input_mask.cpu().numpy().astype(bool)

    @torch.no_grad()
    def set_mask(self, li, mask):
        m = self.layers[li].input_mask
        m.copy_(torch.as_tensor(np.asarray(mask, bool), device=m.device))

    @torch.no_grad()
    def extract_layer(self, li):
        from ..export import extract_layer
        was = self.model.training
        self.model.eval()
        try:
            return extract_layer(self.layers[li], self._infos()[li], li)
        finally:
            self.model.train(was)

    def to_ir(self):
        from ..export import to_ir
        return to_ir(self.model)

    # ------------------------------------------------ learned connectivity
    def layer_name(self, li):
        return self.layers[li].name

    def in_features(self, li):
        return self.layers[li].in_features

    def learns_mapping(self, li):
        return getattr(self.layers[li], "mapping", None) is not None

    @torch.no_grad()
    def refan(self, li, positions, mask):
        """Resize layer ``li`` in place: a new neuron module of fan-in F with the mapped parameters,
        the kept inputs as ``connectivity``, ``mask`` as ``input_mask`` (quantizers, batch norm kept)."""
        from ..core.learned import narrower, slice_params
        from ..nn.neurons import make_neuron
        layer = self.layers[li]
        P = np.asarray(positions, np.int64)
        F = P.shape[1]
        old = layer.neuron.family
        new = narrower(old, F)
        values = slice_params(old, new, {k: v.detach().cpu().numpy() for k, v in layer.neuron.params().items()}, P)
        device = layer.connectivity.device
        neuron = make_neuron(old.kind, layer.out_features, F, old.where, **old.options).to(device)
        for name, p in neuron.params().items():
            p.copy_(torch.from_numpy(np.ascontiguousarray(values[name])))
        layer.neuron = neuron
        layer.fan_in = F
        conn = np.take_along_axis(layer.connectivity.cpu().numpy(), P, 1)
        layer.connectivity = torch.as_tensor(conn, dtype=layer.connectivity.dtype, device=device)
        layer.input_mask = torch.as_tensor(np.asarray(mask, bool), device=device)

    @contextlib.contextmanager
    def group_lasso(self, strength: float):
        """Adds ``strength x`` each layer's group-lasso penalty to the loss's gradient while active
        (gradient hooks on the input-attached parameters: ``fit`` needs no change)."""
        from ..core.learned import group_norms
        handles = []

        def hook(layer, name):
            def add(grad):
                with torch.enable_grad():
                    params = {k: v.detach().requires_grad_(k == name) for k, v in layer.neuron.params().items()}
                    pen = (group_norms(TORCH_ARRAYS, layer.neuron.family, params) * layer.input_mask).sum()
                    g, = torch.autograd.grad(pen, params[name])
                return grad + strength * g
            return add

        try:
            if strength > 0:
                for layer, neuron in zip(self.layers, self.neuron_kinds()):
                    for name in loop.input_param_names(neuron, layer.neuron.params()):
                        handles.append(layer.neuron.params()[name].register_hook(hook(layer, name)))
            yield self
        finally:
            for h in handles:
                h.remove()


class TorchArrays:
    """The array adapter of :func:`lutnet.core.learned.group_norms` over PyTorch tensors."""

    @staticmethod
    def sum(x, axis):
        return x.sum(axis)

    sqrt = staticmethod(torch.sqrt)

    @staticmethod
    def matmul(x, m):
        return x @ torch.as_tensor(m, dtype=x.dtype, device=x.device)


TORCH_ARRAYS = TorchArrays()


def learn_lut_connectivity(model: LUTNet, X_train, y_train, fan_in, steps: int = 3, budget: float | None = None,
                           finetune: TrainConfig | None = None, metric: str = "l2", method: str = "auto",
                           cost_model="lutcost", min_inputs_last: int = 1, log=None):
    """Learned connectivity of a :class:`lutnet.nn.LUTNet` trained at a larger fan-in: the knapsack
    keeps at most ``fan_in`` inputs per neuron under ``budget`` LUTs, fine-tuning between steps, and
    each layer is frozen (in place) to its kept inputs (:func:`lutnet.pruning.learn.learn_connectivity`)."""
    from ..train import fit
    from .learn import learn_connectivity
    if not isinstance(model, LUTNet):
        raise TypeError(f"learn_lut_connectivity expects a lutnet.nn.LUTNet, got {type(model).__name__}")
    return learn_connectivity(TorchLutTarget(model), X_train, y_train, fan_in, steps, budget, metric, method,
                              cost_model, finetune, fit, min_inputs_last, log)


def lut_layer_specs(model: LUTNet) -> list[LayerSpec]:
    """The model's layers as framework-neutral :class:`~lutnet.pruning.lut_structures.LayerSpec`."""
    return TorchLutTarget(model).specs()


def lut_network_cost(model: LUTNet, cost_model="lutcost") -> float:
    """LUTs of the model's current pruning state: with ``"lutcost"`` (no table extraction) this
    equals ``to_ir(model).lut_cost()``; ``"estimate"`` sums the Yosys-calibrated estimates of the
    exported tables."""
    return loop.lut_cost(TorchLutTarget(model), cost_model)


def lut_pruning_problem(model: LUTNet, importance: list, cost_model="lutcost", min_inputs_last: int = 1,
                        frozen: list | None = None, normalize: bool = True) -> LutPruningProblem:
    """The multiple-choice knapsack of ``model`` (see :func:`lutnet.pruning.lut_structures.build_problem`)."""
    imp = [np.asarray(torch.as_tensor(i).cpu(), dtype=np.float64) for i in importance]
    return build_problem(lut_layer_specs(model), imp, loop.cost_fn(cost_model), min_inputs_last, frozen, normalize)


def estimated_option_costs(model: LUTNet, importance: list, estimator=None) -> list[np.ndarray]:
    """Per layer (out, F+1): the estimated LUTs of each neuron's table when it keeps its m most
    important active inputs (see :func:`lutnet.pruning.loop.estimated_option_costs`)."""
    imp = [np.asarray(torch.as_tensor(i).cpu(), np.float64) for i in importance]
    return loop.estimated_option_costs(TorchLutTarget(model), imp, estimator)


def prune_lut_network(model: LUTNet, budget: float, metric: str = "l1", method: str = "auto", data=None,
                      cost_model="lutcost", min_inputs_last: int = 1, importance: list | None = None,
                      max_rounds: int = 8, normalize: bool | None = None) -> LutPruneResult:
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
    imp = None if importance is None else [np.asarray(torch.as_tensor(i).cpu(), np.float64) for i in importance]
    return loop.prune_lut(TorchLutTarget(model), budget, metric, method, data, cost_model, min_inputs_last, imp,
                          max_rounds, normalize)


def prune_lut_iteratively(model: LUTNet, X_train, y_train, budget: float, schedule=None,
                          finetune: TrainConfig | None = None, metric: str = "l1", method: str = "auto",
                          cost_model="lutcost", min_inputs_last: int = 1, normalize: bool | None = None,
                          log=None) -> list[dict]:
    """LUT-budget pruning with a schedule and fine-tuning between steps (see
    :func:`lutnet.pruning.loop.iterative_prune`).  Taylor importance uses a few batches of the
    training data."""
    from ..train import fit

    def step(m, budgets):
        return prune_lut_network(m, budgets["lut"], metric, method, (X_train, y_train), cost_model,
                                 min_inputs_last, normalize=normalize)

    return iterative_prune(model, X_train, y_train, {"lut": float(budget)}, step,
                           lambda m: {"lut": lut_network_cost(m, cost_model)}, schedule, finetune, log, fit)


# ====================================================================== dense layers
def dense_layers(model) -> list[tuple[str, torch.nn.Linear]]:
    """(name, module) of every ``nn.Linear`` (including Brevitas ``QuantLinear``) in order."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]


class TorchDenseTarget(loop.DenseTarget):
    """The ``nn.Linear`` layers of a PyTorch model as the shared dense pruning loop sees them."""

    def __init__(self, model):
        self.model = model
        self.modules = dict(dense_layers(model))

    def layer_names(self):
        return list(self.modules)

    def weight(self, name):
        return self.modules[name].weight.detach().cpu().numpy()

    def weight_scores(self, names, metric, data, batches, batch_size):
        return torch_scores([self.modules[n].weight for n in names], metric, self.model, data, batches, batch_size)

    @torch.no_grad()
    def apply_mask(self, name, mask_out_in):
        """Zero the pruned weights and keep their gradient at zero from now on."""
        module = self.modules[name]
        mask = torch.as_tensor(mask_out_in).to(module.weight.device, module.weight.dtype)
        module.weight.mul_(mask)
        old = getattr(module, "_lutnet_prune_hook", None)
        if old is not None:
            old.remove()
        module._lutnet_prune_hook = module.weight.register_hook(lambda g, m=mask: g * m)
        module.register_buffer("prune_mask", mask.bool(), persistent=False)


def dense_usage(model, resource_models: dict) -> dict:
    """Estimated DSP/LUT/BRAM of ``model``'s dense layers (hls4ml model per layer name)."""
    return loop.dense_usage(TorchDenseTarget(model), resource_models)


def prune_dense(model, budgets: dict, resource_models: dict, metric: str = "l1", method: str = "auto",
                data=None, normalize: bool | None = None, min_keep: int = 1) -> DensePruneResult:
    """Zero hls4ml structures of the dense layers named in ``resource_models`` ({name: model}) so
    the estimated resources fit ``budgets`` (e.g. ``{"dsp": 200}``); see
    :func:`lutnet.pruning.loop.prune_dense`."""
    return loop.prune_dense(TorchDenseTarget(model), budgets, resource_models, metric, method, data, normalize,
                            min_keep, kind="nn.Linear")


def prune_dense_iteratively(model, X_train, y_train, budgets: dict, resource_models: dict, schedule=None,
                            finetune: TrainConfig | None = None, metric: str = "l1", method: str = "auto",
                            normalize: bool | None = None, min_keep: int = 1, log=None) -> list[dict]:
    """hls4ml-resource pruning of dense layers with a schedule and fine-tuning between steps."""
    from ..train import fit

    def step(m, b):
        return prune_dense(m, b, resource_models, metric, method, (X_train, y_train), normalize, min_keep)

    return iterative_prune(model, X_train, y_train, dict(budgets), step,
                           lambda m: dense_usage(m, resource_models), schedule, finetune, log, fit)
