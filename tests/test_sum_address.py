"""Sum-address (adder) neurons: the IR semantics, the SumAddress transformation (before/after equal,
the wide concatenated tables gone), and wide-code PolyLUT-Add models bit-exact at every level."""
import shutil

import numpy as np
import pytest

from lutnet.errors import IRFormatError, LutnetError
from lutnet.ir import LayerIR, NetworkIR, QuantSpec
from lutnet.transforms.sum_address import SumAddress, expand_sum_address

TOOLS = ("g++", "verilator", "iverilog", "yosys")
ALL_LEVELS = ("model", "ir", "onnx", "cpp", "verilog", "icarus", "postsynth")


def _codes(bits, signed):
    r = np.arange(1 << bits)
    return np.where(signed & (r >= (1 << (bits - 1))), r - (1 << bits), r)


def adder_ir(bits=6, breaks=(3,)):
    """8 inputs -> 8 identity-like neurons -> 4 adder neurons f(a + b); neurons in ``breaks`` are
    perturbed in one row so they are no function of the sum."""
    rng = np.random.default_rng(0)
    t0 = np.tile(_codes(bits, True), (8, 1))
    L0 = LayerIR.from_dense("l0", np.arange(8).reshape(8, 1), bits, True, bits, True, t0)
    a = np.arange(1 << (2 * bits))
    fa, fb = _codes(bits, True)[a & ((1 << bits) - 1)], _codes(bits, True)[a >> bits]
    t1 = np.stack([np.clip((fa + fb + k) // 4, -16, 15) for k in range(4)])
    for k in breaks:
        t1[k, 5] = t1[k, 5] + (1 if t1[k, 5] < 15 else -1)
    L1 = LayerIR.from_dense("l1", rng.permutation(8).reshape(4, 2), bits, True, 5, True, t1, kind="add")
    return NetworkIR(QuantSpec(bits, True, np.float32(1 / 32), np.float32(0)), 8, [L0, L1],
                     QuantSpec(5, True, np.float32(1), np.float32(0)), {}).validate()


def all_codes(ir, n=4000, seed=1):
    return np.random.default_rng(seed).integers(ir.input_quant.code_min, ir.input_quant.code_max + 1,
                                                size=(n, ir.n_inputs))


def test_sum_address_rewrite_is_exact_and_removes_the_wide_tables():
    ir = adder_ir()
    new, report = SumAddress(kinds=("add",)).apply(ir)
    L = new.layers[1]
    assert L.sum_address.tolist() == [True, True, True, False]  # neuron 3 is not a function of a + b
    assert L.table_rows.tolist() == [128, 128, 128, 4096] and L.address_bits.tolist() == [7, 7, 7, 12]
    assert not ir.layers[1].sum_address.any() and ir.layers[1].table_rows.tolist() == [4096] * 4  # input kept
    assert report.rewritten == 3 and report.layers[0]["sum_functions"] == 3
    assert new.lut_cost() < ir.lut_cost() / 3
    X = all_codes(ir)
    np.testing.assert_array_equal(new.evaluate(X), ir.evaluate(X))
    assert new.metadata["sum_address"] == {"l1": 3}
    back = expand_sum_address(new)  # the inverse rewrite restores the original tables
    assert not back.layers[1].sum_address.any() and "sum_address" not in back.metadata
    np.testing.assert_array_equal(back.layers[1].tables, ir.layers[1].tables)


def test_auto_keeps_narrow_tables_always_rewrites_them():
    ir = adder_ir(bits=3, breaks=())
    auto, r_auto = SumAddress(kinds=("add",)).apply(ir)
    assert r_auto.rewritten == 0 and not auto.layers[1].sum_address.any()  # 6-input tables: 1 LUT per bit
    always, r_always = SumAddress(kinds=("add",), mode="always").apply(ir)
    assert r_always.rewritten == 4
    X = all_codes(ir)
    np.testing.assert_array_equal(always.evaluate(X), ir.evaluate(X))


def test_sum_address_files_round_trip_as_version_3(tmp_path):
    new = SumAddress(kinds=("add",)).apply(adder_ir())[0]
    back = NetworkIR.load(new.save(tmp_path / "a.npz"))
    np.testing.assert_array_equal(back.layers[1].sum_address, new.layers[1].sum_address)
    X = all_codes(new)
    np.testing.assert_array_equal(back.evaluate(X), new.evaluate(X))
    import json
    for name, want in (("a.npz", 3), ("plain.npz", 2)):
        if name == "plain.npz":
            adder_ir().save(tmp_path / name)
        with np.load(tmp_path / name) as z:
            header = json.loads(z["__header__"].tobytes().decode())
        assert header["version"] == want  # a network without adder neurons stays readable by older lutnet


def test_bad_mode_and_bad_table_size_errors():
    with pytest.raises(LutnetError, match=r"^SumAddress: mode must be one of auto, always, got 'fast'$"):
        SumAddress(mode="fast")
    ir = SumAddress(kinds=("add",)).apply(adder_ir())[0]
    L = ir.layers[1]
    bad = LayerIR(L.name, L.indices, L.in_bits, L.in_signed, L.out_bits, L.out_signed, L.tables[1:],
                  np.concatenate([[0], L.offsets[1:] - 1]), L.kind, L.attrs, L.sum_address)
    with pytest.raises(IRFormatError, match=r"layer 1 \('l1'\): neuron 0 has a table of 127 rows, but the sum of "
                                            r"its inputs needs 7 address bits \(2\*\*7 = 128 rows\)"):
        NetworkIR(ir.input_quant, 8, [ir.layers[0], bad], ir.output_quant, {}).validate()


@pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS), reason=f"needs {', '.join(TOOLS)}")
def test_sum_address_ir_bit_exact_at_every_hardware_level(tmp_path):
    from lutnet.harness import check_levels
    ir = SumAddress(kinds=("add",)).apply(adder_ir())[0]
    r = check_levels(ir, all_codes(ir, 400), levels=("ir", "onnx", "cpp", "verilog", "icarus", "postsynth"),
                     work_dir=tmp_path)
    assert r.ok, str(r)


@pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS), reason=f"needs {', '.join(TOOLS)}")
def test_wide_code_polylut_add_model_uses_adders_and_is_bit_exact(tmp_path):
    torch = pytest.importorskip("torch")
    from lutnet.export import to_ir
    from lutnet.harness import check_levels, random_input_codes
    from lutnet.nn import LUTNet
    from lutnet.nn.assemble import tree_layers
    from lutnet.quant import SignedActQuant
    net = LUTNet([*tree_layers(12, 6, 2, "poly", degree=2, add=2, add_bits=6, input_quant=SignedActQuant,
                               input_bit_width=3, output_bit_width=3, seed=1, name="a0"),
                  *tree_layers(6, 3, 3, "linear", add=2, add_bits=6, output_quant=SignedActQuant,
                               output_bit_width=4, seed=2, name="a1")])
    g = torch.Generator().manual_seed(0)
    x = torch.rand(512, 12, generator=g) * 2.4 - 1.2
    with torch.no_grad():
        for layer in net.layers:
            layer.bn.momentum = None
        net.train()
        for _ in range(3):
            net(x)
    net.eval()
    ir = to_ir(net)
    adders = [L for L in ir.layers if L.kind == "add"]
    assert all(L.sum_address.all() for L in adders), [L.sum_address for L in adders]  # 2 x 6 bits: adders win
    assert all((L.address_bits == 7).all() for L in adders)
    codes = random_input_codes(ir, 300, seed=1)
    r = check_levels(net, codes, levels=ALL_LEVELS, work_dir=tmp_path)
    assert r.ok, str(r)


def test_estimator_counts_the_adders():
    from lutnet.rtl.estimate import estimate_network
    ir = adder_ir()
    new = SumAddress(kinds=("add",)).apply(ir)[0]
    before = [e["luts"] for e in estimate_network(ir)[1]]
    after = estimate_network(new)[1]
    assert [e.get("adder_luts", 0) for e in after] == [7, 7, 7, 0]  # one 7-bit carry-chain adder each
    assert sum(e["luts"] for e in after[:3]) < sum(before[:3]) / 3
    assert after[3]["luts"] == before[3]
