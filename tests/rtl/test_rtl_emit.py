"""Emitter: structure, port packing, latency, table styles, lint, bad input."""
import json
import shutil

import numpy as np
import pytest

from lutnet.errors import IRFormatError, OutputExistsError
from lutnet.rtl import emit
from lutnet.rtl.emit import latency_of, load_info, write_verilog
from lutnet.testing import random_network_ir

needs_verilator = pytest.mark.skipif(shutil.which("verilator") is None, reason="verilator not installed")


def small_ir(signed=False, seed=0, **kw):
    return random_network_ir(seed, n_inputs=8, widths=(6, 4), fan_in=3, bits=2, signed=signed, **kw)


@pytest.mark.parametrize("pipeline,input_reg,output_reg,expected", [
    (1, False, True, 2), (0, False, False, 0), (0, True, True, 2), (1, True, True, 3), (2, False, True, 1)])
def test_latency(tmp_path, pipeline, input_reg, output_reg, expected):
    info = write_verilog(small_ir(), tmp_path / "v", pipeline=pipeline, input_reg=input_reg,
                         output_reg=output_reg)
    assert info.latency_cycles == expected == latency_of(2, pipeline, input_reg, output_reg)
    top = (tmp_path / "v" / "lutnet_top.v").read_text()
    assert f"Latency: {expected} clock cycle" in top
    assert top.count("always @(posedge clk)") == (expected + (1 if expected else 0))


def test_port_packing_and_manifest(tmp_path):
    ir = random_network_ir(3, n_inputs=5, widths=(4, 3), fan_in=2, bits=3, signed=True)
    info = write_verilog(ir, tmp_path / "v")
    assert info.input_width == 15 and info.output_width == 9
    assert [p["lsb"] for p in info.input_ports] == [0, 3, 6, 9, 12]
    assert [p["lsb"] for p in info.output_ports] == [0, 3, 6]
    assert all(p["signed"] for p in info.output_ports)
    m = json.loads((tmp_path / "v" / emit.MANIFEST).read_text())
    assert m["latency_cycles"] == info.latency_cycles and m["top"] == "lutnet_top"
    assert load_info(tmp_path / "v").files == info.files
    assert (tmp_path / "v" / "lutnet_top.lutir").is_file()


def test_table_styles_same_content(tmp_path):
    ir = small_ir(signed=True)
    rom = write_verilog(ir, tmp_path / "rom", table_style="rom")
    case = write_verilog(ir, tmp_path / "case", table_style="case")
    assert rom.mem_files and not case.mem_files
    L = ir.layers[0]
    t = L.table(0) & 3
    mem = (tmp_path / "rom" / rom.mem_files[0]).read_text().split()
    assert [int(x, 2) for x in mem] == t.tolist()
    text = (tmp_path / "case" / "lutnet_top_t0.v").read_text()
    rows = [ln.split(":")[1].strip() for ln in text.splitlines() if "'h" in ln and ": t =" in ln]
    assert [int(r.split("'b")[1].rstrip(";"), 2) for r in rows] == t.tolist()
    for d in ("rom", "case"):
        assert 'rom_style = "distributed"' in (tmp_path / d / "lutnet_top_t0.v").read_text()


def test_identical_tables_share_a_module(tmp_path):
    ir = small_ir()
    L = ir.layers[0]
    L.tables[L.offsets[1]:L.offsets[2]] = L.table(0)
    info = write_verilog(ir, tmp_path / "v")
    assert info.n_table_modules == ir.layers[0].out_features + ir.layers[1].out_features - 1


def test_address_order_input0_in_lsbs(tmp_path):
    ir = small_ir()
    write_verilog(ir, tmp_path / "v")
    L = ir.layers[0]
    idx = L.indices[0]
    text = (tmp_path / "v" / "lutnet_top_l0.v").read_text()
    line = [ln for ln in text.splitlines() if " n0 (" in ln][0]
    # {input F-1, ..., input 0}: the last slice in the concatenation is input 0
    last = line.split(".a({")[1].split("})")[0].split(", ")[-1]
    assert last == f"x[{2 * idx[0] + 1}:{2 * idx[0]}]"


def test_bulk_formatting_helpers():
    v = np.array([0, 5, 255, 1 << 20])
    assert emit.bit_chars(v[:2], 4).tobytes() == b"00000101"
    assert emit.hex_chars(v[2:3], 2).tobytes() == b"ff"
    bits = emit.pack_bits(np.array([[1, 2, 3], [3, 0, 1]]), [2, 2, 2])
    lines = emit.bits_to_hex_lines(bits)
    assert lines == b"39\n13\n"
    back = emit.unpack_bits(emit.hex_lines_to_bits(lines, 6, 2), [2, 2, 2])
    assert back.tolist() == [[1, 2, 3], [3, 0, 1]]
    with pytest.raises(ValueError, match="not a hex"):
        emit.hex_lines_to_bits(b"x9\n", 6, 1)


def test_large_table_emission_is_fast(tmp_path):
    import time
    ir = random_network_ir(0, n_inputs=16, widths=(64, 5), fan_in=4, bits=3)
    for style in ("rom", "case"):
        t0 = time.perf_counter()
        write_verilog(ir, tmp_path / style, table_style=style)
        assert time.perf_counter() - t0 < 20  # 69 tables x 4096 rows, vectorized


def test_refuses_foreign_files(tmp_path):
    d = tmp_path / "v"
    d.mkdir()
    (d / "notes.txt").write_text("mine")
    with pytest.raises(OutputExistsError, match="notes.txt"):
        write_verilog(small_ir(), d)
    info = write_verilog(small_ir(), d, overwrite=True)
    assert (d / "notes.txt").read_text() == "mine"  # never deleted
    # re-emitting into our own directory is fine and removes only our stale files
    write_verilog(small_ir(seed=1), d, overwrite=True, table_style="case")
    assert not any((d / m).exists() for m in info.mem_files)
    assert (d / "notes.txt").exists()


def test_own_directory_can_be_rewritten(tmp_path):
    write_verilog(small_ir(), tmp_path / "v")
    write_verilog(small_ir(seed=2), tmp_path / "v")  # no error: only lutnet's files there


def test_inconsistent_ir_rejected(tmp_path):
    ir = small_ir()
    ir.layers[1].in_bits[0, 0] = 3
    with pytest.raises(IRFormatError, match="declares 3 bits"):
        write_verilog(ir, tmp_path / "v")
    assert not (tmp_path / "v").exists()


def test_bad_options(tmp_path):
    with pytest.raises(ValueError, match="table_style"):
        write_verilog(small_ir(), tmp_path / "a", table_style="bram")
    with pytest.raises(ValueError, match="identifier"):
        write_verilog(small_ir(), tmp_path / "b", top="1top")
    with pytest.raises(ValueError, match="pipeline"):
        write_verilog(small_ir(), tmp_path / "c", pipeline=-1)


@needs_verilator
@pytest.mark.parametrize("style", ["rom", "case"])
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("opts", [dict(pipeline=1), dict(pipeline=0, output_reg=False),
                                  dict(pipeline=2, input_reg=True)])
def test_lint_clean(tmp_path, style, signed, opts):
    from lutnet.rtl.lint import lint
    ir = random_network_ir(5, n_inputs=8, widths=(6, 4, 3), fan_in=3, bits=2, signed=signed)
    info = write_verilog(ir, tmp_path / "v", table_style=style, **opts)
    r = lint(info)
    assert r.ok, r.output
    assert lint(info, testbench=True).ok


@needs_verilator
def test_lint_clean_pruned_and_mixed_widths(tmp_path):
    """Pruned inputs (index -1), unused input features and mixed widths stay lint-clean."""
    from lutnet.ir import LayerIR, NetworkIR, QuantSpec
    from lutnet.rtl.lint import lint
    rng = np.random.default_rng(0)
    iq = QuantSpec(2, True, 0.5, 0)
    l0 = LayerIR.from_dense("l0", [[0, 1], [2, 3], [1, 2]], 2, True, 3, False, rng.integers(0, 8, (3, 16)))
    # neuron 1 of layer 1 has one pruned input; neuron 2 reads nothing (constant)
    idx = np.array([[0, 2], [1, -1], [-1, -1]])
    ib = np.where(idx >= 0, 3, 0)
    tabs = [rng.integers(-2, 2, 64), rng.integers(-2, 2, 8), np.array([1])]
    offs = np.cumsum([0] + [len(t) for t in tabs])
    l1 = LayerIR("l1", idx, ib, np.zeros_like(idx, bool), [2, 2, 2], [True] * 3, np.concatenate(tabs), offs)
    ir = NetworkIR(iq, 6, [l0, l1], QuantSpec(2, True, 1.0, 0)).validate()
    for style in ("rom", "case"):
        info = write_verilog(ir, tmp_path / style, table_style=style)
        r = lint(info)
        assert r.ok, r.output
