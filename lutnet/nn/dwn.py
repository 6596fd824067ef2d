"""DWN-style weightless networks in PyTorch: thermometer encoder, table-neuron layers (learnable
mapping), GroupSum/popcount head and argmax, exported as IR stages.

A thin frontend over :mod:`lutnet.core.table_neuron` (address rule, EFD rule, thresholds, mapping
selection, IR table read-out live there).  The model is exact in training and inference: the input
codes come from the IR's own quantizer (:meth:`lutnet.ir.QuantSpec.to_codes`), the encoder compares
integers, a table neuron outputs ``w[addr] > 0`` and the head sums bits; so
``DWNNet.output_codes(X)`` equals ``to_ir(model).evaluate(...)`` bit for bit.

>>> enc = Thermometer(784, bits_per_feature=3, input_bits=8, scale=1 / 255)
>>> model = DWNNet(enc, [TableLayer(enc.out_features, 1000, fan_in=6, mapping="learnable")],
...                n_classes=10, tau=1 / 0.3, argmax=True)
>>> fit_dwn(model, X_train, y_train, epochs=10)      # fits the thresholds on the training split
>>> ir = model.to_ir()                               # encoder + table layers + GroupSum + argmax
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..core import connectivity as _conn
from ..core import table_neuron as tn
from ..errors import LayerConfigError
from ..ir import GroupSum, LayerIR, NetworkIR, QuantSpec

__all__ = ["DWNNet", "GroupSumHead", "TableLayer", "Thermometer", "LearnableMapping", "accuracy", "fit_dwn"]


# ---------------------------------------------------------------------- encoder
class Thermometer(tn.ThermometerBase, nn.Module):
    """Fixed-point input quantizer (``input_bits``, ``signed``, ``scale``, ``zero_point``: the raw
    integer the FPGA receives) followed by a (distributive) thermometer: ``bits_per_feature``
    thresholds per feature on those integer codes, fitted on the training split (``fit``:
    ``quantile`` or ``uniform``) or given as ``thresholds`` (features, z).  ``threshold_bits = k``
    puts every threshold on a multiple of ``2**(input_bits - k)`` (cheap comparators that read the
    top ``k`` bits only; :func:`lutnet.core.table_neuron.fit_thresholds`).  The thresholds are
    buffers (saved in the ``state_dict``); the rest is :class:`lutnet.core.table_neuron.ThermometerBase`."""

    def __init__(self, in_features: int, bits_per_feature: int = 3, fit: str = "quantile", input_bits: int = 8,
                 signed: bool = False, scale: float = 1 / 255, zero_point: float = 0.0, thresholds=None,
                 name: str = "encoder", threshold_bits: int | None = None):
        super().__init__()
        self.name = name
        self._init_encoder(f"Thermometer {name!r}", in_features, bits_per_feature, fit, input_bits, signed, scale,
                           zero_point, threshold_bits)
        self.register_buffer("thresholds", torch.zeros(self.in_features, self.bits_per_feature, dtype=torch.int64))
        self.register_buffer("fitted_flag", torch.zeros((), dtype=torch.bool))  # saved: a loaded encoder is fitted
        self._init_thresholds(thresholds)

    def _store_thresholds(self, t):
        self.thresholds.copy_(torch.from_numpy(t))
        self.fitted_flag.fill_(True)

    def _thresholds(self) -> np.ndarray:
        return self.thresholds.cpu().numpy()

    @property
    def fitted(self) -> bool:
        return bool(self.fitted_flag)

    def forward(self, x):
        return torch.from_numpy(self.encode(x))


# ---------------------------------------------------------------------- learnable mapping
class _Select(torch.autograd.Function):
    """x[:, idx] forward; backward: DWN's learnable mapping (softmax weights to x, x to scores; with
    ``signed`` the scores see the one-bit inputs as -1/+1, :func:`lutnet.core.table_neuron.MAPPING_GRADS`)."""

    @staticmethod
    def forward(ctx, x, scores, idx, cand, tau, signed=False):
        ctx.save_for_backward(x, scores, cand)
        ctx.tau, ctx.has_cand, ctx.signed = tau, cand is not None, signed
        return x[:, idx]

    @staticmethod
    def backward(ctx, g):
        x, scores, cand = ctx.saved_tensors
        o, f, k = scores.shape
        n_b, n_in = x.shape
        need_x = ctx.needs_input_grad[0]  # False for a layer reading the encoder: skip the softmax path
        g2 = g.reshape(n_b, o * f)
        if not ctx.has_cand or n_in <= 64 * k:
            # every slot's gradient against every input in one matmul, then (candidates) a gather:
            # faster than gathering the candidates' input columns unless n_in >> K (measured, CPU)
            gs = g2.t() @ x
            if ctx.has_cand:
                gs = gs.gather(1, cand.reshape(o * f, k))
        else:  # rows of x.T are contiguous: gather them, then one small batched matmul
            xt, cf = x.t().contiguous(), cand.reshape(-1)
            gs = torch.bmm(xt[cf].view(o * f, k, n_b), g2.t().contiguous().unsqueeze(2)).view(o * f, k)
        if ctx.signed:  # (2x - 1)^T g
            gs = 2 * gs - g2.sum(0)[:, None]
        grad_x = None
        if need_x:
            sm = torch.softmax(scores / ctx.tau, dim=-1)
            # a low tau leaves weights below float32's normal range: as zeros they cost nothing, as
            # denormals they made the matmul below ~3x slower on CPU (tau 0.1, [540, 120])
            sm = sm.masked_fill(sm < 1e-30, 0.0)
            if not ctx.has_cand:
                grad_x = g2 @ sm.view(o * f, k)
            else:
                cf = cand.reshape(-1)
                slot = torch.arange(o * f, device=x.device).repeat_interleave(k)
                sel = torch.sparse_coo_tensor(torch.stack([cf, slot]), sm.reshape(-1), (n_in, o * f),
                                              check_invariants=False)
                grad_x = torch.sparse.mm(sel, g2.t().contiguous()).t()
        return grad_x, gs.view(o, f, k), None, None, None, None


class LearnableMapping(nn.Module):
    """Learns which input each of the ``fan_in`` slots of ``out_features`` neurons reads: scores
    ``(out, F, K)`` over all inputs (``candidates=None``) or over ``K`` drawn candidates per slot
    (the initial wiring ``init`` and ``K - 1`` random others); :meth:`indices` is the frozen
    ``(out, F)`` selection (distinct within a neuron).  ``grad``: how the scores' gradient reads the
    inputs (``binary`` or ``signed``, :data:`lutnet.core.table_neuron.MAPPING_GRADS`)."""

    def __init__(self, in_features: int, out_features: int, fan_in: int, seed: int = 0, init=None, tau: float = 1.0,
                 candidates: int | None = None, grad: str = "binary"):
        super().__init__()
        self.tau = tn.check_mapping_tau("LearnableMapping", tau)
        self.signed = tn.check_mapping_grad("LearnableMapping", grad)
        cand = tn.draw_candidates(in_features, init, candidates, seed) if init is not None else None
        self.register_buffer("candidates", None if cand is None else torch.from_numpy(cand))
        self.scores = nn.Parameter(torch.from_numpy(tn.init_mapping_scores(out_features, fan_in, in_features, seed,
                                                                           init, cand)))

    def indices(self) -> torch.Tensor:
        cand = None if self.candidates is None else self.candidates.cpu().numpy()
        return torch.from_numpy(tn.distinct_argmax(self.scores.detach().cpu().numpy(), cand))

    def forward(self, x, idx):
        return _Select.apply(x, self.scores, idx.to(x.device), self.candidates, self.tau, self.signed)


# ---------------------------------------------------------------------- table layer
class _TableFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, xsel, w, m, hi, lo):
        # xsel: (B, O, F) one-bit inputs of each neuron; w: (O, R) table parameters
        b, o, f = xsel.shape
        bits = xsel.detach().round().to(torch.int64)
        addr = (bits << torch.arange(f, dtype=torch.int64)).sum(-1)  # input 0 in the low bit
        rows = torch.arange(o)[None, :]
        ctx.save_for_backward(addr, w, m, hi, lo)
        return (w.detach()[rows, addr] > 0).to(xsel.dtype)

    @staticmethod
    def backward(ctx, gy):
        addr, w, m, hi, lo = ctx.saved_tensors
        o, r = w.shape
        f = m.shape[0]
        flat = (torch.arange(o)[None, :] * r + addr).reshape(-1)
        grad_w = torch.zeros(o * r, dtype=gy.dtype).index_add_(0, flat, gy.reshape(-1)).view(o, r)
        wc = w.detach().clamp(-1, 1)
        d = wc[:, hi] - wc[:, lo]  # (O, F, R)
        g = torch.einsum("ofk,fak->ofa", d, m).reshape(-1)  # EFD derivative for every address
        base = (torch.arange(o)[:, None] * f + torch.arange(f)[None, :]) * r  # (O, F)
        per = g[base[None, :, :] + addr[:, :, None]] * gy[:, :, None]  # (B, O, F)
        return per, grad_w, None, None, None


class TableLayer(nn.Module):
    """``out_features`` weightless table neurons of ``fan_in`` one-bit inputs (DWN).  ``mapping``:
    ``"random"``, ``"balanced"``, ``"learnable"`` (drawn random wiring as the start, then learned over
    all inputs, or over ``mapping_candidates`` per input slot) or an explicit ``(out, fan_in)`` index
    array.  The output is one bit per neuron.  ``clamp=True``: the table parameters are clipped to
    ``[-1, 1]`` before every training step (DWN's ``clamp_luts``); ``mapping_grad``: ``binary`` or
    ``signed`` (DWN's), how a learnable mapping's scores read the input bits; ``alpha``, ``beta``: the
    EFD constants of the input gradient (:func:`lutnet.core.table_neuron.efd_matrices`; None: DWN's)."""

    def __init__(self, in_features: int, out_features: int, fan_in: int = 6, mapping="random", seed: int = 0,
                 name: str | None = None, max_address_bits: int = tn.MAX_ADDRESS_BITS, alpha: float | None = None,
                 beta: float | None = None, mapping_tau: float = 1.0, mapping_candidates: int | None = None,
                 clamp: bool = False, mapping_grad: str = "binary"):
        super().__init__()
        self.name = name or f"TableLayer({in_features}->{out_features})"
        where = f"TableLayer {self.name!r}"
        tn.check_table_shape(where, fan_in, 1, max_address_bits)
        self.in_features, self.out_features, self.fan_in = int(in_features), int(out_features), int(fan_in)
        learn = isinstance(mapping, str) and mapping == "learnable"
        self.mapping_kind = "learnable" if learn else (mapping if isinstance(mapping, str) else "explicit")
        conn = _conn.resolve_connectivity(where, "random" if learn else mapping, in_features, out_features, fan_in, seed)
        self.register_buffer("connectivity", torch.from_numpy(conn))
        tn.check_mapping_grad(where, mapping_grad)
        tn.check_mapping_tau(where, mapping_tau)
        beta = tn.check_efd_beta(where, beta)
        self.clamp, self.mapping_grad = bool(clamp), mapping_grad
        self.mapping = LearnableMapping(in_features, out_features, fan_in, seed, conn, mapping_tau,
                                        mapping_candidates, mapping_grad) if learn else None
        if self.mapping is not None:
            self.connectivity.copy_(self.mapping.indices())
        g = torch.Generator().manual_seed(int(seed))
        self.table = nn.Parameter(torch.rand(out_features, 1 << fan_in, generator=g) * 2 - 1)
        m, hi, lo = tn.efd_matrices(fan_in, alpha, beta)
        self.register_buffer("efd_m", torch.from_numpy(m), persistent=False)
        self.register_buffer("efd_hi", torch.from_numpy(hi), persistent=False)
        self.register_buffer("efd_lo", torch.from_numpy(lo), persistent=False)

    def train(self, mode: bool = True):
        if not mode:
            self.freeze()
        return super().train(mode)

    @torch.no_grad()
    def freeze(self):
        """Write the learned mapping's current selection into ``connectivity`` (what eval and the IR use)."""
        if self.mapping is not None:
            self.connectivity.copy_(self.mapping.indices())

    def forward(self, x):
        if self.training and self.clamp:
            with torch.no_grad():
                self.table.clamp_(-1, 1)
        if self.training and self.mapping is not None:
            idx = self.mapping.indices()
            self.connectivity.copy_(idx)
            xsel = self.mapping(x, idx)
        else:
            xsel = x[:, self.connectivity]
        return _TableFn.apply(xsel, self.table, self.efd_m, self.efd_hi, self.efd_lo)

    def table_bits(self) -> np.ndarray:
        """The IR tables (out, 2**F) of one-bit codes."""
        return tn.table_bits(self.table.detach().cpu().numpy())

    def to_ir(self) -> LayerIR:
        self.freeze()
        return LayerIR.from_dense(self.name, self.connectivity.cpu().numpy(), 1, False, 1, False, self.table_bits(),
                                  kind="table", attrs={"fan_in": self.fan_in, "mapping": self.mapping_kind})

    def extra_repr(self):
        return (f"name={self.name!r}, in_features={self.in_features}, out_features={self.out_features}, "
                f"fan_in={self.fan_in}, mapping={self.mapping_kind!r}" + (", clamp=True" if self.clamp else "")
                + (f", mapping_grad={self.mapping_grad!r}" if self.mapping_grad != "binary" else ""))


# ---------------------------------------------------------------------- head
class GroupSumHead(nn.Module):
    """Popcount / GroupSum: class ``c``'s score is the integer sum of the outputs in its group;
    training uses ``scores / tau`` as logits.  ``tiebreak: N``: the last N outputs of each class
    count 1 and the others 2 (logits ``scores / (2 tau)``, so a full output still moves a logit by
    ``1 / tau``)."""

    def __init__(self, n_outputs: int, n_classes: int, tau: float = 1.0, groups=None, name: str = "head",
                 tiebreak: int = 0):
        super().__init__()
        where = f"GroupSumHead {name!r}"
        if not tau > 0:
            raise LayerConfigError(f"{where}: tau must be > 0, got {tau}")
        g = tn.default_groups(n_outputs, n_classes, where) if groups is None else tn.check_groups(where, groups, n_outputs)
        self.n_classes, self.tau, self.tiebreak = int(g.max()) + 1, float(tau), int(tiebreak)
        w = tn.tiebreak_weights(g, tiebreak, where)
        self.weights = w
        self.logit_scale = self.tau * (1 if w is None else int(w.max()))
        self.register_buffer("groups", torch.from_numpy(g))
        onehot = torch.nn.functional.one_hot(self.groups, self.n_classes).float()
        if w is not None:
            onehot = onehot * torch.from_numpy(w.astype(np.float32))[:, None]
        self.register_buffer("onehot", onehot, persistent=False)

    def scores(self, bits):
        return bits @ self.onehot  # exact: integers < 2**24 in float32

    def forward(self, bits):
        return self.scores(bits) / self.logit_scale

    def to_ir(self) -> GroupSum:
        return GroupSum(self.groups.cpu().numpy(), weights=self.weights)


# ---------------------------------------------------------------------- network
class DWNNet(nn.Module):
    """Thermometer encoder -> table layers -> GroupSum head (-> argmax in hardware)."""

    def __init__(self, encoder: Thermometer, layers, n_classes: int = 10, tau: float = 1.0, groups=None,
                 argmax: bool = True, tiebreak: int = 0):
        super().__init__()
        self.encoder = encoder
        self.layers = nn.ModuleList(layers)
        if not len(self.layers):
            raise LayerConfigError("DWNNet: needs at least one TableLayer")
        src = encoder.out_features
        for i, layer in enumerate(self.layers):
            if layer.in_features != src:
                raise LayerConfigError(f"DWNNet: layer {i} ({layer.name!r}) has in_features={layer.in_features}, but "
                                       f"its source has {src} outputs")
            src = layer.out_features
        self.head = GroupSumHead(src, n_classes, tau, groups, tiebreak=tiebreak)
        self.argmax = bool(argmax)

    @property
    def in_features(self) -> int:
        return self.encoder.in_features

    def forward_bits(self, x):
        h = self.encoder(x)
        for layer in self.layers:
            h = layer(h)
        return h

    def forward(self, x):
        """Logits ``scores / tau`` (the first argmax is the class, in training and inference)."""
        return self.head(self.forward_bits(x))

    @torch.no_grad()
    def output_codes(self, x, batch_size: int = 8192) -> torch.Tensor:
        """Network outputs in inference: (N, 1) int64 class indices with ``argmax``, else (N, C) integer
        scores (as :meth:`lutnet.nn.LUTNet.output_codes`, a tensor)."""
        was = self.training
        self.eval()
        try:
            x = np.asarray(x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x, np.float32)
            outs = []
            for i in range(0, len(x), batch_size):
                s = self.head.scores(self.forward_bits(x[i:i + batch_size])).round().to(torch.int64).numpy()
                outs.append(np.argmax(s, 1)[:, None] if self.argmax else s)
        finally:
            self.train(was)
        return torch.from_numpy(np.concatenate(outs) if outs else
                                np.zeros((0, 1 if self.argmax else self.head.n_classes), np.int64))

    def input_codes(self, x) -> torch.Tensor:
        return torch.from_numpy(self.encoder.codes(x))

    @torch.no_grad()
    def layer_codes(self, x) -> list:
        """Every stage's (N, k) int64 codes in inference, in the order ``NetworkIR.evaluate(...,
        return_all=True)`` lists them: each table layer's bits, the head's integer scores, and the
        argmax index (N, 1) when the model ends in one (the harness's ``model`` level)."""
        was = self.training
        self.eval()
        try:
            h = self.encoder(torch.as_tensor(np.asarray(x, np.float32)))
            out = []
            for layer in self.layers:
                h = layer(h)
                out.append(h.round().to(torch.int64).numpy())
            scores = self.head.scores(h).round().to(torch.int64).numpy()
            out.append(scores)
            if self.argmax:
                out.append(np.argmax(scores, 1)[:, None])
        finally:
            self.train(was)
        return out

    def to_ir(self, metadata: dict | None = None) -> NetworkIR:
        """Encoder, table layers, GroupSum head and argmax as one :class:`~lutnet.ir.NetworkIR`."""
        was = self.training
        self.eval()
        try:
            layers = [layer.to_ir() for layer in self.layers]
            head = self.head.to_ir()
            b, sg = head.score_encoding(layers[-1].out_bits, layers[-1].out_signed)
            out_q = QuantSpec(b, sg, np.float32(1.0 / self.head.logit_scale), np.float32(0))
            return NetworkIR(self.encoder.quant, self.in_features, layers, out_q, dict(metadata or {}),
                             encoder=self.encoder.to_ir(), head=head, argmax=self.argmax).validate()
        finally:
            self.train(was)


# ---------------------------------------------------------------------- training
def fit_dwn(model: DWNNet, X_train, y_train, epochs: int = 10, batch_size: int = 128, lr: float = 1e-2,
            val_fraction: float = 0.1, seed: int = 0, log=print, mapping_lr: float | None = None, augment=None,
            loss_fn=None):
    """The trainer of every PyTorch LUT model (:func:`lutnet.train.fit`: Adam + cosine schedule, the
    best validation epoch on the inference path restored) after fitting the thermometer on the
    training split minus the validation split; ``mapping_lr``: another learning rate for the learnable
    mappings' scores; ``augment``, ``loss_fn``: see :func:`lutnet.train.fit`.  Returns a ``TrainResult`` (its history
    has per-epoch seconds)."""
    from ..config import TrainConfig
    from ..core.training import split
    from ..train import fit
    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, val_fraction=val_fraction, seed=seed)
    X_tr, _, _, _ = split(X_train, y_train, cfg)
    if model.encoder.fit_kind == "quantile" or not model.encoder.fitted:
        model.encoder.fit(X_tr)
    groups = None
    if mapping_lr is not None:
        named = list(model.named_parameters())
        groups = [{"params": [p for n, p in named if not n.endswith("mapping.scores")], "lr": lr},
                  {"params": [p for n, p in named if n.endswith("mapping.scores")], "lr": mapping_lr}]

    def on_epoch(rec):
        if log:
            log(f"epoch {rec['epoch'] + 1}/{epochs}: loss {rec['loss']:.3f}, val {rec['val_acc']:.3f}, "
                f"train acc {rec['train_acc']:.4f}, {rec['seconds']:.1f} s")
    return fit(model, X_train, y_train, cfg, progress=False, on_epoch=on_epoch, param_groups=groups, augment=augment,
               loss_fn=loss_fn)


def _accuracy(model: DWNNet, X, y) -> float:
    if not len(X):
        return float("nan")
    out = np.asarray(model.output_codes(X))
    pred = out[:, 0] if model.argmax else np.argmax(out, 1)
    return float((pred == np.asarray(y)).mean())


def accuracy(model: DWNNet, X, y) -> float:
    """Test/validation accuracy on the inference path (the first argmax of the integer scores)."""
    return _accuracy(model, X, y)


# ---------------------------------------------------------------------- config
def build_dwn(cfg, in_features: int, X_train=None) -> DWNNet:
    """The DWN-style model a :class:`lutnet.config.ModelConfig` with ``encoder`` and ``head``
    describes: thermometer on ``input_bits`` codes over ``[0, input_range]`` (signed: ``[-r, r]``),
    fitted on ``X_train`` (the training split), table layers (``fan_in``, seeds and drawn wiring from
    the config's plan rules, ``mapping``), GroupSum head (``classes``, ``tau``, ``argmax``)."""
    spec = tn.dwn_spec(cfg)
    enc = Thermometer(in_features, **spec["encoder"])
    if X_train is not None and enc.fit_kind == "quantile":
        enc.fit(np.asarray(X_train, np.float32))
    layers, src = [], enc.out_features
    for ls in spec["layers"]:
        layers.append(TableLayer(src, **ls))
        src = ls["out_features"]
    return DWNNet(enc, layers, **spec["head"])
