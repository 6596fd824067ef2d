"""Importance of prunable structures, as in the paper: magnitude (``l1``, ``l2``) of the weights a
structure holds, or first-order Taylor saliency (``taylor``: ``sum |w * dL/dw|``, accumulated over
a few batches — hls4ml's ``oracle`` metric).  PyTorch side: which parameters a structure holds and
their gradients; how scores become per-input or per-structure importances is framework-neutral
(:mod:`lutnet.pruning.loop`, shared with Keras).

For a LUT layer the structure is an input connection (neuron k, position j).  The weights attached
to it are: linear — ``w[k, j]``; poly — the weights of every monomial containing input j;
subnet — the first hidden layer's weights from input j (and the skip projection from it, if any).
For a dense layer the structures are groups of flat weight indices (hls4ml patterns/blocks).
"""
from __future__ import annotations

import numpy as np
import torch

from .loop import (
    METRICS,
    check_metric,
    default_normalize,
    dense_values,
    elementwise_scores,
    input_importance,
    taylor_batches,
)

__all__ = ["METRICS", "default_normalize", "dense_structure_importance", "named_params", "lut_input_importance",
           "torch_scores"]


def named_params(neuron) -> dict:
    """A torch neuron's parameters by the neuron families' names (``weight``, ``weights_0``, ``proj_0``)."""
    if callable(getattr(neuron, "params", None)):
        return neuron.params()
    out = {"weight": neuron.weight} if hasattr(neuron, "weight") else {}
    out.update({f"weights_{i}": w for i, w in enumerate(getattr(neuron, "weights", ()))})
    out.update({f"proj_{k}": w for k, w in getattr(neuron, "proj", {}).items()})
    return out


def _taylor_grads(model, params, data, batches: int, batch_size: int, loss_fn):
    """Per-parameter ``sum_b |w * grad_b|`` over ``batches`` batches of ``data=(X, y)``, computed on
    the training (differentiable) path with batch norms in eval mode, so no running statistic moves;
    the model's modes and gradients are restored afterwards."""
    X, y, index = taylor_batches(data, batches, batch_size)
    X, y = torch.as_tensor(X), torch.as_tensor(y, dtype=torch.long)
    modes = {m: m.training for m in model.modules()}
    saved = {p: p.grad for p in model.parameters()}
    acc = [torch.zeros_like(p) for p in params]
    try:
        model.train()
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.eval()
        for idx in index:
            idx = torch.as_tensor(idx)
            grads = torch.autograd.grad(loss_fn(model(X[idx]), y[idx]), params, allow_unused=True)
            for a, p, gr in zip(acc, params, grads):
                if gr is not None:
                    a += (p.detach() * gr).abs()
    finally:
        for m, t in modes.items():
            m.train(t)
        for p, gr in saved.items():
            p.grad = gr
    return [a.detach().cpu().numpy() for a in acc]


def torch_scores(params, metric, model=None, data=None, batches: int = 4, batch_size: int = 256,
                 loss_fn=torch.nn.functional.cross_entropy) -> list[np.ndarray]:
    """Element-wise scores (numpy) of torch parameters."""
    check_metric(metric)
    if metric == "taylor":
        return _taylor_grads(model, list(params), data, batches, batch_size, loss_fn)
    return elementwise_scores([p.detach().cpu().numpy() for p in params], metric)


def lut_input_importance(model, metric: str = "l1", data=None, batches: int = 4, batch_size: int = 256,
                         loss_fn=torch.nn.functional.cross_entropy) -> list[torch.Tensor]:
    """Importance (out, F) of every input connection of every LUT layer of ``model`` (>= 0;
    pruned connections get 0)."""
    from .torch_prune import TorchLutTarget
    target = TorchLutTarget(model, loss_fn)
    return [torch.as_tensor(i, dtype=torch.float32) for i in input_importance(target, metric, data, batches, batch_size)]


def dense_structure_importance(weight_params, structure_index, metric: str = "l1", model=None, data=None,
                               batches: int = 4, batch_size: int = 256,
                               loss_fn=torch.nn.functional.cross_entropy) -> list[torch.Tensor]:
    """Importance of each structure (rows of ``structure_index``, flat indices into the weight,
    ``-1`` = padding) of each dense weight."""
    scores = torch_scores(list(weight_params), metric, model, data, batches, batch_size, loss_fn)
    return [torch.as_tensor(dense_values(s, idx, metric), dtype=torch.float32) for s, idx in zip(scores, structure_index)]
