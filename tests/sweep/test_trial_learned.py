"""A sweep trial runs a config's ``model.learn_connectivity`` the way ``lutnet train`` does
(Frontend.build_and_fit), so the trial's circuit has the target fan-in."""
from pathlib import Path

import numpy as np
import yaml

from lutnet.ir import NetworkIR
from lutnet.sweep.trial import run_trial


def test_trial_learns_connectivity_then_reports_the_target_fan_in(tmp_path, monkeypatch):
    import lutnet.pruning.learn as learn
    calls = []
    real = learn.fit_learned

    def spy(fe, model_cfg, *a, **k):
        model, result, learned = real(fe, model_cfg, *a, **k)
        calls.append([h["fan_in"] for h in learned.history])
        return model, result, learned
    monkeypatch.setattr(learn, "fit_learned", spy)
    base = {"name": "learned", "data": {"name": "digits"},
            "model": {"layers": [12, 10], "fan_in": 3, "input_bits": 2, "output_bits": 2, "input_range": 16.0,
                      "learn_connectivity": {"kind": "knapsack", "start_fan_in": 6, "steps": 1,
                                             "finetune_epochs": 1}},
            "train": {"epochs": 2, "batch_size": 64}}
    path = tmp_path / "base.yaml"
    path.write_text(yaml.safe_dump(base))
    reports = []
    final = run_trial({}, {"name": "t", "base": str(path), "limit": 400}, lambda m, d: reports.append((m, d)),
                      checkpoint_dir=tmp_path / "trial")
    assert [m["epoch"] for m, _ in reports[:-1]] == [1, 2]  # the pre-training epochs, as they run
    assert final["final"] and final["bitexact_val"]
    assert len(calls) == 1 and len(calls[0]) == 1  # one knapsack step ran
    ir = NetworkIR.load(Path(reports[-1][1]) / "model.lutir.npz")
    assert [int(np.max(np.sum(L.indices >= 0, 1))) for L in ir.layers] == [3, 3]  # learned down from 6
