"""Importance of prunable structures, as in the paper: magnitude (``l1``, ``l2``) of the weights a
structure holds, or first-order Taylor saliency (``taylor``: ``sum |w * dL/dw|``, accumulated over
a few batches — hls4ml's ``oracle`` metric).

For a LUT layer the structure is an input connection (neuron k, position j).  The weights attached
to it are: linear — ``w[k, j]``; poly — the weights of every monomial containing input j;
subnet — the first hidden layer's weights from input j (and the skip projection from it, if any).
For a dense layer the structures are groups of flat weight indices (hls4ml patterns/blocks).
"""
from __future__ import annotations

import torch

from ..nn.layer import LUTLayer
from ..nn.neurons import LinearNeuron, PolyNeuron, SubnetNeuron
from .errors import PruningError

METRICS = ("l1", "l2", "taylor")


def default_normalize(metric: str) -> bool:
    """Whether to rescale importances per layer (to mean 1) before layers compete in one knapsack:
    yes for magnitudes (weight scales differ between layers), no for Taylor saliency (an estimate
    of the loss change, already comparable across layers)."""
    return metric != "taylor"


def _check_metric(metric):
    if metric not in METRICS:
        raise PruningError(f"unknown importance metric {metric!r}; known: {', '.join(METRICS)}")


def _input_weights(layer: LUTLayer):
    """[(parameter, reduce)] where ``reduce`` maps an element-wise score of the parameter's shape
    to (out, F) by summing the entries attached to each input."""
    n = layer.neuron
    if isinstance(n, LinearNeuron):
        return [(n.weight, lambda s: s)]
    if isinstance(n, PolyNeuron):
        inc = torch.zeros(n.fan_in, len(n.terms))
        for t, m in enumerate(n.terms):
            inc[list(set(m)), t] = 1.0
        return [(n.weight, lambda s: s @ inc.T.to(s))]
    if isinstance(n, SubnetNeuron):
        pairs = [(n.weights[0], lambda s: s.sum(-1))]
        if "0" in n.proj:
            pairs.append((n.proj["0"], lambda s: s.sum(-1)))
        return pairs
    raise PruningError(f"layer {layer.name!r}: no importance rule for neuron kind {n.kind!r}; pass "
                       f"importances explicitly")


def _taylor_grads(model, params, data, batches: int, batch_size: int, loss_fn):
    """Per-parameter ``sum_b |w * grad_b|`` over ``batches`` batches of ``data=(X, y)``, computed on
    the training (differentiable) path with batch norms in eval mode, so no running statistic moves;
    the model's modes and gradients are restored afterwards."""
    if data is None:
        raise PruningError("metric 'taylor' needs data=(X, y) to compute gradients")
    X, y = (torch.as_tensor(a) for a in data)
    X, y = X.to(torch.float32), y.to(torch.long)
    modes = {m: m.training for m in model.modules()}
    saved = {p: p.grad for p in model.parameters()}
    acc = [torch.zeros_like(p) for p in params]
    try:
        model.train()
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.eval()
        g = torch.Generator().manual_seed(0)
        perm = torch.randperm(len(X), generator=g)
        for b in range(batches):
            idx = perm[b * batch_size:(b + 1) * batch_size]
            if len(idx) == 0:
                break
            grads = torch.autograd.grad(loss_fn(model(X[idx]), y[idx]), params, allow_unused=True)
            for a, p, gr in zip(acc, params, grads):
                if gr is not None:
                    a += (p.detach() * gr).abs()
    finally:
        for m, t in modes.items():
            m.train(t)
        for p, gr in saved.items():
            p.grad = gr
    return acc


def _score(params, metric, model, data, batches, batch_size, loss_fn):
    if metric == "taylor":
        return _taylor_grads(model, params, data, batches, batch_size, loss_fn)
    return [p.detach().abs() if metric == "l1" else p.detach() ** 2 for p in params]


def lut_input_importance(model, metric: str = "l1", data=None, batches: int = 4, batch_size: int = 256,
                         loss_fn=torch.nn.functional.cross_entropy) -> list[torch.Tensor]:
    """Importance (out, F) of every input connection of every LUT layer of ``model`` (>= 0;
    pruned connections get 0)."""
    _check_metric(metric)
    layers = list(model.layers)
    pairs = [_input_weights(layer) for layer in layers]
    flat = [p for ps in pairs for p, _ in ps]
    scores = iter(_score(flat, metric, model, data, batches, batch_size, loss_fn))
    out = []
    for layer, ps in zip(layers, pairs):
        total = sum(reduce(next(scores)) for _, reduce in ps)
        if metric == "l2":
            total = total.sqrt()
        out.append(torch.where(layer.input_mask, total, torch.zeros_like(total)).detach().cpu())
    return out


def dense_structure_importance(weight_params, structure_index, metric: str = "l1", model=None, data=None,
                               batches: int = 4, batch_size: int = 256,
                               loss_fn=torch.nn.functional.cross_entropy) -> list[torch.Tensor]:
    """Importance of each structure (rows of ``structure_index``, flat indices into the weight,
    ``-1`` = padding) of each dense weight."""
    _check_metric(metric)
    scores = _score(list(weight_params), metric, model, data, batches, batch_size, loss_fn)
    out = []
    for s, idx in zip(scores, structure_index):
        idx = torch.as_tensor(idx, dtype=torch.long)
        flat = torch.cat([s.detach().reshape(-1).cpu(), torch.zeros(1)])
        v = flat[torch.where(idx >= 0, idx, flat.numel() - 1)].sum(1)
        out.append(v.sqrt() if metric == "l2" else v)
    return out
