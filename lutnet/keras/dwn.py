"""DWN-style weightless networks in Keras/QKeras: the counterpart of :mod:`lutnet.nn.dwn`.

Thin layers over :mod:`lutnet.core.table_neuron` (the address rule, the EFD rule's constant
matrices, threshold fitting, the mapping selection and the IR read-out are the core's).  Inference
(``training=False``) runs the core's numpy read-out (``tf.numpy_function`` in a compiled step),
training the same integer address arithmetic in TensorFlow with ``tf.custom_gradient`` for the EFD
and learnable-mapping gradients (:mod:`lutnet.keras.mapping`).  Training is the Keras trainer
(:func:`lutnet.keras.train.fit`, as for every Keras LUT model; :func:`fit_dwn` fits the thermometer first).

>>> enc = Thermometer(64, bits_per_feature=3, input_bits=8, scale=1 / 255)
>>> model = DWNModel(enc, [TableLayer(300, fan_in=6, mapping="learnable", mapping_candidates=16)],
...                  n_classes=10, tau=1 / 0.3)
>>> fit_dwn(model, X_train, y_train, epochs=5)
>>> ir = model.to_ir()
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..core import connectivity as _conn
from ..core import table_neuron as tn
from ..errors import LayerConfigError, LutnetError
from ..ir import GroupSum, LayerIR, NetworkIR, QuantSpec
from .mapping import LearnableMapping

__all__ = ["DWNModel", "GroupSumHead", "TableLayer", "Thermometer", "accuracy", "fit_dwn"]


class Thermometer(tn.ThermometerBase, tf.keras.layers.Layer):
    """Fixed-point input quantizer + (distributive) thermometer on its integer codes (see
    :class:`lutnet.nn.dwn.Thermometer`; the shared part is :class:`lutnet.core.table_neuron.ThermometerBase`)."""

    def __init__(self, in_features: int, bits_per_feature: int = 3, fit: str = "quantile", input_bits: int = 8,
                 signed: bool = False, scale: float = 1 / 255, zero_point: float = 0.0, thresholds=None,
                 threshold_bits: int | None = None, **kwargs):
        kwargs.setdefault("name", "encoder")
        super().__init__(**kwargs)
        self._init_encoder(f"Thermometer {self.name!r}", in_features, bits_per_feature, fit, input_bits, signed,
                           scale, zero_point, threshold_bits)
        self.thresholds = np.zeros((self.in_features, self.bits_per_feature), np.int64)
        self.fitted = False
        self._init_thresholds(thresholds)

    def _store_thresholds(self, t):
        self.thresholds, self.fitted = t, True

    def _thresholds(self) -> np.ndarray:
        return self.thresholds

    def call(self, x, training=None):
        if tf.executing_eagerly() or not tf.is_tensor(x):
            return tf.constant(self.encode(np.asarray(x.numpy() if hasattr(x, "numpy") else x, np.float32)))
        out = tf.numpy_function(self.encode, [x], tf.float32, stateful=False)  # in a compiled train step
        out.set_shape((None, self.out_features))
        return out


class TableLayer(tf.keras.layers.Layer):
    """``units`` weightless table neurons of ``fan_in`` one-bit inputs (see :class:`lutnet.nn.dwn.TableLayer`)."""

    def __init__(self, units: int, fan_in: int = 6, mapping="random", seed: int = 0,
                 max_address_bits: int = tn.MAX_ADDRESS_BITS, alpha=None, beta=None, mapping_tau: float = 1.0,
                 mapping_candidates: int | None = None, clamp: bool = False, mapping_grad: str = "binary", **kwargs):
        super().__init__(**kwargs)
        self.where = f"TableLayer {self.name!r}"
        tn.check_table_shape(self.where, fan_in, 1, max_address_bits)
        tn.check_mapping_grad(self.where, mapping_grad)
        tn.check_mapping_tau(self.where, mapping_tau)
        beta = tn.check_efd_beta(self.where, beta)
        self.clamp, self.mapping_grad = bool(clamp), mapping_grad
        self.units, self.fan_in, self.seed = int(units), int(fan_in), int(seed)
        self.learn = isinstance(mapping, str) and mapping == "learnable"
        self.mapping_kind = "learnable" if self.learn else (mapping if isinstance(mapping, str) else "explicit")
        self._mapping_arg = mapping
        self.mapping_tau, self.mapping_candidates = float(mapping_tau), mapping_candidates
        m, hi, lo = tn.efd_matrices(self.fan_in, alpha, beta)
        self.efd_m, self.efd_hi, self.efd_lo = tf.constant(m), tf.constant(hi), tf.constant(lo)

    def build(self, input_shape):
        self.in_features = int(input_shape[-1])
        arg = "random" if self.learn else self._mapping_arg
        conn = _conn.resolve_connectivity(self.where, arg, self.in_features, self.units, self.fan_in, self.seed)
        self.mapping = None
        if self.learn:
            self.mapping = LearnableMapping(self, self.in_features, conn, self.seed, self.mapping_candidates,
                                            self.mapping_tau, self.mapping_grad)
            conn = self.mapping.indices()
        self.connectivity = self.add_weight("connectivity", (self.units, self.fan_in), tf.int32,
                                            tf.constant_initializer(conn), trainable=False)
        w0 = np.random.default_rng(self.seed).random((self.units, 1 << self.fan_in)).astype(np.float32) * 2 - 1
        self.table = self.add_weight("table", w0.shape, tf.float32, tf.constant_initializer(w0))
        super().build(input_shape)

    @property
    def scores(self):
        return self.mapping.scores

    @property
    def candidates(self):
        return None if self.mapping is None else self.mapping.candidates

    def indices(self) -> np.ndarray:
        return self.mapping.indices()

    def freeze(self):
        if self.learn:
            self.connectivity.assign(self.indices().astype(np.int32))

    def table_bits(self) -> np.ndarray:
        return tn.table_bits(self.table.numpy())

    # ------------------------------------------------------------ training path
    def _table_train(self, xsel):
        m, hi, lo = self.efd_m, self.efd_hi, self.efd_lo
        o, r = self.units, 1 << self.fan_in
        f = self.fan_in

        @tf.custom_gradient
        def table_fn(xsel, w):
            bits = tf.cast(tf.round(xsel), tf.int32)
            addr = tf.reduce_sum(bits * (2 ** tf.range(f, dtype=tf.int32)), -1)  # (B, O): input 0 in the low bit
            flat = tf.range(o, dtype=tf.int32)[None, :] * r + addr
            y = tf.cast(tf.gather(tf.reshape(w, (-1,)), flat) > 0, tf.float32)

            def grad(gy):
                gw = tf.math.unsorted_segment_sum(tf.reshape(gy, (-1,)), tf.reshape(flat, (-1,)), o * r)
                wc = tf.clip_by_value(w, -1.0, 1.0)
                d = tf.gather(wc, hi, axis=1) - tf.gather(wc, lo, axis=1)  # (O, F, R)
                g = tf.reshape(tf.einsum("ofk,fak->ofa", d, m), (-1,))
                base = (tf.range(o)[:, None] * f + tf.range(f)[None, :]) * r
                per = tf.gather(g, base[None] + addr[:, :, None]) * gy[:, :, None]
                return per, tf.reshape(gw, (o, r))
            return y, grad
        return table_fn(xsel, self.table)

    def call(self, x, training=None):
        eager = tf.executing_eagerly()
        if eager:  # in a compiled train step lutnet.keras.train.fit freezes the learned wiring per batch
            self.freeze()
        if training:
            if self.clamp:  # DWN's clamp_luts, before the step's forward (as lutnet.nn.dwn.TableLayer)
                self.table.assign(tf.clip_by_value(self.table, -1.0, 1.0))
            conn = tf.convert_to_tensor(self.connectivity)
            xsel = self.mapping.select(x, conn) if self.learn else tf.gather(x, conn, axis=1)
            return self._table_train(xsel)
        if not eager:
            out = tf.numpy_function(self._read_out, [x, self.connectivity, self.table], tf.float32, stateful=False)
            out.set_shape((None, self.units))
            return out
        return tf.constant(self._read_out(x.numpy() if hasattr(x, "numpy") else x, self.connectivity.numpy(),
                                          self.table.numpy()))

    @staticmethod
    def _read_out(bits, conn, table) -> np.ndarray:
        """The core's exact read-out (numpy) of one-bit inputs through the tables ``w > 0``."""
        return tn.read_out(np.round(np.asarray(bits)).astype(np.int64), np.asarray(conn), tn.table_bits(table)) \
            .astype(np.float32)

    def to_ir(self) -> LayerIR:
        self.freeze()
        return LayerIR.from_dense(self.name, self.connectivity.numpy().astype(np.int64), 1, False, 1, False,
                                  self.table_bits(), kind="table", attrs={"fan_in": self.fan_in,
                                                                          "mapping": self.mapping_kind})


class GroupSumHead(tf.keras.layers.Layer):
    """Popcount / GroupSum head; ``call`` returns ``scores / tau`` (logits); ``tiebreak`` as in
    :class:`lutnet.nn.dwn.GroupSumHead` (weights 1 and 2, logits ``scores / (2 tau)``)."""

    def __init__(self, n_outputs: int, n_classes: int, tau: float = 1.0, groups=None, tiebreak: int = 0, **kwargs):
        kwargs.setdefault("name", "head")
        super().__init__(**kwargs)
        where = f"GroupSumHead {self.name!r}"
        if not tau > 0:
            raise LayerConfigError(f"{where}: tau must be > 0, got {tau}")
        g = tn.default_groups(n_outputs, n_classes, where) if groups is None else tn.check_groups(where, groups, n_outputs)
        self.groups, self.n_classes, self.tau, self.tiebreak = g, int(g.max()) + 1, float(tau), int(tiebreak)
        self.weights_ = tn.tiebreak_weights(g, tiebreak, where)
        self.logit_scale = self.tau * (1 if self.weights_ is None else int(self.weights_.max()))
        onehot = np.eye(self.n_classes, dtype=np.float32)[g]
        if self.weights_ is not None:
            onehot = onehot * self.weights_.astype(np.float32)[:, None]
        self.onehot = tf.constant(onehot)

    def scores(self, bits):
        return tf.matmul(bits, self.onehot)

    def call(self, bits, training=None):
        return self.scores(bits) / self.logit_scale

    def to_ir(self) -> GroupSum:
        return GroupSum(self.groups, weights=self.weights_)


class DWNModel(tf.keras.Model):
    """Thermometer -> table layers -> GroupSum head (-> argmax in hardware); ``call`` gives logits."""
    _lutnet_dwn = True

    def __init__(self, encoder: Thermometer, layers, n_classes: int = 10, tau: float = 1.0, groups=None,
                 argmax: bool = True, tiebreak: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.tables = encoder, list(layers)
        if not self.tables:
            raise LayerConfigError("DWNModel: needs at least one TableLayer")
        for i, layer in enumerate(self.tables):
            layer.build((None, encoder.out_features if i == 0 else self.tables[i - 1].units))
        self.head = GroupSumHead(self.tables[-1].units, n_classes, tau, groups, tiebreak=tiebreak)
        self.argmax = bool(argmax)

    @property
    def in_features(self) -> int:
        return self.encoder.in_features

    def bits(self, x, training=False):
        h = self.encoder(x)
        for layer in self.tables:
            h = layer(h, training=training)
        return h

    def call(self, x, training=None):
        return self.head(self.bits(x, training=bool(training)))

    def output_codes(self, x, batch_size: int = 8192) -> np.ndarray:
        x = np.asarray(x, np.float32)
        outs = []
        for i in range(0, len(x), batch_size):
            s = np.round(self.head.scores(self.bits(x[i:i + batch_size])).numpy()).astype(np.int64)
            outs.append(np.argmax(s, 1)[:, None] if self.argmax else s)
        return np.concatenate(outs) if outs else np.zeros((0, 1 if self.argmax else self.head.n_classes), np.int64)

    def input_codes(self, x) -> np.ndarray:
        return self.encoder.codes(x)

    def layer_codes(self, x) -> list:
        """Every stage's (N, k) int64 codes in inference, in the order ``NetworkIR.evaluate(...,
        return_all=True)`` lists them: each table layer's bits, the head's integer scores, and the
        argmax index (N, 1) when the model ends in one (the harness's ``model`` level)."""
        h = self.encoder(np.asarray(x, np.float32))
        out = []
        for layer in self.tables:
            h = layer(h, training=False)
            out.append(np.round(h.numpy()).astype(np.int64))
        scores = np.round(self.head.scores(h).numpy()).astype(np.int64)
        out.append(scores)
        if self.argmax:
            out.append(np.argmax(scores, 1)[:, None])
        return out

    # ------------------------------------------------------------ checkpoint state
    def state(self) -> dict:
        """The trained state as named numpy arrays: the encoder's thresholds, and per table layer its
        table parameters, its frozen ``connectivity`` and (learnable mapping) its scores."""
        st = {"encoder.thresholds": np.asarray(self.encoder.thresholds, np.int64)}
        for layer in self.tables:
            layer.freeze()
            st[f"{layer.name}.table"] = layer.table.numpy()
            st[f"{layer.name}.connectivity"] = layer.connectivity.numpy()
            if layer.learn:
                st[f"{layer.name}.mapping_scores"] = layer.scores.numpy()
        return st

    def load_state(self, state, where: str = "DWNModel") -> DWNModel:
        """Set the state :meth:`state` wrote (every key and shape must match this model)."""
        want = {k: v.shape for k, v in self.state().items()}
        got = {k: np.shape(state[k]) for k in state}
        if got != want:
            diff = sorted(set(want) ^ set(got)) or sorted(k for k in want if want[k] != got[k])
            raise LutnetError(f"{where}: the saved state does not fit the model its config describes (differs at "
                              f"{', '.join(diff)}; a checkpoint of another model?)")
        self.encoder.set_thresholds(state["encoder.thresholds"])
        for layer in self.tables:
            layer.table.assign(state[f"{layer.name}.table"])
            if layer.learn:
                layer.scores.assign(state[f"{layer.name}.mapping_scores"])
            layer.connectivity.assign(np.asarray(state[f"{layer.name}.connectivity"], np.int32))
        return self

    def to_ir(self, metadata: dict | None = None) -> NetworkIR:
        layers = [layer.to_ir() for layer in self.tables]
        head = self.head.to_ir()
        b, sg = head.score_encoding(layers[-1].out_bits, layers[-1].out_signed)
        out_q = QuantSpec(b, sg, np.float32(1.0 / self.head.logit_scale), np.float32(0))
        return NetworkIR(self.encoder.quant, self.in_features, layers, out_q, dict(metadata or {}),
                         encoder=self.encoder.to_ir(), head=head, argmax=self.argmax).validate()


def accuracy(model: DWNModel, X, y) -> float:
    if not len(X):
        return float("nan")
    out = model.output_codes(X)
    pred = out[:, 0] if model.argmax else np.argmax(out, 1)
    return float((pred == np.asarray(y)).mean())


def fit_dwn(model: DWNModel, X_train, y_train, epochs: int = 10, batch_size: int = 128, lr: float = 1e-2,
            val_fraction: float = 0.1, seed: int = 0, log=print):
    """The Keras trainer (:func:`lutnet.keras.train.fit`: Adam + cosine schedule, the best validation
    epoch on the inference path restored, learned wiring frozen) after fitting the thermometer on the
    training split minus the validation split.  Returns a ``TrainResult``."""
    from ..config import TrainConfig
    from ..core.training import split
    from .train import fit
    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, val_fraction=val_fraction, seed=seed)
    X_tr, _, _, _ = split(X_train, y_train, cfg)
    if model.encoder.fit_kind == "quantile" or not model.encoder.fitted:
        model.encoder.fit(X_tr)
    return fit(model, X_train, y_train, cfg, progress=log is not None, log=log or print)


# ---------------------------------------------------------------------- config
def build_dwn(cfg, in_features: int, X_train=None) -> DWNModel:
    """The DWN-style Keras model a :class:`lutnet.config.ModelConfig` with ``encoder`` and ``head``
    describes, by the rules of :func:`lutnet.nn.dwn.build_dwn` (the same encoder quantizer, fan-ins,
    seeds, drawn wiring and mapping); the thermometer is fitted on ``X_train`` (the training split)."""
    spec = tn.dwn_spec(cfg)
    enc = Thermometer(in_features, **spec["encoder"])
    if X_train is not None and enc.fit_kind == "quantile":
        enc.fit(np.asarray(X_train, np.float32))
    layers = [TableLayer(ls.pop("out_features"), **ls) for ls in spec["layers"]]
    return DWNModel(enc, layers, **spec["head"], name="dwn")
