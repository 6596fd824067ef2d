import zipfile

import numpy as np
import pytest

from lutnet.errors import IRFormatError, OutputExistsError
from lutnet.ir import LayerIR, NetworkIR, QuantSpec, code_to_pattern, lut_cost, pattern_to_code
from lutnet.testing import random_network_ir
from lutnet.vectors import random_input_codes


def reference_eval(ir, codes):
    """Slow, obviously-correct evaluator: per sample, per neuron, build the address bit by bit."""
    out = []
    for row in codes:
        c = list(row)
        for L in ir.layers:
            nxt = []
            for k in range(L.out_features):
                addr, shift = 0, 0
                for j in range(L.indices.shape[1]):
                    if L.indices[k, j] < 0:
                        continue
                    b = int(L.in_bits[k, j])
                    addr |= (int(c[L.indices[k, j]]) & ((1 << b) - 1)) << shift
                    shift += b
                nxt.append(int(L.table(k)[addr]))
            c = nxt
        out.append(c)
    return np.array(out)


@pytest.mark.parametrize("signed", [False, True])
def test_evaluator_matches_reference(signed):
    ir = random_network_ir(3, n_inputs=7, widths=(5, 4, 3), fan_in=[3, 2, 4], bits=[2, 1, 3], signed=signed)
    x = random_input_codes(ir, 300, seed=1)
    np.testing.assert_array_equal(ir.evaluate(x), reference_eval(ir, x))


def test_pattern_code_roundtrip():
    codes = np.arange(-8, 8)
    pats = code_to_pattern(codes, 4)
    assert pats.min() == 0 and pats.max() == 15
    np.testing.assert_array_equal(pattern_to_code(pats, 4, True), codes)


def test_quantspec_rounds_half_to_even_and_clamps():
    q = QuantSpec(3, True, np.float32(0.5), np.float32(0))
    np.testing.assert_array_equal(q.to_codes([0.25, 0.75, -0.25, 100.0, -100.0]), [0, 2, 0, 3, -4])
    np.testing.assert_allclose(q.to_values([3, -4]), [1.5, -2.0])


def test_lut_cost_formula():
    # LogicNets LUTCost(X, Y) = Y/3 (2^(X-4) - (-1)^X); for X <= 6 one LUT per output bit
    assert lut_cost(12, 3) == pytest.approx(3 / 3 * (2 ** 8 - 1))
    assert lut_cost(7, 2) == pytest.approx(2 / 3 * (8 + 1))
    assert lut_cost(4, 2) == 2 and lut_cost(6, 5) == 5


def test_save_load_roundtrip(tmp_path):
    ir = random_network_ir(5, widths=(6, 3), signed=True)
    p = ir.save(tmp_path / "m.npz")
    ir2 = NetworkIR.load(p)
    x = random_input_codes(ir, 500)
    np.testing.assert_array_equal(ir.evaluate(x), ir2.evaluate(x))
    assert ir2.input_quant == ir.input_quant and ir2.metadata == ir.metadata


def test_save_refuses_to_overwrite(tmp_path):
    ir = random_network_ir(5)
    p = tmp_path / "m.npz"
    p.write_bytes(b"user data")
    with pytest.raises(OutputExistsError, match=r"m.npz exists; pass overwrite=True \(CLI: --force\)"):
        ir.save(p)
    assert p.read_bytes() == b"user data"
    ir.save(p, overwrite=True)
    NetworkIR.load(p)


def test_corrupt_file_is_a_clear_error(tmp_path):
    ir = random_network_ir(5)
    p = ir.save(tmp_path / "m.npz")
    data = bytearray(p.read_bytes())
    (tmp_path / "trunc.npz").write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(IRFormatError, match="is not a readable lutnet IR file"):
        NetworkIR.load(tmp_path / "trunc.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    with pytest.raises(IRFormatError, match="is not a readable lutnet IR file"):
        NetworkIR.load(tmp_path / "junk.npz")


def _rewrite(src, dst, edit):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            zout.writestr(item, edit(item.filename, zin.read(item.filename)))


def test_tampered_table_fails_checksum(tmp_path):
    ir = random_network_ir(5)
    p = ir.save(tmp_path / "m.npz")

    def flip(name, blob):
        if name == "layer0_tables.npy":
            blob = blob[:-1] + bytes([blob[-1] ^ 1])
        return blob
    _rewrite(p, tmp_path / "bad.npz", flip)
    with pytest.raises(IRFormatError, match="checksum mismatch, the file is corrupt"):
        NetworkIR.load(tmp_path / "bad.npz")


def test_wrong_version_is_a_clear_error(tmp_path):
    ir = random_network_ir(5)
    p = ir.save(tmp_path / "m.npz")

    def bump(name, blob):
        if name == "__header__.npy":
            return blob.replace(b'"version": 2', b"\"version\": 7")
        return blob
    _rewrite(p, tmp_path / "v7.npz", bump)
    with pytest.raises(IRFormatError, match=r"IR format version 7 is newer than this lutnet reads \(4\): upgrade lutnet"):
        NetworkIR.load(tmp_path / "v7.npz")


def test_validate_catches_width_disagreement():
    ir = random_network_ir(2, widths=(4, 3), bits=2)
    L = ir.layers[1]
    ir.layers[1] = LayerIR(L.name, L.indices, L.in_bits + 1, L.in_signed, L.out_bits, L.out_signed,
                           L.tables, L.offsets)
    with pytest.raises(IRFormatError, match=r"layer 1 \('layer1'\): neuron 0 input 0 declares 3 bits but its source produces 2 bits"):
        ir.validate()


def test_validate_catches_table_size_and_range():
    ir = random_network_ir(2, widths=(4,), bits=2, fan_in=2)
    L = ir.layers[0]
    short = LayerIR(L.name, L.indices, L.in_bits, L.in_signed, L.out_bits, L.out_signed,
                    L.tables[:-4], np.minimum(L.offsets, L.tables.size - 4))
    ir.layers[0] = short
    with pytest.raises(IRFormatError, match="has a table of 12 rows, but its inputs have 4 address bits"):
        ir.validate()
    bad = L.tables.copy()
    bad[0] = 7
    ir.layers[0] = LayerIR(L.name, L.indices, L.in_bits, L.in_signed, L.out_bits, L.out_signed, bad, L.offsets)
    with pytest.raises(IRFormatError, match="neuron 0's table holds codes outside its 2-bit output encoding"):
        ir.validate()


def test_evaluate_rejects_out_of_range_codes():
    ir = random_network_ir(1, bits=2)
    with pytest.raises(ValueError, match=r"input codes must lie in \[0, 3\]"):
        ir.evaluate(np.full((2, ir.n_inputs), 4))
