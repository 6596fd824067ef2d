"""benchmarks/bench_frontier.py: quick mode (tiny subsample, 1 epoch, estimator only) on lutnet's
small point, the table/JSON/plot, resume; lutnet.core.table_neuron.PruneUnused and cheap thresholds."""
import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
MNIST = Path(os.environ.get("LUTNET_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) / "mnist"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_frontier", ROOT / "benchmarks" / "bench_frontier.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_published_figures_of_the_anchors():
    b = _bench()
    pub = b.published(ROOT / "models" / "dwn-mnist-sm.yaml")
    assert (pub["acc"], pub["luts"], pub["encoder"]) == ("97.1", "692", "excl")
    assert b.published(ROOT / "models" / "neuralut-assemble-mnist.yaml")["luts"] == "5,056"


def test_cheap_thresholds_on_a_grid():
    from lutnet.core.table_neuron import fit_thresholds
    from lutnet.errors import LayerConfigError
    codes = np.random.default_rng(0).integers(0, 256, (400, 6))
    t = fit_thresholds(codes, 3, "quantile", 0, 255, threshold_bits=2)
    assert np.array_equal(t, np.tile([64, 128, 192], (6, 1)))
    assert np.array_equal(fit_thresholds(codes, 1, "quantile", 0, 255, threshold_bits=1), np.full((6, 1), 128))
    exact = fit_thresholds(codes, 2, "quantile", 0, 255)
    assert not np.all(exact % 64 == 0)  # without threshold_bits the quantiles are kept
    with pytest.raises(LayerConfigError, match=r"Thermometer: bits_per_feature=4 needs more thresholds than "
                                               r"threshold_bits=2 allows \(3\)"):
        fit_thresholds(codes, 4, "quantile", 0, 255, threshold_bits=2)


def test_prune_unused_keeps_outputs_and_drops_dead_logic():
    import torch

    from lutnet.core.table_neuron import PruneUnused
    from lutnet.nn.dwn import DWNNet, TableLayer, Thermometer
    torch.manual_seed(0)
    X = np.random.default_rng(1).random((300, 20)).astype(np.float32)
    enc = Thermometer(20, 3, threshold_bits=3).fit(X)
    model = DWNNet(enc, [TableLayer(60, 40, 6, "learnable", mapping_candidates=8),
                         TableLayer(40, 10, 3, "random", seed=1)], 10, tau=3)
    ir = model.to_ir()
    pruned = PruneUnused()(ir)
    codes = ir.quantize_input(X)
    assert np.array_equal(pruned.evaluate(codes), ir.evaluate(codes))
    assert np.array_equal(pruned.evaluate(codes), model.output_codes(X).numpy())
    read0 = np.unique(ir.layers[1].indices)
    assert pruned.layers[0].out_features == read0.size < 40
    assert pruned.metadata["pruned"]["TableLayer(60->40)"] == 40 - read0.size
    n_read = np.unique(pruned.layers[0].indices).size  # every remaining encoder comparator is read
    assert int(pruned.encoder.comparators(pruned.input_quant).sum()) == n_read < ir.encoder.n_outputs


@pytest.mark.skipif(not MNIST.is_dir(), reason=f"MNIST not at {MNIST}")
def test_quick_run_table_plot_and_resume(tmp_path, capsys):
    b = _bench()
    out = tmp_path / "out"
    args = ["--quick", "--designs", "lutnet-mnist-frontier-s", "--train-limit", "600", "--test-limit", "300",
            "--out", str(out), "--mnist-dir", str(MNIST)]
    res = b.main(args)
    assert len(res) == 1 and res[0]["bit_exact"] and res[0]["synth_mode"] == "estimate"
    r = res[0]
    assert r["test_samples"] == 300 and r["train_samples"] == 600 and 0.0 <= r["test_acc"] <= 1.0
    assert r["luts"] > 0 and {"encoder", "head", "argmax"} <= set(r["stage_luts"]) and r["cycles"] >= 1
    text = capsys.readouterr().out
    assert "lutnet-mnist-frontier-s" in text and "target S: >= 97.0 % at <= 700 LUTs" in text
    saved = json.loads((out / "frontier.json").read_text())
    assert saved["results"][0]["test_acc"] == r["test_acc"]
    assert (out / "frontier.png").stat().st_size > 1000
    again = b.main(args)  # resumes: the finished design is skipped
    assert "skipped" in capsys.readouterr().out and again[0]["test_acc"] == r["test_acc"]


@pytest.mark.skipif(not MNIST.is_dir(), reason=f"MNIST not at {MNIST}")
def test_hls4ml_check_c_simulation_and_verilator_match_the_model(tmp_path, capsys):
    import shutil
    if shutil.which("verilator") is None:
        pytest.skip("needs verilator (make tools)")
    b = _bench()
    out = tmp_path / "out"
    base = ["--quick", "--designs", "lutnet-mnist-frontier-s", "--train-limit", "600", "--test-limit", "200",
            "--out", str(out), "--mnist-dir", str(MNIST), "--no-plot"]
    first = b.main(base)[0]
    assert "hls4ml" not in first
    r = b.main(base + ["--hls4ml"])[0]  # the trained model is reused; only the missing check runs
    text = capsys.readouterr().out
    assert "trained model loaded" in text
    h = r["hls4ml"]
    assert h == {**h, "images": 200, "csim_mismatches": 0, "verilator_mismatches": 0}
    assert "hls4ml LUTNet cpp (g++ C simulation) on 200 test images: 0 mismatches" in text
    assert "yes+C+RTL" in text
    assert (out / next(p.name for p in out.iterdir() if p.is_dir()) / "hls4ml-verilog" / "rtl").is_dir()
