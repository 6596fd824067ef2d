"""IR stages (thermometer encoder, GroupSum head, argmax): semantics against a plain reference,
validation errors, file format versions."""
import json
import zipfile

import numpy as np
import pytest

from lutnet.errors import IRFormatError
from lutnet.ir import GroupSum, NetworkIR, QuantSpec, ThermometerEncoder
from lutnet.testing import random_network_ir


def _reference(ir, codes):
    """Stage semantics written out sample by sample (the definition, not the vectorized evaluator)."""
    outs = []
    for row in codes:
        x = [int(v) for v in row]
        if ir.encoder is not None:
            x = [int(c >= t) for c, ts in zip(x, ir.encoder.thresholds) for t in ts]
        for L in ir.layers:
            y = []
            for k in range(L.out_features):
                addr, shift = 0, 0
                for j in range(L.indices.shape[1]):
                    if L.indices[k, j] >= 0:
                        b = int(L.in_bits[k, j])
                        addr |= (x[L.indices[k, j]] & ((1 << b) - 1)) << shift
                        shift += b
                y.append(int(L.table(k)[addr]))
            x = y
        if ir.head is not None:
            x = [sum(v for v, g in zip(x, ir.head.groups) if g == c) for c in range(ir.head.n_classes)]
        if ir.argmax:
            x = [max(range(len(x)), key=lambda i: (x[i], -i))]
        outs.append(x)
    return np.array(outs, np.int64)


@pytest.mark.parametrize("seed", range(6))
def test_stages_match_the_reference(seed):
    rng = np.random.default_rng(seed)
    ib, isg = int(rng.integers(1, 7)), bool(rng.integers(2))
    n_inputs = int(rng.integers(1, 5))
    ir = random_network_ir(seed, n_inputs=n_inputs, widths=(5, int(rng.integers(3, 7))),
                           input_bits=ib, input_signed=isg, bits=int(rng.integers(1, 4)), signed=bool(seed % 2),
                           thermometer=[int(v) for v in rng.integers(1, 4, n_inputs)] if seed % 3 else None,
                           n_classes=int(rng.integers(1, 4)) if seed != 4 else None, argmax=seed % 2 == 0)
    q = ir.input_quant
    codes = rng.integers(q.code_min, q.code_max + 1, (300, ir.n_inputs))
    np.testing.assert_array_equal(ir.evaluate(codes), _reference(ir, codes))
    assert ir.evaluate(codes).shape == (300, ir.n_outputs)


def test_ties_give_the_first_index():
    ir = random_network_ir(3, n_inputs=2, widths=(4,), fan_in=1, bits=1, n_classes=2, argmax=True)
    L = ir.layers[0]
    L.tables[:] = 1  # every output 1: the class sums tie when the groups have equal sizes
    ir.head = GroupSum(np.array([0, 1, 0, 1]))
    ir.validate()
    assert ir.evaluate(np.array([[0, 1], [1, 0]])).tolist() == [[0], [0]]
    assert ir.predict(np.zeros((3, 2), np.float32)).tolist() == [0, 0, 0]


def test_head_scores_are_exact_signed_sums_and_output_quant_is_derived():
    ir = random_network_ir(7, n_inputs=3, widths=(6,), bits=3, signed=True, n_classes=2)
    # 3-bit signed outputs in [-4, 3]; a class of k outputs spans [-4k, 3k]
    sizes = np.bincount(ir.head.groups)
    lo, hi = -4 * int(sizes.max()), 3 * int(sizes.max())
    bits = max((-lo - 1).bit_length(), hi.bit_length()) + 1
    assert (ir.output_quant.bits, ir.output_quant.signed) == (bits, True)
    codes = np.random.default_rng(1).integers(-4, 4, (50, 3))
    layer_out = ir.evaluate(codes, return_all=True)[0]
    want = np.stack([layer_out[:, ir.head.groups == c].sum(1) for c in range(2)], 1)
    np.testing.assert_array_equal(ir.evaluate(codes), want)
    with pytest.raises(IRFormatError, match="head: output_quant is 3-bit signed, but the class scores are"):
        NetworkIR(ir.input_quant, 3, ir.layers, QuantSpec(3, True, 1.0, 0.0), {}, None, ir.head).validate()


def test_encoder_bits_are_thermometer_codes():
    enc = ThermometerEncoder([np.array([-2, 0, 3]), np.array([1])])
    codes = np.array([[-3, 0], [0, 1], [3, 5], [-2, -1]])
    assert enc.encode(codes).tolist() == [[0, 0, 0, 0], [1, 1, 0, 1], [1, 1, 1, 1], [1, 0, 0, 0]]


def test_thresholds_not_increasing_is_an_error():
    ir = random_network_ir(1, n_inputs=4, input_bits=3, thermometer=2)
    ir.encoder.thresholds[3] = np.array([2, 2, 5])
    with pytest.raises(IRFormatError, match=r"encoder: thresholds of feature 3 are not strictly increasing "
                                            r"\(\[2, 2, 5\]\)"):
        ir.validate()


def test_encoder_feature_count_and_empty_features():
    ir = random_network_ir(1, n_inputs=4, input_bits=3, thermometer=2)
    with pytest.raises(IRFormatError, match="encoder: thresholds are given for 3 features, but the network has n_inputs=4"):
        NetworkIR(ir.input_quant, 4, ir.layers, ir.output_quant, {},
                  ThermometerEncoder(ir.encoder.thresholds[:3])).validate()
    enc = ThermometerEncoder([*ir.encoder.thresholds[:3], []])
    with pytest.raises(IRFormatError, match="encoder: feature 3 has no thresholds"):
        NetworkIR(ir.input_quant, 4, ir.layers, ir.output_quant, {}, enc).validate()


def test_groups_not_covering_the_outputs_is_an_error():
    ir = random_network_ir(2, n_inputs=3, widths=(9,), n_classes=3)
    g = ir.head.groups.copy()
    g[[4, 7]] = -1
    ir.head = GroupSum(g)
    with pytest.raises(IRFormatError, match="head: outputs 4, 7 of the last layer belong to no class"):
        ir.validate()
    ir.head = GroupSum(np.array([0, 1, 3, 0, 1, 3, 0, 1, 3]))
    with pytest.raises(IRFormatError, match="head: class 2 has no outputs"):
        ir.validate()
    ir.head = GroupSum(np.array([0, 1, 0, 1, 0, 1, 0, 1]))
    with pytest.raises(IRFormatError, match="head: output 8 of the last layer belongs to no class"):
        ir.validate()


@pytest.mark.parametrize("stages", [dict(), dict(thermometer=2), dict(n_classes=2), dict(argmax=True),
                                    dict(thermometer=[1, 2, 3], n_classes=3, argmax=True)])
def test_save_load_round_trip(tmp_path, stages):
    ir = random_network_ir(5, n_inputs=3, widths=(4, 5), input_bits=3, **stages)
    back = NetworkIR.load(ir.save(tmp_path / "m.npz"))
    assert back.encoder == ir.encoder and back.head == ir.head and back.argmax == ir.argmax
    codes = np.random.default_rng(0).integers(0, 8, (100, 3))
    np.testing.assert_array_equal(back.evaluate(codes), ir.evaluate(codes))
    assert back.lut_cost() == ir.lut_cost()
    assert [r["layer"] for r in back.summary()] == [r["layer"] for r in ir.summary()]


def _rewrite_header(src, dst, edit):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            blob = zin.read(item.filename)
            if item.filename == "__header__.npy":
                blob = edit(blob)
            zout.writestr(item, blob)


def _version1_file(ir, path):
    """A file exactly as the version-1 writer made it (no stages key, version 1, its checksum)."""
    arrays, header = ir._arrays_and_header()
    header.pop("stages")
    header["version"] = 1
    header["checksum"] = NetworkIR._checksum(header, arrays)
    blob = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez_compressed(f, __header__=blob, **arrays)
    return path


def test_version_1_file_loads_without_stages(tmp_path):
    ir = random_network_ir(4)
    back = NetworkIR.load(_version1_file(ir, tmp_path / "v1.npz"))
    assert back.encoder is None and back.head is None and back.argmax is False
    codes = np.random.default_rng(0).integers(0, 4, (20, 8))
    np.testing.assert_array_equal(back.evaluate(codes), ir.evaluate(codes))


def test_newer_version_is_refused(tmp_path):
    p = random_network_ir(4, thermometer=1).save(tmp_path / "m.npz")
    _rewrite_header(p, tmp_path / "v5.npz", lambda b: b.replace(b'"version": 2', b'"version": 5'))
    with pytest.raises(IRFormatError, match=r"format version 5 is newer than this lutnet reads \(4\): upgrade lutnet"):
        NetworkIR.load(tmp_path / "v5.npz")


def test_lut_cost_counts_stages():
    ir = random_network_ir(6, n_inputs=2, input_bits=8, widths=(6,), bits=1, thermometer=3, n_classes=2, argmax=True)
    costs = ir.stage_costs()
    assert set(costs) == {"encoder", "head", "argmax"}
    real = int(ir.encoder.comparators(ir.input_quant).sum())
    n = ir.encoder.comparator_inputs(ir.input_quant)
    assert int((n > 0).sum()) == real
    assert costs["encoder"] == 2.0 * (n > 6).sum() + (n[(n > 1) & (n <= 6)] > 0).sum()  # LUT6 chain / one LUT
    assert ir.lut_cost() == pytest.approx(ir.layers[0].lut_cost() + sum(costs.values()))


def _run_tree(tree, bits):
    """Evaluate a CompressorTree on (N, n_inputs) 0/1 bits: counters count ones, rows are added."""
    vals = [bits[:, i] for i in range(tree.n_inputs)]
    for _, ins, outs in tree.counters:
        assert 3 <= len(ins) <= 6 and 1 <= len(outs) <= len(ins).bit_length()  # every output: a <= 6-input function
        n = sum(vals[i] for i in ins)
        vals += [(n >> j) & 1 for j in range(len(outs))]
    rows = [sum(vals[i] << w for w, i in enumerate(r) if i >= 0) for r in tree.rows]
    return rows[0] + rows[1]


@pytest.mark.parametrize("widths", [[1], [1, 1], [1] * 3, [1] * 7, [1] * 120, [2, 3, 1], [3] * 20, [1, 4, 2, 2, 5]])
def test_compressor_tree_sums_exactly(widths):
    from lutnet.ir import compressor_tree
    tree = compressor_tree(widths)
    rng = np.random.default_rng(len(widths))
    codes = np.stack([rng.integers(0, 1 << w, 500) for w in widths], 1)
    codes[0] = (1 << np.asarray(widths)) - 1  # the largest sum
    bits = np.concatenate([(codes[:, [k]] >> np.arange(w)) & 1 for k, w in enumerate(widths)], 1)
    assert np.array_equal(_run_tree(tree, bits), codes.sum(1))
    assert [len(r) for r in tree.rows] == [int(codes[0].sum()).bit_length()] * 2


def test_popcount_head_costs_about_one_lut_per_bit():
    from lutnet.ir import adder_tree, compressor_tree
    tree = compressor_tree([1] * 120)
    assert tree.luts() == 127 and tree.passes == 5  # 42 counters (122 output bits) + a 5-bit adder
    assert adder_tree([(0, 1)] * 120)[0] == 348  # the balanced adder tree it replaces


def test_comparator_cost_counts_only_the_bits_it_reads():
    from lutnet.ir import QuantSpec, ThermometerEncoder
    q = QuantSpec(8, False, 1 / 255, 0.0)
    enc = ThermometerEncoder([[128], [192], [129], [64, 128, 192], [1]])
    # x >= 128: the top bit (a wire); x >= 192 / x >= 64: two bits (one LUT); x >= 129 / x >= 1: all 8 (two LUT6s)
    assert enc.comparator_inputs(q).tolist() == [1, 2, 8, 2, 1, 2, 8]
    assert enc.lut_cost(q) == 7.0
    qs = QuantSpec(8, True, 1 / 128, 0.0)  # signed: x >= 0 is the inverted sign bit
    assert ThermometerEncoder([[0], [-64]]).comparator_inputs(qs).tolist() == [1, 2]


@pytest.mark.parametrize("widths,shifts", [([1] * 12, [1] * 11 + [0]), ([1] * 7, [0, 1, 2, 3, 0, 1, 2]),
                                           ([2, 3, 1], [1, 0, 2]), ([1] * 30, [2] * 30)])
def test_compressor_tree_sums_shifted_operands_exactly(widths, shifts):
    from lutnet.ir import compressor_tree
    tree = compressor_tree(widths, shifts)
    rng = np.random.default_rng(len(widths))
    codes = np.stack([rng.integers(0, 1 << w, 500) for w in widths], 1)
    codes[0] = (1 << np.asarray(widths)) - 1  # the largest sum
    bits = np.concatenate([(codes[:, [k]] >> np.arange(w)) & 1 for k, w in enumerate(widths)], 1)
    want = (codes << np.asarray(shifts)).sum(1)
    assert np.array_equal(_run_tree(tree, bits), want)
    assert [len(r) for r in tree.rows] == [int(want[0]).bit_length()] * 2


def test_weighted_head_scores_round_trip_and_version(tmp_path):
    ir = random_network_ir(7, n_inputs=3, widths=(6,), bits=3, signed=True, n_classes=2, argmax=True)
    plain_path = ir.save(tmp_path / "plain.npz")
    w = np.array([1, 2, 4, 1, 2, 1])
    ir.head = GroupSum(ir.head.groups, weights=w)
    b, sg = ir.head.score_encoding(ir.layers[-1].out_bits, ir.layers[-1].out_signed)
    ir.output_quant = QuantSpec(b, sg, np.float32(1), np.float32(0))
    ir.validate()
    codes = np.random.default_rng(0).integers(-4, 4, (300, 3))
    bits = ir.evaluate(codes, return_all=True)[0]
    scores = ir.evaluate(codes, return_all=True)[-2]
    for c in range(2):
        m = ir.head.members(c)
        np.testing.assert_array_equal(scores[:, c], (bits[:, m] * w[m]).sum(1))
    lo, hi = ir.head.score_ranges(ir.layers[-1].out_bits, ir.layers[-1].out_signed)
    assert np.all(scores >= lo) and np.all(scores <= hi)
    back = NetworkIR.load(ir.save(tmp_path / "w.npz"))
    assert back.head == ir.head and back.head != GroupSum(ir.head.groups)
    np.testing.assert_array_equal(back.evaluate(codes), ir.evaluate(codes))
    header = lambda p: json.loads(np.load(p)["__header__"].tobytes().decode())
    assert header(tmp_path / "w.npz")["version"] == 4 and header(plain_path)["version"] == 2
    assert GroupSum(ir.head.groups, weights=np.ones(6)).weights is None  # all 1: no weights, written as before


def test_head_weights_errors():
    with pytest.raises(IRFormatError, match=r"head: weights\[1\] = 3 is not a power of two 1, 2, 4, \.\.\., 32768; "
                                            r"give every output a power-of-two weight \(a shift in hardware\)"):
        GroupSum(np.array([0, 0, 1]), weights=[1, 3, 2])
    with pytest.raises(IRFormatError, match=r"head: weights\[0\] = 65536 is not a power of two 1, 2, 4, \.\.\., 32768"):
        GroupSum(np.array([0, 1]), weights=[65536, 1])
    with pytest.raises(IRFormatError, match=r"head: weights\[0\] = 0 is not a power of two"):
        GroupSum(np.array([0, 1]), weights=[0, 1])
    with pytest.raises(IRFormatError, match="head: weights has 2 entries for 3 outputs; give one weight per output"):
        GroupSum(np.array([0, 0, 1]), weights=[1, 2])
