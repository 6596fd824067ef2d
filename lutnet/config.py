"""Model, data and training configuration: dataclasses loaded from ``models/*.yaml``.

Loading is strict: an unknown key, a missing required key or a value of the wrong type is a
:class:`~lutnet.errors.ConfigError` naming the file and the key.
"""
# ruff: noqa: UP045  (typing.Optional kept: lutnet.sweep.spec reads the fields' typing.Union)
from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from .errors import ConfigError


@dataclass
class NeuronConfig:
    """Neuron kind: ``linear`` (LogicNets), ``poly`` (PolyLUT, ``degree``), ``subnet`` (NeuraLUT,
    ``width``/``depth``/``skip``)."""
    kind: str = "linear"
    degree: int = 2
    width: int = 16
    depth: int = 2
    skip: int = 0


@dataclass
class LayerConfig:
    """One LUT layer; unset fields take the model-wide defaults."""
    out_features: int
    fan_in: typing.Optional[int] = None
    bits: typing.Optional[int] = None
    neuron: typing.Optional[NeuronConfig] = None
    connectivity: typing.Optional[str] = None
    # trees of small tables (lutnet.core.assemble): PolyLUT-Add ``add: A`` sub-neurons of fan_in
    # inputs each, summed and re-quantized (sub-neuron outputs: signed ``add_bits``, default bits + 1);
    # NeuraLUT-Assemble ``assemble: [A_1, ...]`` tree arities from the leaves up (hidden codes:
    # unsigned ``assemble_bits``, default hidden_bits)
    add: typing.Optional[int] = None
    add_bits: typing.Optional[int] = None
    assemble: typing.Optional[list] = None
    assemble_bits: typing.Optional[int] = None
    mapping: typing.Optional[str] = None  # "learnable": learned wiring (else the model's mapping)


@dataclass
class EncoderConfig:
    """Input encoder in hardware: ``thermometer`` with ``bits_per_feature`` thresholds per feature on
    the fixed-point input codes (``model.input_bits`` bits over ``model.input_range``), fitted on the
    training split: ``quantile`` (distributive thermometer) or ``uniform``.  Layers then read bits."""
    kind: str = "thermometer"
    bits_per_feature: int = 3
    fit: str = "quantile"


@dataclass
class HeadConfig:
    """Class scores in hardware: ``groupsum`` (popcount) sums the last layer's outputs per class
    (``classes`` equal contiguous groups); training uses ``scores / tau``; ``argmax`` adds the
    first-index argmax stage.  ``tiebreak: N``: the last N outputs of each class count half as much
    as the others (weights 1 and 2 in hardware, a shift), so a class score has about twice as many
    levels and fewer classes tie at the maximum."""
    kind: str = "groupsum"
    classes: int = 10
    tau: float = 1.0
    argmax: bool = True
    tiebreak: int = 0


@dataclass
class LearnConnectivityConfig:
    """Learned connectivity (:mod:`lutnet.pruning.learn`): train every layer with ``start_fan_in``
    inputs per neuron (none: dense, all its inputs), then keep at most the layer's ``fan_in`` of them
    under ``budget_luts`` (LUTCost of the whole network; none: every neuron at its fan-in).
    ``knapsack``: ``steps`` knapsack pruning steps (importance ``metric``), ``finetune_epochs`` after
    each; ``group_lasso``: the pre-training adds ``lasso`` x the per-input group norms to the loss,
    then one step keeps the top inputs by norm.  ``pretrain_epochs`` (none: ``train.epochs``)."""
    kind: str = "knapsack"
    start_fan_in: typing.Optional[int] = None
    steps: int = 3
    budget_luts: typing.Optional[float] = None
    pretrain_epochs: typing.Optional[int] = None
    finetune_epochs: int = 2
    metric: str = "l2"
    lasso: float = 0.1  # best digits validation accuracy (1e-4: .69, 1e-3: .84, 1e-2: .89, 3e-2: .89, 0.1: .91, 0.3: .85)


CONNECTIVITY_KINDS = ("random", "balanced")  # lutnet.nn.layer.CONNECTIVITY's keys (torch-free here)
NEURON_KINDS = ("linear", "poly", "subnet", "add", "table")  # lutnet.nn.NEURON_KINDS' keys (torch-free here)
DEFAULT_MAX_ROWS = 1 << 20  # lutnet.export.DEFAULT_MAX_ROWS: the largest table of one neuron (rows)


@dataclass
class ModelConfig:
    """A LUT network.  ``layers`` lists widths (ints) or LayerConfig dicts; the last is the number of
    classes.  Layer outputs use ``hidden_bits`` (unsigned, a quantized ReLU), the last layer
    ``output_bits`` (signed class scores).  ``input_fan_in`` overrides ``fan_in`` for layer 0.

    ``connectivity`` (per model, or per layer) is how neurons pick their inputs: ``random`` (each
    neuron independently, LogicNets) or ``balanced`` (every input read equally often; a tree where
    ``out_features * fan_in <= in_features``).  ``input_min_active`` > 0 restricts layer 0 to the
    inputs whose quantized code differs from its most common value in at least that fraction of the
    training samples (e.g. MNIST's border pixels are never read); it needs the training inputs when
    the model is built (``build_model(cfg, n, X_train)``)."""
    layers: list
    fan_in: int = 4
    input_fan_in: typing.Optional[int] = None
    input_bits: int = 2
    input_signed: bool = False
    input_range: float = 1.0
    hidden_bits: int = 2
    output_bits: int = 2
    neuron: NeuronConfig = field(default_factory=NeuronConfig)
    batch_norm: bool = True
    seed: int = 0
    connectivity: str = "random"
    input_min_active: float = 0.0
    encoder: typing.Optional[EncoderConfig] = None  # DWN-style: thermometer, table layers, groupsum head
    head: typing.Optional[HeadConfig] = None
    mapping: typing.Optional[str] = None  # "learnable": every layer learns its wiring (lutnet.nn.dwn)
    mapping_candidates: typing.Optional[int] = None  # learnable mapping: candidate inputs per slot (None: all)
    mapping_grad: str = "binary"  # table models: "signed" reads bits as -1/+1 in the scores' gradient (DWN)
    clamp_tables: bool = False  # table models: clip table parameters to [-1, 1] each step (DWN's clamp_luts)
    mapping_tau: float = 1.0  # table models, learnable mapping: softmax temperature of the inputs' gradient
    efd_beta: typing.Optional[float] = None  # table models: EFD's weight beta**d at Hamming distance d (None: DWN's 1/3)
    learn_connectivity: typing.Optional[LearnConnectivityConfig] = None  # lutnet.pruning.learn

    def __post_init__(self):
        self.layers = [_layer(v, i, "<ModelConfig>") for i, v in enumerate(self.layers)]


@dataclass
class DataConfig:
    """Dataset name (``digits``, ``mnist``, ``jets``), optional local path and a sample limit."""
    name: str = "digits"
    path: typing.Optional[str] = None
    limit: typing.Optional[int] = None


@dataclass
class AugmentConfig:
    """Training-batch augmentation (:mod:`lutnet.core.augment`): random image shifts of up to
    ``shift`` pixels per axis, then random rotations of up to ``rotate`` degrees (bilinear), on
    flattened images of ``image_shape`` (``[H, W]`` or ``[H, W, C]``); the last ``plain_last`` epochs
    train on the original images (0: every epoch is augmented)."""
    shift: int = 0
    image_shape: typing.Optional[list] = None
    plain_last: int = 0
    rotate: float = 0.0


DISTILL_TEACHERS = ("cnn", "mlp")


@dataclass
class DistillConfig:
    """Knowledge distillation (:mod:`lutnet.distill`, PyTorch): a floating-point ``teacher`` is trained
    first on the same training split (minus the same validation split, with the same augmentation),
    for ``epochs`` at learning rate ``lr``; the LUT network then trains on ``(1 - alpha) * CE(labels) +
    alpha * temperature**2 * KL(teacher || student)``, both softened by ``temperature``.  Training only:
    the circuit is the student's.  ``teacher``: ``cnn`` (two 5x5 conv layers; images of
    ``image_shape``, default ``train.augment.image_shape``) or ``mlp`` (one hidden layer of 256)."""
    teacher: str = "cnn"
    epochs: int = 6
    lr: float = 0.001
    temperature: float = 2.0
    alpha: float = 0.5
    image_shape: typing.Optional[list] = None


@dataclass
class TrainConfig:
    """Training hyper-parameters; the validation split is carved from the training set.  ``augment``
    changes the training batches only (never the validation split or the test set)."""
    epochs: int = 10
    batch_size: int = 128
    lr: float = 0.01
    weight_decay: float = 0.0
    val_fraction: float = 0.1
    seed: int = 0
    augment: typing.Optional[AugmentConfig] = None
    distill: typing.Optional[DistillConfig] = None


@dataclass
class RunConfig:
    """A whole experiment: what to train on, the model, and how to train it."""
    name: str
    model: ModelConfig
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    description: str = ""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _type_name(t) -> str:
    return getattr(t, "__name__", str(t).replace("typing.", ""))


def _convert(value, tp, where: str, src: str):
    """Check/convert ``value`` against the annotation ``tp``."""
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:  # Optional[X] / X | None
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _convert(value, args[0], where, src)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{src}: {where} must be a mapping of {_type_name(tp)} fields, got {value!r}")
        return from_dict(tp, value, src, where)
    if tp is list or origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{src}: {where} must be a list, got {type(value).__name__} {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{src}: {where} must be true or false, got {type(value).__name__} {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{src}: {where} must be an integer, got {type(value).__name__} {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{src}: {where} must be a number, got {type(value).__name__} {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{src}: {where} must be a string, got {type(value).__name__} {value!r}")
        return value
    return value


def from_dict(cls, d: dict, src: str = "<config>", prefix: str = ""):
    """Build dataclass ``cls`` from a dict, strictly."""
    if not isinstance(d, dict):
        raise ConfigError(f"{src}: {prefix or 'the document'} must be a mapping, got {type(d).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - set(fields))
    if unknown:
        key = f"{prefix}.{unknown[0]}" if prefix else unknown[0]
        raise ConfigError(f"{src}: unknown key {key!r}; known keys{' of ' + prefix if prefix else ''}: "
                          f"{', '.join(fields)}")
    kwargs = {}
    for name, f in fields.items():
        where = f"{prefix}.{name}" if prefix else name
        if name not in d:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{src}: missing required key {where!r}")
            continue
        kwargs[name] = _convert(d[name], hints[name], where, src)
    if cls is ModelConfig and "layers" in kwargs:
        kwargs["layers"] = [_layer(v, i, src) for i, v in enumerate(kwargs["layers"])]
    obj = cls(**kwargs)
    if cls is ModelConfig:
        _check_model(obj, src)
    if cls is AugmentConfig:
        _check_augment(obj, src, where_prefix=prefix or "train.augment")
    if cls is TrainConfig and obj.distill is not None:
        _check_distill(obj, src, where_prefix=f"{prefix}.distill" if prefix else "train.distill")
    return obj


def _check_distill(t: TrainConfig, src: str, where_prefix: str = "train.distill"):
    d = t.distill
    if d.teacher not in DISTILL_TEACHERS:
        raise ConfigError(f"{src}: {where_prefix}.teacher must be one of {', '.join(DISTILL_TEACHERS)}, got "
                          f"{d.teacher!r}")
    if d.epochs < 1:
        raise ConfigError(f"{src}: {where_prefix}.epochs must be >= 1, got {d.epochs}")
    if not d.lr > 0 or not d.temperature > 0:
        name, v = ("lr", d.lr) if not d.lr > 0 else ("temperature", d.temperature)
        raise ConfigError(f"{src}: {where_prefix}.{name} must be > 0, got {v}")
    if not 0 <= d.alpha <= 1:
        raise ConfigError(f"{src}: {where_prefix}.alpha must lie in 0..1 (the distillation term's weight), "
                          f"got {d.alpha}")
    shape = d.image_shape or (t.augment.image_shape if t.augment is not None else None)
    if d.teacher == "cnn" and (shape is None or not 2 <= len(shape) <= 3
                               or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape)):
        raise ConfigError(f"{src}: {where_prefix}.teacher 'cnn' needs the images' [height, width] (or [height, width, "
                          f"channels]) in {where_prefix}.image_shape or train.augment.image_shape, got {shape!r}; "
                          f"MNIST: [28, 28]; or use teacher: mlp")


def _check_augment(a: AugmentConfig, src: str, where_prefix: str = "train.augment"):
    if a.shift < 0:
        raise ConfigError(f"{src}: {where_prefix}.shift must be >= 0 (pixels), got {a.shift}")
    if not 0 <= a.rotate < 180:  # a number: from_dict checks the type
        raise ConfigError(f"{src}: {where_prefix}.rotate must be an angle in degrees in [0, 180) (random turns of "
                          f"up to +-rotate), got {a.rotate!r}")
    shape = a.image_shape
    if (a.shift or a.rotate) and (shape is None or not 2 <= len(shape) <= 3
                    or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape)):
        raise ConfigError(f"{src}: {where_prefix}.image_shape must list the images' [height, width] (or [height, "
                          f"width, channels]) as positive integers, got {shape!r}; MNIST: [28, 28]")
    if a.shift and a.shift >= min(shape[:2]):
        raise ConfigError(f"{src}: {where_prefix}.shift={a.shift} must be smaller than the image ({shape[0]} x "
                          f"{shape[1]} pixels)")
    if isinstance(a.plain_last, bool) or not isinstance(a.plain_last, int) or a.plain_last < 0:
        raise ConfigError(f"{src}: {where_prefix}.plain_last must be a whole number of epochs >= 0 (the last epochs "
                          f"train on the original images), got {a.plain_last!r}")


def _layer(v, i, src) -> LayerConfig:
    where = f"model.layers[{i}]"
    if isinstance(v, bool) or not isinstance(v, (int, dict, LayerConfig)):
        raise ConfigError(f"{src}: {where} must be a width (integer) or a mapping, got {v!r}")
    if isinstance(v, LayerConfig):
        return v
    return LayerConfig(out_features=v) if isinstance(v, int) else from_dict(LayerConfig, v, src, where)


def _check_model(m: ModelConfig, src: str):
    if not m.layers:
        raise ConfigError(f"{src}: model.layers must list at least one layer")
    for name in ("fan_in", "input_bits", "hidden_bits", "output_bits"):
        if getattr(m, name) < 1:
            raise ConfigError(f"{src}: model.{name} must be >= 1, got {getattr(m, name)}")
    kinds = CONNECTIVITY_KINDS
    if m.connectivity not in kinds:
        raise ConfigError(f"{src}: model.connectivity must be one of {', '.join(kinds)}, got {m.connectivity!r}")
    if not 0.0 <= m.input_min_active < 1.0:
        raise ConfigError(f"{src}: model.input_min_active must be in [0, 1), got {m.input_min_active}")
    _check_dwn(m, src)
    _check_learn(m, src)
    for i, l in enumerate(m.layers):
        if l.out_features < 1:
            raise ConfigError(f"{src}: model.layers[{i}].out_features must be >= 1, got {l.out_features}")
        if l.connectivity is not None and l.connectivity not in kinds:
            raise ConfigError(f"{src}: model.layers[{i}].connectivity must be one of {', '.join(kinds)}, "
                              f"got {l.connectivity!r}")
        _layer_tree(m, i, src)


def _check_dwn(m: ModelConfig, src: str):
    """Encoder, head, mapping and table-neuron keys (lutnet.core.table_neuron's rules)."""
    from .core.table_neuron import FIT_KINDS, MAX_ADDRESS_BITS
    for i, lm in [(None, m.mapping)] + [(i, l.mapping) for i, l in enumerate(m.layers)]:
        if lm not in (None, "learnable", "fixed"):
            key = "model.mapping" if i is None else f"model.layers[{i}].mapping"
            raise ConfigError(f"{src}: {key} must be 'learnable' or 'fixed', got {lm!r}")
    if m.mapping_candidates is not None and m.mapping_candidates < max(l.fan_in or m.fan_in for l in m.layers):
        raise ConfigError(f"{src}: model.mapping_candidates={m.mapping_candidates} must be >= every layer's fan_in")
    from .core.table_neuron import MAPPING_GRADS
    if m.mapping_grad not in MAPPING_GRADS:
        raise ConfigError(f"{src}: model.mapping_grad must be one of {', '.join(MAPPING_GRADS)}, got {m.mapping_grad!r}")
    if not m.mapping_tau > 0:
        raise ConfigError(f"{src}: model.mapping_tau must be > 0, got {m.mapping_tau}")
    if m.efd_beta is not None and not 0 <= m.efd_beta <= 1:
        raise ConfigError(f"{src}: model.efd_beta must lie in [0, 1] (the weight beta**d of the table entries at "
                          f"Hamming distance d in a table's input gradient), got {m.efd_beta}")
    table_only = [key for key, used in (("model.mapping_grad", m.mapping_grad != "binary"),
                                        ("model.clamp_tables", m.clamp_tables),
                                        ("model.mapping_tau", m.mapping_tau != 1.0),
                                        ("model.efd_beta", m.efd_beta is not None)) if used]
    if table_only and m.encoder is None:
        raise ConfigError(f"{src}: {table_only[0]} applies to table-neuron models (model.encoder, neuron: {{kind: "
                          f"table}}), whose neurons read bits; remove it for LUT layers of {m.neuron.kind!r} neurons")
    if m.encoder is not None:
        e = m.encoder
        if e.kind != "thermometer":
            raise ConfigError(f"{src}: model.encoder.kind must be 'thermometer', got {e.kind!r}")
        if e.fit not in FIT_KINDS:
            raise ConfigError(f"{src}: model.encoder.fit must be one of {', '.join(FIT_KINDS)}, got {e.fit!r}")
        if not 1 <= e.bits_per_feature <= 2 ** m.input_bits - 1:
            raise ConfigError(f"{src}: model.encoder.bits_per_feature={e.bits_per_feature} must lie in 1.."
                              f"{2 ** m.input_bits - 1} (distinct thresholds on {m.input_bits}-bit input codes)")
    if m.head is not None:
        if m.head.kind != "groupsum":
            raise ConfigError(f"{src}: model.head.kind must be 'groupsum', got {m.head.kind!r}")
        if not m.head.tau > 0:
            raise ConfigError(f"{src}: model.head.tau must be > 0, got {m.head.tau}")
        if m.head.classes < 1 or m.layers[-1].out_features % m.head.classes:
            raise ConfigError(f"{src}: model.head.classes={m.head.classes} must divide the last layer's "
                              f"{m.layers[-1].out_features} outputs into equal groups")
        per = m.layers[-1].out_features // m.head.classes
        if not 0 <= m.head.tiebreak < per:
            raise ConfigError(f"{src}: model.head.tiebreak={m.head.tiebreak} must lie in 0..{per - 1}: the "
                              f"outputs per class that count half ({per} per class here; at least one must count "
                              f"in full)")
    for i, lc in enumerate(m.layers):
        table = (lc.neuron or m.neuron).kind == "table"
        key = f"model.layers[{i}].neuron.kind" if lc.neuron else "model.neuron.kind"
        if table and (m.encoder is None or m.head is None):
            raise ConfigError(f"{src}: {key}: table neurons read bits: give model.encoder (thermometer) and "
                              f"model.head (groupsum)")
        if (m.encoder is not None or m.head is not None) and not table:
            raise ConfigError(f"{src}: {key}: a model with an encoder/head is built of table neurons "
                              f"(neuron: {{kind: table}}); got {(lc.neuron or m.neuron).kind!r}")
        fan_in = lc.fan_in or (m.input_fan_in if i == 0 and m.input_fan_in else m.fan_in)
        if table and fan_in > MAX_ADDRESS_BITS:
            fkey = f"model.layers[{i}].fan_in" if lc.fan_in else ("model.input_fan_in" if i == 0 and m.input_fan_in
                                                                 else "model.fan_in")
            raise ConfigError(f"{src}: {fkey}={fan_in}: a table neuron of layer {i} would have {fan_in} address bits, "
                              f"more than the bound of {MAX_ADDRESS_BITS}; lower {fkey}")


def _check_learn(m: ModelConfig, src: str):
    """``model.learn_connectivity`` (lutnet.core.learned / lutnet.pruning.learn's rules)."""
    lc = m.learn_connectivity
    if lc is None:
        return
    from .core.learned import LEARN_KINDS
    key = "model.learn_connectivity"
    if lc.kind not in LEARN_KINDS:
        raise ConfigError(f"{src}: {key}.kind must be one of {', '.join(LEARN_KINDS)}, got {lc.kind!r}")
    for name, low in (("steps", 1), ("finetune_epochs", 1), ("pretrain_epochs", 0)):
        v = getattr(lc, name)
        if v is not None and v < low:
            raise ConfigError(f"{src}: {key}.{name} must be >= {low}, got {v}")
    if lc.budget_luts is not None and not lc.budget_luts > 0:
        raise ConfigError(f"{src}: {key}.budget_luts must be > 0 (LUTs of the whole network), got {lc.budget_luts}")
    if lc.metric not in ("l1", "l2", "taylor"):
        raise ConfigError(f"{src}: {key}.metric must be one of l1, l2, taylor, got {lc.metric!r}")
    if not lc.lasso >= 0:
        raise ConfigError(f"{src}: {key}.lasso must be >= 0, got {lc.lasso}")
    if m.encoder is not None or m.head is not None:
        raise ConfigError(f"{src}: {key} applies to LUT layers (linear, poly, subnet), not to a table-neuron model "
                          f"with an encoder/head (use its learnable mapping: model.mapping)")
    for i, lc_i in enumerate(m.layers):
        fan_in = lc_i.fan_in or (m.input_fan_in if i == 0 and m.input_fan_in else m.fan_in)
        fkey = (f"model.layers[{i}].fan_in" if lc_i.fan_in else
                "model.input_fan_in" if i == 0 and m.input_fan_in else "model.fan_in")
        if lc.start_fan_in is not None and lc.start_fan_in < fan_in:
            raise ConfigError(f"{src}: {key}.start_fan_in={lc.start_fan_in} is smaller than {fkey}={fan_in}; "
                              f"learned connectivity trains with more inputs than it keeps: use start_fan_in > "
                              f"{fan_in} (or leave it out: dense)")
        if (lc_i.mapping or m.mapping) == "learnable":
            mkey = f"model.layers[{i}].mapping" if lc_i.mapping else "model.mapping"
            raise ConfigError(f"{src}: {key} and {mkey}: learnable both choose layer {i}'s inputs; use one of them")
        if lc_i.add is not None or lc_i.assemble is not None:
            raise ConfigError(f"{src}: {key} does not apply to the tree layer model.layers[{i}] (add/assemble)")


def _layer_tree(m: ModelConfig, i: int, src: str):
    """Layer ``i``'s tree of small tables (:func:`lutnet.core.assemble.tree_spec`), or None."""
    from .core.assemble import tree_spec
    from .errors import LayerConfigError
    lc = m.layers[i]
    if lc.add is None and lc.assemble is None and lc.add_bits is None and lc.assemble_bits is None:
        return None
    out_bits = lc.bits or (m.output_bits if i == len(m.layers) - 1 else m.hidden_bits)
    try:
        return tree_spec(f"{src}: model.layers[{i}]", lc.add, lc.add_bits, lc.assemble, lc.assemble_bits,
                         out_bits, m.hidden_bits)
    except LayerConfigError as e:
        raise ConfigError(str(e)) from None


def check_model(m: ModelConfig, n_features: int, src: str = "<config>", max_rows: int = DEFAULT_MAX_ROWS):
    """What needs the dataset's feature count: every neuron kind is known, every layer's fan-in fits
    its inputs, and every table fits ``max_rows``.  A :class:`ConfigError` names the key at fault;
    called before training, so a config that cannot be built or exported fails at once."""
    for i, lc in enumerate(m.layers):
        neuron = lc.neuron or m.neuron
        if neuron.kind not in NEURON_KINDS:
            key = f"model.layers[{i}].neuron.kind" if lc.neuron else "model.neuron.kind"
            raise ConfigError(f"{src}: {key}: unknown neuron kind {neuron.kind!r}; known kinds: "
                              f"{', '.join(NEURON_KINDS)}")
    for i, lc in enumerate(m.layers):
        if lc.fan_in is not None:
            key, fan_in = f"model.layers[{i}].fan_in", lc.fan_in
        elif i == 0 and m.input_fan_in:
            key, fan_in = "model.input_fan_in", m.input_fan_in
        else:
            key, fan_in = "model.fan_in", m.fan_in
        n_in = n_features if i == 0 else m.layers[i - 1].out_features
        if i == 0 and m.encoder is not None:  # layer 0 reads the thermometer bits
            n_in = n_features * m.encoder.bits_per_feature
        if fan_in < 1:
            raise ConfigError(f"{src}: {key} must be >= 1, got {fan_in}")
        if fan_in > n_in:
            raise ConfigError(f"{src}: {key}={fan_in} is more than the {n_in} inputs of layer {i}; a neuron "
                              f"reads fan_in distinct inputs: use at most {n_in}")
        in_bits = m.input_bits if i == 0 else (m.layers[i - 1].bits or m.hidden_bits)
        if m.encoder is not None:  # table neurons: one-bit inputs
            in_bits = 1
        abits = fan_in * in_bits
        if 2 ** abits > max_rows:
            raise ConfigError(f"{src}: {key}={fan_in}: layer {i}'s neurons would need tables of 2^{abits} rows "
                              f"({fan_in} inputs x {in_bits} bits), more than the {max_rows:,}-row bound; lower "
                              f"{key} or the bit widths (or raise the bound with --max-rows)")
        _check_tree_fits(m, i, src, fan_in, n_in, max_rows)


def _check_tree_fits(m: ModelConfig, i: int, src: str, fan_in: int, n_in: int, max_rows: int):
    """A tree layer reads ``fan_in x A_1 x ...`` distinct inputs and its upper tables fit ``max_rows``."""
    spec = _layer_tree(m, i, src)
    if spec is None:
        return
    key = f"model.layers[{i}].{spec.mode}"
    eff = fan_in * spec.leaves_per_neuron
    if eff > n_in:
        value = list(spec.arity) if spec.mode == "assemble" else spec.arity[0]
        raise ConfigError(f"{src}: {key}={value}: each neuron of layer {i} reads fan_in x "
                          f"{' x '.join(map(str, spec.arity))} = {eff} distinct inputs, more than the layer's "
                          f"{n_in} inputs; lower {key} or the fan-in")
    for a in spec.arity:
        if 2 ** (a * spec.bits) > max_rows:
            bits_key = f"model.layers[{i}].{spec.mode}_bits"
            raise ConfigError(f"{src}: {key}: a table of {a} inputs x {spec.bits} bits ({bits_key}) would have "
                              f"2^{a * spec.bits} rows, more than the {max_rows:,}-row bound; lower {key} or "
                              f"{bits_key}")


def load_config(path) -> RunConfig:
    """Load a run configuration from a YAML file, or a zoo name (``models/<name>.yaml``)."""
    path = resolve_config(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if doc is None:
        raise ConfigError(f"{path}: the file is empty")
    return from_dict(RunConfig, doc, str(path))


def zoo_names() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files("lutnet.models").iterdir() if p.name.endswith(".yaml"))


def resolve_config(name_or_path) -> Path:
    p = Path(name_or_path)
    if p.is_file():
        return p
    zoo = resources.files("lutnet.models") / f"{name_or_path}.yaml"
    if zoo.is_file():
        return Path(str(zoo))
    raise ConfigError(f"{name_or_path}: no such config file, and no zoo model of that name "
                      f"(zoo: {', '.join(zoo_names())})")
