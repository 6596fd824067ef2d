"""Sweep specifications: a search space over fields of a run configuration, a search algorithm and
two objectives, loaded from YAML and checked before anything runs.

A spec (``lutnet sweep SPEC.yaml``)::

    name: digits-tiny
    base: digits-s                 # a zoo name or a run-config YAML; every trial starts from it
    search: random                 # grid | random | tpe | nsga2   (tpe/nsga2: Optuna through Ray Tune)
    num_samples: 8                 # trials (grid: repeats of the whole grid)
    scheduler: asha                # none | asha (early stopping of poor trials on validation accuracy)
    objectives: {val_acc: max, luts: min}
    yosys_front: false             # also synthesize the Pareto front's designs with Yosys
    cpus_per_trial: 1
    seed: 0
    space:
      model.fan_in: {choice: [3, 4]}
      model.hidden_bits: {grid: [1, 2]}
      model.neuron.kind: {choice: [linear, poly]}
      model.layers: {choice: [[64, 10], [128, 48, 10]]}
      train.lr: {loguniform: [0.005, 0.05]}
      train.epochs: 2              # a plain value fixes a field for every trial
      prune.lut_budget: {choice: [null, 600]}   # knapsack pruning to a LUTCost budget after training

Keys of ``space`` are dotted paths into :class:`lutnet.config.RunConfig` (``model.*``, ``train.*``,
``data.*``) or ``prune.lut_budget``.  Every error names the key at fault.
"""
from __future__ import annotations

import dataclasses
import itertools
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..config import RunConfig, from_dict, load_config, resolve_config
from ..errors import LutnetError


class SweepSpecError(LutnetError, ValueError):
    """A sweep specification is malformed (the message names the key)."""


SEARCHES = ("grid", "random", "tpe", "nsga2")
SCHEDULERS = ("none", "asha")
DOMAINS = ("grid", "choice", "uniform", "loguniform", "randint")
# What every finished trial reports, and the direction that is better.
METRICS = {"val_acc": "max", "luts": "min", "lut_cost": "min", "lut_levels": "min", "train_seconds": "min",
           "table_rows": "min"}
EXTRA_KEYS = {"prune.lut_budget"}
SPEC_KEYS = ("name", "base", "search", "num_samples", "scheduler", "objectives", "yosys_front", "cpus_per_trial",
             "seed", "space", "max_failures", "description", "limit")


@dataclass
class Domain:
    """One searched field: ``kind`` in DOMAINS (or ``fixed``) and its values or bounds."""
    kind: str
    values: list

    def to_tune(self, search: str):
        from ray import tune
        if self.kind == "fixed":
            return self.values[0]
        if self.kind == "grid":
            return tune.grid_search(self.values) if search == "grid" else tune.choice(self.values)
        if self.kind == "choice":
            return tune.grid_search(self.values) if search == "grid" else tune.choice(self.values)
        lo, hi = self.values
        return {"uniform": tune.uniform, "loguniform": tune.loguniform, "randint": tune.randint}[self.kind](lo, hi)


@dataclass
class SweepSpec:
    name: str
    base: str
    space: dict
    search: str = "random"
    num_samples: int = 4
    scheduler: str = "none"
    objectives: dict = field(default_factory=lambda: {"val_acc": "max", "luts": "min"})
    yosys_front: bool = False
    cpus_per_trial: float = 1.0
    seed: int = 0
    max_failures: int = 1
    description: str = ""
    limit: int | None = None
    source: str = "<sweep>"

    @property
    def base_config(self) -> RunConfig:
        return load_config(self.base)

    def param_space(self) -> dict:
        """The Ray Tune parameter space (flat, dotted keys)."""
        return {k: d.to_tune(self.search) for k, d in self.space.items()}

    def grid_size(self) -> int:
        n = 1
        for d in self.space.values():
            if d.kind in ("grid", "choice"):
                n *= len(d.values)
        return n

    def n_trials(self) -> int:
        return self.grid_size() * self.num_samples if self.search == "grid" else self.num_samples


def _err(src, msg):
    return SweepSpecError(f"{src}: {msg}")


def _field_type(path: str, src: str):
    """The annotation of a dotted RunConfig path (``model.neuron.kind`` -> str)."""
    cls, tp = RunConfig, None
    parts = path.split(".")
    for i, part in enumerate(parts):
        if cls is None or not dataclasses.is_dataclass(cls):
            raise _err(src, f"space key {path!r}: {'.'.join(parts[:i])} has no fields")
        hints = typing.get_type_hints(cls)
        if part not in hints:
            known = ", ".join(f.name for f in dataclasses.fields(cls))
            raise _err(src, f"space key {path!r}: unknown field {part!r} (known here: {known})")
        tp = hints[part]
        if typing.get_origin(tp) is typing.Union:
            tp = [a for a in typing.get_args(tp) if a is not type(None)][0]
        cls = tp if dataclasses.is_dataclass(tp) else None
    return tp


def _domain(key: str, value, src: str) -> Domain:
    if not isinstance(value, dict):
        return Domain("fixed", [value])
    if len(value) != 1 or next(iter(value)) not in DOMAINS:
        raise _err(src, f"space key {key!r}: give one of {', '.join(DOMAINS)} (e.g. {{choice: [1, 2]}}) or a "
                        f"plain value, got {value!r}")
    kind, vals = next(iter(value.items()))
    if not isinstance(vals, list) or not vals:
        raise _err(src, f"space key {key!r}: {kind} needs a non-empty list, got {vals!r}")
    if kind in ("uniform", "loguniform", "randint"):
        if len(vals) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            raise _err(src, f"space key {key!r}: {kind} needs [low, high] numbers, got {vals!r}")
        lo, hi = vals
        if not lo < hi:
            raise _err(src, f"space key {key!r}: empty range [{lo}, {hi}] (low must be below high)")
        if kind == "loguniform" and lo <= 0:
            raise _err(src, f"space key {key!r}: loguniform needs low > 0, got {lo}")
    return Domain(kind, list(vals))


def _check_values(spec: SweepSpec):
    """Every value a trial can get must make a valid run config: try each listed value (the
    bounds of ranges) on the base config now, not in a worker later."""
    base = spec.base_config.to_dict()
    for key, dom in spec.space.items():
        if key in EXTRA_KEYS:
            for v in (dom.values if dom.kind in ("fixed", "grid", "choice") else []):
                if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0):
                    raise _err(spec.source, f"space key {key!r}: a LUT budget must be a positive number or null, "
                                            f"got {v!r}")
            continue
        tp = _field_type(key, spec.source)
        values = dom.values if dom.kind in ("fixed", "grid", "choice") else [
            int(v) if dom.kind == "randint" else v for v in dom.values]
        if dom.kind == "randint" and tp is not int:
            raise _err(spec.source, f"space key {key!r}: randint gives integers but the field is {tp}")
        for v in values:
            try:
                from_dict(RunConfig, apply_overrides(base, {key: v}), spec.source)
            except LutnetError as e:
                msg = str(e).removeprefix(f"{spec.source}: ")
                raise _err(spec.source, f"space key {key!r} = {v!r} makes an invalid config: {msg}") from None


def apply_overrides(base: dict, params: dict) -> dict:
    """A copy of the config dict ``base`` with dotted ``params`` set (``prune.*`` keys skipped)."""
    import copy
    cfg = copy.deepcopy(base)
    for key, value in params.items():
        if key in EXTRA_KEYS:
            continue
        node = cfg
        parts = key.split(".")
        for p in parts[:-1]:
            if node.get(p) is None:
                node[p] = {}
            node = node[p]
        node[parts[-1]] = value
    return cfg


def parse_spec(doc, source: str = "<sweep>") -> SweepSpec:
    if not isinstance(doc, dict):
        raise _err(source, f"a sweep spec must be a mapping, got {type(doc).__name__}")
    unknown = sorted(set(doc) - set(SPEC_KEYS))
    if unknown:
        raise _err(source, f"unknown key {unknown[0]!r}; known keys: {', '.join(SPEC_KEYS)}")
    for req in ("name", "base", "space"):
        if req not in doc:
            raise _err(source, f"missing required key {req!r}")
    if not isinstance(doc["space"], dict) or not doc["space"]:
        raise _err(source, "space must map at least one config field to its values")
    search = doc.get("search", "random")
    if search not in SEARCHES:
        raise _err(source, f"search must be one of {', '.join(SEARCHES)}, got {search!r}")
    scheduler = doc.get("scheduler", "none") or "none"
    if scheduler not in SCHEDULERS:
        raise _err(source, f"scheduler must be one of {', '.join(SCHEDULERS)}, got {scheduler!r}")
    objectives = doc.get("objectives", {"val_acc": "max", "luts": "min"})
    if not isinstance(objectives, dict) or not 1 <= len(objectives) <= 2:
        raise _err(source, f"objectives must map one or two metrics to max/min, got {objectives!r}")
    for m, mode in objectives.items():
        if m not in METRICS:
            raise _err(source, f"objective {m!r} is not produced by any trial; trials report "
                               f"{', '.join(METRICS)}")
        if mode not in ("max", "min"):
            raise _err(source, f"objective {m!r}: mode must be max or min, got {mode!r}")
    for key, tp, lo in (("num_samples", int, 1), ("cpus_per_trial", (int, float), 0.01), ("seed", int, 0),
                        ("max_failures", int, 0)):
        v = doc.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, tp) or v < lo):
            raise _err(source, f"{key} must be a number >= {lo}, got {v!r}")
    try:
        resolve_config(doc["base"])
    except LutnetError as e:
        raise _err(source, f"base: {e}") from None
    space = {str(k): _domain(str(k), v, source) for k, v in doc["space"].items()}
    if search == "grid":
        for k, d in space.items():
            if d.kind in ("uniform", "loguniform", "randint"):
                raise _err(source, f"space key {k!r}: grid search needs a list of values (grid/choice), not {d.kind}")
    if scheduler == "asha" and search not in ("grid", "random"):
        raise _err(source, f"scheduler asha works with search grid or random (Optuna's {search} is multi-objective "
                           f"and takes no intermediate results); use scheduler: none")
    if scheduler == "asha" and "val_acc" not in objectives:
        raise _err(source, "scheduler asha stops trials on val_acc: add val_acc to objectives")
    spec = SweepSpec(name=str(doc["name"]), base=str(doc["base"]), space=space, search=search,
                     num_samples=int(doc.get("num_samples", 4)), scheduler=scheduler, objectives=dict(objectives),
                     yosys_front=bool(doc.get("yosys_front", False)),
                     cpus_per_trial=float(doc.get("cpus_per_trial", 1.0)), seed=int(doc.get("seed", 0)),
                     max_failures=int(doc.get("max_failures", 1)), description=str(doc.get("description", "")),
                     limit=doc.get("limit"), source=source)
    _check_values(spec)
    return spec


def load_spec(path_or_name) -> SweepSpec:
    """A sweep spec from a YAML file, or the name of a bundled one (``lutnet/models/sweeps/NAME.yaml``)."""
    p = Path(path_or_name)
    if not p.is_file():
        from importlib import resources
        bundled = resources.files("lutnet.models") / "sweeps" / f"{path_or_name}.yaml"
        if not bundled.is_file():
            raise SweepSpecError(f"{path_or_name}: no such sweep spec file (and no bundled spec of that name)")
        p = Path(str(bundled))
    try:
        doc = yaml.safe_load(p.read_text())
    except yaml.YAMLError as e:
        raise SweepSpecError(f"{p}: not valid YAML: {e}") from None
    return parse_spec(doc, str(p))


def grid_points(spec: SweepSpec) -> list[dict]:
    """All grid points (for a grid search's table of trials)."""
    keys = [k for k, d in spec.space.items() if d.kind in ("grid", "choice")]
    return [dict(zip(keys, vals)) for vals in itertools.product(*(spec.space[k].values for k in keys))]
