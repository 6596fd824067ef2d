"""One sweep trial: build the config, train (reporting validation accuracy every epoch so a scheduler
can stop it), optionally prune to a LUT budget, extract the tables, check bit-exactness on the
validation split, estimate the circuit, and report.  The trained model's IR and checkpoint travel
back to the driver as a Ray Tune checkpoint; the test split is never touched here.

Runs inside a Ray worker; also callable directly (``run_trial(params, spec_dict, report=print)``)."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from ..errors import LutnetError


def _trial_config(params: dict, spec: dict):
    from ..config import RunConfig, from_dict, load_config
    from .spec import apply_overrides
    base = load_config(spec["base"]).to_dict()
    return from_dict(RunConfig, apply_overrides(base, params), f"sweep {spec['name']}")


def run_trial(params: dict, spec: dict, report, checkpoint_dir=None) -> dict:
    """Train and measure one configuration.  ``report(metrics, checkpoint_dir)`` is called after
    every epoch (``checkpoint_dir`` None) and once at the end with the final metrics and a
    directory holding ``checkpoint.pt`` and ``model.lutir.npz``.  Returns the final metrics."""
    import numpy as np
    import torch

    from ..checkpoint import save_checkpoint
    from ..data import load_dataset, train_val_split
    from ..export import to_ir
    from ..frontend import get_frontend
    from ..rtl.report import build_report
    from ..train import fit
    from ..verify import verify

    torch.set_num_threads(max(1, int(spec.get("cpus_per_trial", 1))))
    t0 = time.perf_counter()
    cfg = _trial_config(params, spec)
    kwargs = {"path": cfg.data.path} if cfg.data.path else {}
    ds = load_dataset(cfg.data.name, **kwargs)
    limit = spec.get("limit") or cfg.data.limit
    if limit:
        ds = ds.subset(int(limit))
    def on_epoch(rec):
        if spec.get("search") in ("tpe", "nsga2"):  # Optuna's multi-objective search takes final results only
            return
        report({"val_acc": float(rec["val_acc"]), "epoch": int(rec["epoch"]) + 1, "loss": float(rec["loss"]),
                "final": False}, None)

    # model.learn_connectivity: knapsack / group-lasso input selection, as lutnet train does
    model, result = get_frontend("torch").build_and_fit(cfg.model, cfg.train, ds.X_train, ds.y_train, progress=False,
                                                        log=lambda *a: None, on_epoch=on_epoch)
    budget = params.get("prune.lut_budget")
    pruned = False
    if budget is not None:
        from ..config import TrainConfig
        from ..pruning import prune_lut_network
        prune_lut_network(model, float(budget))
        tune_cfg = TrainConfig(**{**cfg.train.__dict__, "epochs": max(1, cfg.train.epochs // 4)})
        result = fit(model, ds.X_train, ds.y_train, tune_cfg, progress=False)
        pruned = True
    train_seconds = time.perf_counter() - t0
    # bit-exactness on the validation split (the same split fit() carved out)
    _, _, X_val, y_val = train_val_split(np.asarray(ds.X_train), np.asarray(ds.y_train), cfg.train.val_fraction,
                                         cfg.train.seed)
    ir = to_ir(model, metadata={"name": f"{spec['name']}"})
    check = verify(model, ir, X_val, y_val)
    est = build_report(ir, method="estimate", progress=False)
    final = {
        "val_acc": float(check.ir_accuracy if check.ir_accuracy is not None else result.best_val_acc),
        "luts": int(est["total"]["luts"]),
        "lut_cost": float(ir.lut_cost()),
        "lut_levels": int(est["total"]["lut_levels"]),
        "table_rows": int(sum(int(L.table_rows.sum()) for L in ir.layers)),
        "train_seconds": round(train_seconds, 2),
        "best_epoch": int(result.best_epoch) + 1,
        "bitexact_val": bool(check.ok),
        "val_mismatches": int(check.output_mismatches),
        "pruned": pruned,
        "epoch": int(cfg.train.epochs),
        "final": True,
    }
    if not check.ok:
        raise LutnetError(f"trial {params}: model and tables differ on {check.output_mismatches} validation "
                          f"samples (a lutnet bug: please report it with this config)")
    out = Path(checkpoint_dir or tempfile.mkdtemp(prefix="lutnet-trial-"))
    out.mkdir(parents=True, exist_ok=True)
    save_checkpoint(out / "checkpoint.pt", model, cfg, ds.n_features, {"val_acc": final["val_acc"]}, overwrite=True)
    ir.save(out / "model.lutir.npz", overwrite=True)
    report(final, str(out))
    return final


def tune_trainable(spec: dict):
    """The Ray Tune function trainable for ``spec`` (a SweepSpec as a plain dict)."""
    def trainable(params):
        from ray import tune
        os.environ.setdefault("OMP_NUM_THREADS", str(max(1, int(spec.get("cpus_per_trial", 1)))))

        def report(metrics, ckpt_dir):
            if ckpt_dir is None:
                tune.report(metrics)
            else:
                tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(ckpt_dir))

        run_trial(params, spec, report)  # an exception is recorded by Ray Tune as the trial's error
    return trainable
