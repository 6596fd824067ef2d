"""Don't-care rewriting (lutnet.transforms.DontCareMinimize): bit-exact on the care set at every
layer (IR and harness model level), the rules before/after, the care set from the training split
only (pinned errors for an empty or test care set), the disagreement measurement, the CLI flag."""
import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lutnet.errors import InputError, LutnetError
from lutnet.ir import LayerIR, NetworkIR, QuantSpec
from lutnet.rtl import estimate
from lutnet.rtl.samples import trained_like_network_ir
from lutnet.testing import random_network_ir
from lutnet.transforms import (
    CAVEAT,
    DontCareMinimize,
    care_mismatches,
    care_set,
    check_care_set,
    disagreement,
    load_care_file,
    write_care_file,
)
from lutnet.vectors import random_input_codes

LUTNET = str(Path(sys.executable).with_name("lutnet"))


def staged(seed=0):
    return random_network_ir(seed, n_inputs=4, input_bits=5, widths=(7, 6), fan_in=3, bits=2, thermometer=3,
                             n_classes=3, argmax=True)


def brute_care(ir: NetworkIR, codes) -> list:
    """Reference care masks: every sample's row of every neuron, looked up one address at a time."""
    st = ir.evaluate_stages(codes)
    srcs = [st["encoder"] if st["encoder"] is not None else np.asarray(codes)] + st["layers"][:-1]
    masks = []
    for L, x in zip(ir.layers, srcs):
        m = np.zeros(L.tables.size, bool)
        for s in range(len(x)):
            for k in range(L.out_features):
                a = 0
                for j in range(L.indices.shape[1]):
                    if L.indices[k, j] >= 0:
                        a |= (int(x[s, L.indices[k, j]]) & ((1 << int(L.in_bits[k, j])) - 1)) << int(L.shifts()[k, j])
                m[L.offsets[k] + a] = True
        masks.append(m)
    return masks


@pytest.mark.parametrize("make", [lambda: random_network_ir(3, n_inputs=8, widths=(6, 4), fan_in=3, bits=2), staged])
def test_care_masks_match_brute_force(make):
    ir = make()
    codes = random_input_codes(ir, 40, seed=1)
    got = estimate.care_masks(ir, codes, chunk=16)  # several chunks
    for g, want in zip(got, brute_care(ir, codes)):
        np.testing.assert_array_equal(g, want)


@pytest.mark.parametrize("rule", ["support", "cofactor", "zero"])
@pytest.mark.parametrize("make", [lambda: trained_like_network_ir(1, n_inputs=8, widths=(12, 6, 4), fan_in=3, bits=2),
                                  staged])
def test_rewrite_is_exact_on_the_care_set_at_every_layer(rule, make):
    ir = make()
    before = [L.tables.copy() for L in ir.layers]
    codes = random_input_codes(ir, 50, seed=2)
    new, rep = DontCareMinimize(codes, "train", codes=True, rule=rule, source="unit").apply(ir)
    a, b = ir.evaluate(codes, return_all=True), new.evaluate(codes, return_all=True)
    assert len(a) == len(b) == ir.n_stages - (ir.encoder is not None)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert care_mismatches(ir, new, codes) == 0 and rep.care_mismatches == 0
    for L, t in zip(ir.layers, before):  # the input IR is untouched
        np.testing.assert_array_equal(L.tables, t)
    masks = care_set(ir, codes, "train", codes=True).masks
    for L, N, m, r in zip(ir.layers, new.layers, masks, rep.layers):
        np.testing.assert_array_equal(N.tables[m], L.tables[m])  # care rows kept
        assert r["rewritten"] == int((N.tables != L.tables).sum()) and r["unreached"] == int((~m).sum())
        assert N.attrs["dont_care_rows_rewritten"] == r["rewritten"]
    assert rep.rows_rewritten > 0 or rule == "cofactor"  # cofactor may find nothing to share in tiny tables
    meta = new.metadata["dont_care"]
    assert meta["care_split"] == "train" and meta["care_samples"] == 50 and meta["rule"] == rule
    assert [r["rewritten"] for r in meta["layers"]] == [r["rewritten"] for r in rep.layers]
    assert meta["caveat"] == CAVEAT and "may differ" in CAVEAT
    assert new.encoder == ir.encoder and new.head == ir.head and new.argmax == ir.argmax


def test_rewritten_ir_saves_and_loads_with_its_metadata(tmp_path):
    ir = staged(1)
    codes = random_input_codes(ir, 30, seed=0)
    new, rep = DontCareMinimize(codes, "train", codes=True).apply(ir)
    back = NetworkIR.load(new.save(tmp_path / "dc.lutir.npz"))
    assert back.metadata["dont_care"]["rows_rewritten"] == rep.rows_rewritten
    np.testing.assert_array_equal(back.evaluate(codes), ir.evaluate(codes))


def one_table_ir(table, n_bits, out_bits=1):
    """One neuron reading n_bits 1-bit inputs."""
    L = LayerIR.from_dense("l0", np.arange(n_bits)[None], 1, False, out_bits, False, np.asarray(table)[None])
    return NetworkIR(QuantSpec(1, False, 1.0, 0.0), n_bits, [L], QuantSpec(out_bits, False, 1.0, 0.0)).validate()


def test_support_rule_drops_variables_the_care_set_does_not_need():
    # on the care rows the bit is x0 xor x3; elsewhere the table is noise: the support rule makes the
    # whole table x0 xor x3 (6 of 8 variables dropped); zero-fill keeps all 8 variables
    n = 8
    rng = np.random.default_rng(0)
    rows = np.arange(1 << n)
    f = ((rows >> 0) ^ (rows >> 3)) & 1
    table = np.where(rng.random(1 << n) < 0.5, f, rng.integers(0, 2, 1 << n))
    care_rows = rng.choice(1 << n, 90, replace=False)
    ir = one_table_ir(table, n)
    care_codes = ((care_rows[:, None] >> np.arange(n)) & 1)
    table_c = table.copy()
    table_c[care_rows] = f[care_rows]
    ir = one_table_ir(table_c, n)
    new, _ = DontCareMinimize(care_codes, "train", codes=True, rule="support").apply(ir)
    np.testing.assert_array_equal(new.layers[0].tables, f)
    support = lambda t: int(estimate.estimate_table(t, [1] * n, 1)["support_bits"])
    zero, _ = DontCareMinimize(care_codes, "train", codes=True, rule="zero").apply(ir)
    assert support(ir.layers[0].tables) == 8 and support(zero.layers[0].tables) == 8
    assert support(new.layers[0].tables) == 2


def test_support_rule_shares_an_output_bit_and_fills_by_class_majority():
    # 2 output bits; bit 1 agrees with bit 0 on every care row: it becomes the same function
    n = 6
    rows = np.arange(1 << n)
    b0 = ((rows >> 1) & (rows >> 4)) & 1
    rng = np.random.default_rng(1)
    b1 = rng.integers(0, 2, 1 << n)
    care_rows = rows[rng.random(1 << n) < 0.6]
    b1[care_rows] = b0[care_rows]
    ir = one_table_ir(b0 | (b1 << 1), n, out_bits=2)
    care_codes = (care_rows[:, None] >> np.arange(n)) & 1
    new, _ = DontCareMinimize(care_codes, "train", codes=True).apply(ir)
    t = new.layers[0].tables
    np.testing.assert_array_equal(t & 1, (t >> 1) & 1)
    np.testing.assert_array_equal(t[care_rows], ir.layers[0].tables[care_rows])


def test_support_rule_shrinks_trained_tables_more_than_zero_fill():
    ir = trained_like_network_ir(2, n_inputs=16, widths=(24, 12, 5), fan_in=4, bits=2)
    codes = random_input_codes(ir, 200, seed=3)
    luts = lambda r: sum(s["luts"] for layer in estimate.estimate_network(r) for s in layer)
    got = {rule: luts(DontCareMinimize(codes, "train", codes=True, rule=rule).apply(ir)[0])
           for rule in ("support", "zero")}
    assert got["support"] < got["zero"] and got["support"] < luts(ir)


def test_sum_address_layers_keep_their_flags():
    ir = staged(2)
    if not hasattr(ir.layers[0], "sum_address"):
        pytest.skip("this IR has no sum-address neurons")
    codes = random_input_codes(ir, 30, seed=0)
    new, _ = DontCareMinimize(codes, "train", codes=True).apply(ir)
    for L, N in zip(ir.layers, new.layers):
        np.testing.assert_array_equal(L.sum_address, N.sum_address)


# --------------------------------------------------------------------------- pinned errors
def test_empty_care_set_is_refused():
    ir = staged()
    with pytest.raises(LutnetError) as e:
        DontCareMinimize(np.zeros((0, 4)), "train").apply(ir)
    assert str(e.value) == ("care set: no samples (0 inputs from split 'train'); the care set is empty, so every "
                            "row would be a don't-care: give the training inputs (X_train)")


@pytest.mark.parametrize("split", ["test", "TEST", "test_images"])
def test_test_split_care_set_is_refused(split):
    ir = staged()
    msg = (f"care set: split {split!r} is the test split; the care set must come from the training split "
           f"(split='train'): choosing which rows to rewrite on test inputs leaks the test set into the circuit. "
           f"Measure the test set afterwards with lutnet.transforms.disagreement")
    with pytest.raises(InputError) as e:
        care_set(ir, np.zeros((3, 4)), split=split)
    assert str(e.value) == msg
    with pytest.raises(InputError) as e:
        DontCareMinimize(np.zeros((3, 4)), split=split)
    assert str(e.value) == msg


def test_unknown_split_and_rule_are_refused():
    with pytest.raises(InputError, match=r"^care set: unknown split 'all'; use split='train'"):
        DontCareMinimize(np.zeros((3, 4)), split="all")
    with pytest.raises(LutnetError, match=r"^DontCareMinimize: rule 'ones' is not one of support, cofactor, zero$"):
        DontCareMinimize(np.zeros((3, 4)), rule="ones")


def test_care_features_are_checked():
    ir = staged()
    with pytest.raises(InputError, match="expected 4 features per sample, got 3"):
        DontCareMinimize(np.zeros((5, 3)), "train").apply(ir)


# --------------------------------------------------------------------------- measurements and checks
def test_disagreement_counts_outputs_and_classes():
    ir = staged(3)
    codes = random_input_codes(ir, 300, seed=4)
    same = disagreement(ir, ir, codes, codes=True)
    assert same["outputs_differ"] == 0 and same["classes_differ"] == 0
    care = codes[:20]
    new, _ = DontCareMinimize(care, "train", codes=True, rule="zero").apply(ir)
    d = disagreement(ir, new, codes, np.zeros(300, int), codes=True)
    a, b = ir.evaluate(codes), new.evaluate(codes)
    assert d["outputs_differ"] == int((a != b).any(axis=1).sum()) > 0
    assert d["classes_differ"] == d["outputs_differ"]  # the output is the argmax class
    assert d["outputs_differ_rate"] == d["outputs_differ"] / 300
    assert d["accuracy_before"] == float((a[:, 0] == 0).mean()) and d["accuracy_after"] == float((b[:, 0] == 0).mean())
    assert disagreement(ir, new, care, codes=True)["outputs_differ"] == 0


@pytest.fixture(scope="module")
def small_model():
    """An untrained Brevitas LUT model (random weights) of digits-s's shape, and digits-like inputs."""
    import torch

    from lutnet.builder import build_model
    from lutnet.config import load_config
    cfg = load_config("digits-s")
    cfg.model.layers = cfg.model.layers[1:]  # 48, 10 neurons
    model = build_model(cfg.model, 64).eval()
    X = torch.rand(120, 64, generator=torch.Generator().manual_seed(0)).numpy()
    return model, X


def test_harness_check_model_against_rewritten_ir(small_model):
    from lutnet.frontend import frontend_of
    model, X = small_model
    ir = frontend_of(model).to_ir(model)
    new, rep = DontCareMinimize(X, "train").apply(ir)
    assert rep.rows_rewritten > 0
    codes = ir.quantize_input(X)
    reports = check_care_set(model, new, codes)
    assert all(r.ok for r in reports) and "model" in reports[0].levels and "dontcare-ir" in reports[0].levels
    # a rewrite that touched a care row is caught at the layer and neuron it broke
    broken = dataclasses.replace(new.layers[0], tables=new.layers[0].tables.copy())
    m = care_set(ir, X, "train").masks[0]
    r = int(np.flatnonzero(m)[0])
    broken.tables[r] = broken.tables[r] ^ 1
    bad = NetworkIR(new.input_quant, new.n_inputs, [broken, *new.layers[1:]], new.output_quant, new.metadata)
    rep_bad = check_care_set(model, bad, codes)[0]
    assert not rep_bad.ok and rep_bad.mismatches[0].level == "dontcare-ir" and rep_bad.mismatches[0].layer == 0


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="iverilog not installed")
def test_rewritten_design_simulates_exactly_on_the_care_set(tmp_path):
    ir = staged(4)
    codes = random_input_codes(ir, 64, seed=5)
    new, _ = DontCareMinimize(codes, "train", codes=True).apply(ir)
    reports = check_care_set(ir, new, codes, rtl_levels=("icarus",), work_dir=tmp_path)
    assert len(reports) == 2 and all(r.ok for r in reports), [str(r) for r in reports]


# --------------------------------------------------------------------------- care files and the CLI
def run(*args, cwd):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run([LUTNET, *map(str, args)], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


def test_care_file_round_trip_and_errors(tmp_path):
    X = np.random.default_rng(0).random((10, 4)).astype(np.float32)
    p = write_care_file(tmp_path / "care.npz", X, split="train", source="unit")
    d = load_care_file(p)
    assert d["split"] == "train" and d["source"] == "unit"
    np.testing.assert_array_equal(d["X"], X)
    np.savez(tmp_path / "nosplit.npz", X=X)
    with pytest.raises(InputError, match=r"nosplit.npz: no 'split' array, so the care inputs' split is unknown; "
                                         r"a care file is an .npz with 'split'"):
        load_care_file(tmp_path / "nosplit.npz")
    with pytest.raises(InputError, match=r"care set: split 'test' is the test split"):
        write_care_file(tmp_path / "t.npz", X, split="test")


def test_cli_build_dont_care(tmp_path):
    ir = staged(5)
    ir.save(tmp_path / "net.lutir.npz")
    codes = random_input_codes(ir, 40, seed=6)
    write_care_file(tmp_path / "care.npz", codes=codes, split="train", source="unit codes")
    r = run("build", "net.lutir.npz", "--dont-care", "care.npz", "--dont-care-ir", "dc.lutir.npz", "-o", "rep", "-q",
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    new = NetworkIR.load(tmp_path / "dc.lutir.npz")
    n = new.metadata["dont_care"]["rows_rewritten"]
    assert "rows rewritten" in r.stdout and f"{n:,} of" in r.stdout and "may differ" in r.stdout
    assert "care set = 40 inputs of the 'train' split, unit codes" in r.stdout
    np.testing.assert_array_equal(new.evaluate(codes), ir.evaluate(codes))
    import json
    rep = json.loads((tmp_path / "rep.json").read_text())
    assert rep["dont_care_rewrite"]["rows_rewritten"] == n and rep["dont_care_rewrite"]["care_mismatches"] == 0
    assert rep["dont_care_rewrite"]["luts_after"] == rep["total"]["luts"]
    assert "caveat" in (tmp_path / "rep.txt").read_text()
    # the test split is refused with one line and exit status 2; nothing is written
    np.savez(tmp_path / "test.npz", codes=codes, split=np.array("test"))
    r = run("build", "net.lutir.npz", "--dont-care", "test.npz", "--dont-care-ir", "t.lutir.npz", cwd=tmp_path)
    assert r.returncode == 2 and not (tmp_path / "t.lutir.npz").exists()
    assert r.stderr.strip() == (
        "lutnet build: error: care set: split 'test' is the test split; the care set must come from the training split "
        "(split='train'): choosing which rows to rewrite on test inputs leaks the test set into the circuit. Measure "
        "the test set afterwards with lutnet.transforms.disagreement")
    r = run("build", "net.lutir.npz", "--dont-care-ir", "x.lutir.npz", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.strip() == (
        "lutnet build: error: --dont-care-ir writes the rewritten IR of --dont-care: give --dont-care CARE too")
    np.savez(tmp_path / "empty.npz", codes=np.zeros((0, 4), np.int64), split=np.array("train"))
    r = run("build", "net.lutir.npz", "--dont-care", "empty.npz", cwd=tmp_path)
    assert r.returncode == 2 and "the care set is empty" in r.stderr


def test_bench_dontcare_rows_and_table(small_model, tmp_path):
    import argparse
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_dontcare", Path(__file__).resolve().parents[1] / "benchmarks"
                                                  / "bench_dontcare.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    from lutnet.frontend import frontend_of
    model, X = small_model
    ir = frontend_of(model).to_ir(model)
    y = np.arange(len(X)) % 10
    a = argparse.Namespace(rules="support,zero", yosys=False, yosys_design=False, yosys_rules="", rtl="", runs=str(tmp_path),
                           jobs=1, cache_dir=None)
    rows = bench.run_model("tiny", model, ir, X[:80], y[:80], X[80:], y[80:], 0.25, a)
    assert [r["rule"] for r in rows] == ["support", "zero"]
    for r in rows:
        assert r["care_mismatches"] == 0 and r["harness_mismatches"] == 0 and r["harness_levels"] == "model"
        assert r["care_samples"] == 80 and r["rewritten"] > 0 and r["est_before"] > 0 and r["est_after"] > 0
    text = bench.format_rows(rows)
    assert "tiny" in text and "support" in text and "test out/cls diff %" in text


def test_care_set_from_a_training_run_directory(tmp_path):
    """``--dont-care RUN_DIR``: the care set is the training split of the dataset the run's checkpoint
    names (loaded through lutnet.data and lutnet.frontend, not the CLI); a directory without a checkpoint
    gets one pinned error."""
    from lutnet.cli import main
    from lutnet.data import load_config_data
    from lutnet.frontend import load_any_checkpoint
    from lutnet.transforms import from_care_file
    assert main(["train", "digits-s", "-o", str(tmp_path / "run"), "--epochs", "1", "--limit", "300", "-q"]) == 0
    t = from_care_file(tmp_path / "run")
    assert t.split == "train" and t.source.startswith("digits training split (")
    _, _, cfg = load_any_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert len(t.X) == len(load_config_data(cfg.data).X_train) and not t.codes
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"empty: no checkpoint in this directory; --dont-care takes a care file"):
        from_care_file(tmp_path / "empty")
