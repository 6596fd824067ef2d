"""Ray as the sweep engine: an embedded local instance by default, or an existing cluster.

``connect(address)``: with no address (and no ``RAY_ADDRESS``), start a local Ray sized to this
machine (``os.cpu_count()`` CPUs, no dashboard); with ``address`` (``"auto"``, ``"ray://..."`` or
``"host:port"``) join that cluster.  ``run_sweep`` builds a Ray Tune ``Tuner`` from a
:class:`~lutnet.sweep.spec.SweepSpec` and restores it when the experiment directory already holds an
interrupted run (``resume=True``)."""
from __future__ import annotations

import os
import time
from dataclasses import asdict
from pathlib import Path

from ..errors import LutnetError
from .spec import SweepSpec


class SweepError(LutnetError, RuntimeError):
    """A sweep could not start or resume (the message says why and what to do)."""


def connect(address: str | None = None, num_cpus: int | None = None) -> dict:
    """Start or join Ray; returns ``{"mode": "embedded"|"cluster", "address": ..., "cpus": ...,
    "start_seconds": ...}``.  Reuses a Ray already initialized in this process."""
    import ray
    t0 = time.perf_counter()
    address = address or os.environ.get("RAY_ADDRESS") or None
    if ray.is_initialized():
        mode = "existing"
    elif address:
        try:
            ray.init(address=address, log_to_driver=False, include_dashboard=False)
        except Exception as e:  # ConnectionError, TimeoutError, ValueError: all mean "no cluster there"
            raise SweepError(f"--address {address}: cannot join a Ray cluster there ({type(e).__name__}: "
                             f"{str(e).splitlines()[0] if str(e) else e}); start one with `ray start --head` "
                             f"or leave --address out for a local run") from None
        mode = "cluster"
    else:
        ray.init(num_cpus=num_cpus or os.cpu_count(), include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
        mode = "embedded"
    return {"mode": mode, "address": address, "cpus": int(ray.cluster_resources().get("CPU", 0)),
            "nodes": len([n for n in ray.nodes() if n.get("Alive")]),
            "start_seconds": round(time.perf_counter() - t0, 2)}


def _search_alg(spec: SweepSpec):
    if spec.search in ("grid", "random"):
        return None
    import optuna
    from ray.tune.search.optuna import OptunaSearch
    sampler = (optuna.samplers.TPESampler(seed=spec.seed) if spec.search == "tpe"
               else optuna.samplers.NSGAIISampler(seed=spec.seed))
    metrics = list(spec.objectives)
    modes = [spec.objectives[m] for m in metrics]
    return OptunaSearch(metric=metrics if len(metrics) > 1 else metrics[0],
                        mode=modes if len(modes) > 1 else modes[0], sampler=sampler)


def _scheduler(spec: SweepSpec, max_epochs: int):
    if spec.scheduler != "asha":
        return None
    from ray.tune.schedulers import ASHAScheduler
    # a trial reports once per epoch and once more at the end; the first rung is a quarter of the epochs
    return ASHAScheduler(metric="val_acc", mode="max", time_attr="training_iteration", max_t=max_epochs + 1,
                         grace_period=max(1, max_epochs // 4), reduction_factor=2)


def _max_epochs(spec: SweepSpec) -> int:
    dom = spec.space.get("train.epochs")
    if dom is None:
        return spec.base_config.train.epochs
    return int(max(dom.values))


def run_sweep(spec: SweepSpec, out_dir, *, address: str | None = None, resume: bool = False,
              verbose: int = 1, callbacks=None):
    """Run (or resume) the sweep; returns the Ray Tune ``ResultGrid``.  ``out_dir`` holds the Ray
    Tune experiment (``out_dir/ray/<name>``), restorable after an interruption."""
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0" if verbose == 0 else "1")
    from ray import tune

    from .trial import tune_trainable
    out = Path(out_dir).resolve()
    storage = out / "ray"
    exp = storage / spec.name
    spec_dict = {k: v for k, v in asdict(spec).items() if k != "space"}
    trainable = tune.with_resources(tune_trainable(spec_dict), {"cpu": spec.cpus_per_trial})
    if exp.exists() and any(exp.iterdir()):
        if not resume:
            raise SweepError(f"{exp} holds a sweep already; pass --resume to continue it or --force to start over")
        if not tune.Tuner.can_restore(str(exp)):
            raise SweepError(f"{exp}: no restorable Ray Tune state there; pass --force to start over")
        tuner = tune.Tuner.restore(str(exp), trainable, resume_unfinished=True, resume_errored=True)
        return tuner.fit()
    failure = tune.FailureConfig(max_failures=spec.max_failures)
    run_config = tune.RunConfig(name=spec.name, storage_path=str(storage), failure_config=failure,
                                verbose=verbose, callbacks=callbacks,
                                checkpoint_config=tune.CheckpointConfig(num_to_keep=1))
    tune_config = tune.TuneConfig(num_samples=spec.num_samples, search_alg=_search_alg(spec),
                                  scheduler=_scheduler(spec, _max_epochs(spec)),
                                  max_concurrent_trials=None, trial_dirname_creator=lambda t: f"trial_{t.trial_id}")
    tuner = tune.Tuner(trainable, param_space=spec.param_space(), tune_config=tune_config, run_config=run_config)
    return tuner.fit()
