"""Sweeps on Ray: the embedded local default, a 2-node local cluster, a worker node killed mid-sweep,
and resuming an interrupted sweep.  Digits, tiny networks, 1-3 epochs."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray")
from ray import tune  # noqa: E402

from lutnet.ir import NetworkIR  # noqa: E402
from lutnet.sweep import parse_spec, sweep  # noqa: E402

LUTNET = Path(sys.executable).with_name("lutnet")


def tiny_spec(name="t", **kw):
    doc = {"name": name, "base": "digits-s", "search": "random", "num_samples": 4, "seed": 1,
           "space": {"model.fan_in": {"choice": [3, 4]}, "model.layers": {"choice": [[24, 10], [48, 10]]},
                     "train.epochs": 2}}
    doc.update(kw)
    return parse_spec(doc, f"{name}.yaml")


@pytest.fixture
def no_ray():
    ray.shutdown()
    yield
    ray.shutdown()


def check_result(res, n_trials, out: Path):
    rows = res["trials"]
    assert len(rows) == n_trials and len({r["trial"] for r in rows}) == n_trials
    ok = [r for r in rows if r["status"] == "ok"]
    assert ok, rows
    for r in ok:
        assert 0.0 <= r["val_acc"] <= 1.0 and r["luts"] > 0
    front = res["front"]
    assert front and all(r["front"] for r in front)
    # test accuracy only for the front's points, computed from their tables after the search
    assert all(r.get("test_acc") is not None for r in front)
    assert all(r.get("test_acc") is None for r in rows if not r.get("front"))
    for r in front:
        ir = NetworkIR.load(Path(r["design"]) / "model.lutir.npz")
        assert ir.n_outputs == 10
    saved = json.loads((out / "results.json").read_text())
    assert len(saved["trials"]) == n_trials
    assert (out / "trials.csv").read_text().count("\n") == n_trials + 1
    assert (out / "pareto.png").stat().st_size > 0


def test_embedded_sweep_with_asha(tmp_path, no_ray):
    spec = tiny_spec(scheduler="asha")
    res = sweep(spec, tmp_path / "out", verbose=0)
    assert res["engine"]["mode"] == "embedded" and res["engine"]["cpus"] == os.cpu_count()
    check_result(res, 4, tmp_path / "out")
    # front points are not dominated by any finished trial
    ok = [r for r in res["trials"] if r["status"] == "ok"]
    for f in res["front"]:
        assert not any(r["val_acc"] >= f["val_acc"] and r["luts"] <= f["luts"]
                       and (r["val_acc"] > f["val_acc"] or r["luts"] < f["luts"]) for r in ok)


class Recoveries(tune.Callback):
    """Kills the cluster's worker node when the first epoch result arrives; counts retried trials."""

    def __init__(self, cluster, node):
        self.cluster, self.node, self.killed, self.recovered, self.failures = cluster, node, False, 0, 0

    def __getstate__(self):  # Tune pickles the run config into its experiment state; the cluster stays here
        return {"killed": self.killed, "recovered": self.recovered, "failures": self.failures}

    def on_trial_result(self, iteration, trials, trial, result, **info):
        if self.killed:
            return
        raylet = self.node.all_processes["raylet"][0].process.pid
        try:  # a trial's worker process is a child of its node's raylet (Linux: field 4 of /proc/PID/stat)
            ppid = int(Path(f"/proc/{result['pid']}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            ppid = None
        if ppid == raylet:  # kill the node while this trial runs on it
            self.killed = True
            self.cluster.remove_node(self.node, allow_graceful=False)

    def on_trial_recover(self, iteration, trials, trial, **info):
        self.recovered += 1

    def on_experiment_end(self, trials, **info):
        self.failures = sum(t.num_failures for t in trials)  # runs lost with the node, then retried


def test_two_node_cluster_survives_a_dead_worker(tmp_path, no_ray):
    from ray.cluster_utils import Cluster
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    worker = cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    try:
        spec = tiny_spec("fault", max_failures=2, space={"model.fan_in": {"choice": [3, 4]}, "train.epochs": 15,
                                                          "model.layers": {"choice": [[24, 10], [32, 10]]}})
        cb = Recoveries(cluster, worker)
        res = sweep(spec, tmp_path / "out", address=cluster.address, verbose=0, callbacks=[cb])
        assert res["engine"]["mode"] == "cluster" and res["engine"]["nodes"] == 2
        assert cb.killed  # a worker node died while one of the trials ran on it
        check_result(res, 4, tmp_path / "out")
        assert all(r["status"] == "ok" for r in res["trials"]), res["trials"]  # every trial accounted for
    finally:
        ray.shutdown()
        cluster.shutdown()


def test_interrupted_sweep_resumes(tmp_path, no_ray):
    spec_file = tmp_path / "s.yaml"
    spec_file.write_text("name: r\nbase: digits-s\nsearch: grid\nnum_samples: 1\nmax_failures: 1\n"
                         "space:\n  model.fan_in: {grid: [2, 3, 4]}\n  model.layers: [24, 10]\n  train.epochs: 2\n")
    out = tmp_path / "out"
    p = subprocess.Popen([str(LUTNET), "sweep", str(spec_file), "-o", str(out), "-q"], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    exp = out / "ray" / "r"
    while time.time() < deadline and not list(exp.glob("trial_*/checkpoint_*")):
        time.sleep(0.5)
    assert list(exp.glob("trial_*/checkpoint_*")), "no trial finished within 5 minutes"
    os.killpg(p.pid, signal.SIGKILL)  # the interruption: driver and its local Ray die at once
    p.wait()
    subprocess.run(["pkill", "-9", "-f", f"{tmp_path}"], check=False)
    from lutnet.errors import OutputExistsError
    with pytest.raises(OutputExistsError, match="pass --resume to continue that sweep"):
        sweep(str(spec_file), out, verbose=0)
    res = sweep(str(spec_file), out, resume=True, verbose=0)
    check_result(res, 3, out)
    assert sorted(r["model.fan_in"] for r in res["trials"]) == [2, 3, 4]
    assert all(r["status"] == "ok" for r in res["trials"])
    assert np.isfinite([r["val_acc"] for r in res["trials"]]).all()


@pytest.mark.parametrize("search", ["tpe", "nsga2"])
def test_optuna_searches_run_multi_objective(tmp_path, no_ray, search):
    spec = tiny_spec(f"o-{search}", search=search, num_samples=3,
                     space={"model.fan_in": {"choice": [2, 3, 4]}, "model.layers": [24, 10], "train.epochs": 1,
                            "train.lr": {"loguniform": [0.01, 0.05]}})
    res = sweep(spec, tmp_path / "out", verbose=0)
    check_result(res, 3, tmp_path / "out")
    assert all(r["status"] == "ok" for r in res["trials"])
    assert len({(r["model.fan_in"], r["train.lr"]) for r in res["trials"]}) == 3  # the sampler proposed 3 points
