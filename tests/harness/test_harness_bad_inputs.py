"""Malformed inputs, systematically: every entry must fail with its pinned message and leave the
files it touches (and their directories) byte-for-byte and mtime-for-mtime as they were."""
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from lutnet.errors import ConfigError, IRFormatError, LutnetError, OutputExistsError, TableTooLargeError
from lutnet.ir import LayerIR, NetworkIR
from lutnet.testing import random_network_ir

IR = dict(seed=3, n_inputs=6, widths=(5, 3), fan_in=3, bits=2, signed=True)


def snapshot(paths):
    """{path: (bytes, mtime_ns)} of every file under/at ``paths`` (directories: their whole tree)."""
    snap = {}
    for p in map(Path, paths):
        files = [p] if p.is_file() else sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else []
        snap[str(p)] = "missing" if not p.exists() else None
        for f in files:
            snap[str(f)] = (f.read_bytes(), f.stat().st_mtime_ns)
    return snap


def saved_ir(tmp):
    return random_network_ir(**IR).save(tmp / "net.lutir")


def rewrite_ir_file(path, edit):
    """Re-save ``path``'s arrays/header after ``edit(arrays, header)``, with a valid checksum (so that
    loading reaches the consistency checks)."""
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(arrays.pop("__header__").tobytes().decode())
    header.pop("checksum")
    edit(arrays, header)
    header["checksum"] = NetworkIR._checksum(header, arrays)
    os.chmod(path, 0o644)
    with open(path, "wb") as f:
        np.savez_compressed(f, __header__=np.frombuffer(json.dumps(header).encode(), np.uint8), **arrays)
    return path


# ------------------------------------------------------------------ entries: setup(tmp) -> (action, protected)
def corrupt_ir(tmp):
    p = saved_ir(tmp)
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0xFF
    p.write_bytes(bytes(data))
    return lambda: NetworkIR.load(p), [p]


def truncated_ir(tmp):
    p = saved_ir(tmp)
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    return lambda: NetworkIR.load(p), [p]


def ir_bad_checksum(tmp):
    p = saved_ir(tmp)
    with np.load(p) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["layer0_tables"] = arrays["layer0_tables"].copy()
    arrays["layer0_tables"][0] ^= 1
    with open(p, "wb") as f:
        np.savez_compressed(f, **arrays)
    return lambda: NetworkIR.load(p), [p]


def ir_other_version(tmp):
    p = rewrite_ir_file(saved_ir(tmp), lambda a, h: h.update(version=99))
    return lambda: NetworkIR.load(p), [p]


def ir_not_ir(tmp):
    p = tmp / "other.npz"
    np.savez(p, x=np.arange(3))
    return lambda: NetworkIR.load(p), [p]


def ir_widths_disagree(tmp):
    def edit(a, h):
        a["layer1_in_bits"] = np.full_like(a["layer1_in_bits"], 3)
    p = rewrite_ir_file(saved_ir(tmp), edit)
    return lambda: NetworkIR.load(p), [p]


def ir_table_rows_disagree(tmp):
    def edit(a, h):
        a["layer0_offsets"] = a["layer0_offsets"] // 2
        a["layer0_tables"] = a["layer0_tables"][: a["layer0_offsets"][-1]]
    p = rewrite_ir_file(saved_ir(tmp), edit)
    return lambda: NetworkIR.load(p), [p]


def ir_codes_outside_encoding(tmp):
    def edit(a, h):
        a["layer1_tables"] = a["layer1_tables"].copy()
        a["layer1_tables"][5] = 7
    p = rewrite_ir_file(saved_ir(tmp), edit)
    return lambda: NetworkIR.load(p), [p]


def ir_index_out_of_range(tmp):
    def edit(a, h):
        a["layer1_indices"] = a["layer1_indices"].copy()
        a["layer1_indices"][0, 0] = 5
    p = rewrite_ir_file(saved_ir(tmp), edit)
    return lambda: NetworkIR.load(p), [p]


def ir_in_memory_widths_disagree(tmp):
    ir = random_network_ir(**IR)
    L = ir.layers[1]
    ir.layers[1] = LayerIR(L.name, L.indices, L.in_bits + 1, L.in_signed, L.out_bits, L.out_signed, L.tables,
                           L.offsets, L.kind)
    return lambda: ir.save(tmp / "bad.lutir"), [tmp]


def ir_save_existing(tmp):
    p = tmp / "net.lutir"
    p.write_text("my precious file")
    return lambda: random_network_ir(**IR).save(p), [tmp]


def onnx_save_existing(tmp):
    from lutnet.onnx_export import save_onnx
    p = tmp / "net.onnx"
    p.write_text("my precious file")
    return lambda: save_onnx(random_network_ir(**IR), p), [tmp]


def write_config(tmp, doc):
    p = tmp / "cfg.yaml"
    p.write_text(doc)
    return p


def config_action(doc):
    def setup(tmp):
        from lutnet.config import load_config
        p = write_config(tmp, doc)
        return lambda: load_config(p), [p]
    return setup


def checkpoint_other_model(tmp):
    from lutnet.builder import build_model
    from lutnet.checkpoint import load_checkpoint, save_checkpoint
    from lutnet.config import RunConfig, from_dict
    small = from_dict(RunConfig, {"name": "a", "model": {"layers": [4, 3], "fan_in": 2}})
    other = from_dict(RunConfig, {"name": "b", "model": {"layers": [5, 3], "fan_in": 2}})
    p = save_checkpoint(tmp / "a.ckpt", build_model(small.model, 6), other, 6)
    return lambda: load_checkpoint(p), [p]


def checkpoint_garbage(tmp):
    from lutnet.checkpoint import load_checkpoint
    p = tmp / "x.ckpt"
    p.write_bytes(b"\x00garbage" * 10)
    return lambda: load_checkpoint(p), [p]


def checkpoint_not_lutnet(tmp):
    from lutnet.checkpoint import load_checkpoint
    p = tmp / "x.ckpt"
    torch.save({"state_dict": {}}, p)
    return lambda: load_checkpoint(p), [p]


def verilog_foreign_dir(tmp):
    from lutnet.rtl import write_verilog
    d = tmp / "rtl"
    d.mkdir()
    (d / "notes.txt").write_text("mine")
    return lambda: write_verilog(random_network_ir(**IR), d), [d]


def verilog_over_file(tmp):
    from lutnet.rtl import write_verilog
    p = tmp / "rtl"
    p.write_text("a file, not a directory")
    return lambda: write_verilog(random_network_ir(**IR), p), [p]


def hls_foreign_dir(tmp):
    from lutnet import hls_backend
    d = tmp / "prj"
    d.mkdir()
    (d / "thesis.tex").write_text("mine")
    return lambda: hls_backend.convert_ir(random_network_ir(**IR), output_dir=str(d)).write(), [d]


def brevitas_table_too_large(tmp):
    from lutnet.export import to_ir
    from lutnet.nn import LUTLayer, LUTNet
    net = LUTNet([LUTLayer(8, 2, 6, input_quant="unsigned", input_bit_width=4, seed=0)])
    return lambda: to_ir(net, max_rows=1 << 20), []


def keras_table_too_large(tmp):
    pytest.importorskip("qkeras")
    import tensorflow as tf

    from lutnet.keras import LUTLayer, to_ir
    model = tf.keras.Sequential([tf.keras.Input((8,)), LUTLayer(2, 6, input_quantizer="quantized_relu(4,0)")])
    return lambda: to_ir(model, max_rows=1 << 20), []


def codes_out_of_range(tmp):
    ir = random_network_ir(**IR)
    return lambda: ir.evaluate(np.full((2, 6), 2)), []


CASES = [  # (name, setup, exception, message regex)
    ("corrupt IR file", corrupt_ir, IRFormatError,
     r"net\.lutir (is not a readable lutnet IR file \(corrupt or truncated\?\)|: checksum mismatch, the file is corrupt)"),
    ("truncated IR file", truncated_ir, IRFormatError, r"net\.lutir is not a readable lutnet IR file \(corrupt or truncated\?\)"),
    ("IR arrays edited, checksum stale", ir_bad_checksum, IRFormatError, r"net\.lutir: checksum mismatch, the file is corrupt; re-export it"),
    ("IR of another format version", ir_other_version, IRFormatError,
     r"IR format version 99 is newer than this lutnet reads \(4\): upgrade lutnet"),
    ("npz that is not an IR", ir_not_ir, IRFormatError, r"other\.npz has no lutnet IR header"),
    ("IR input widths disagree with sources", ir_widths_disagree, IRFormatError,
     r"layer 1 \('layer1'\): neuron 0 input 0 declares 3 bits but its source produces 2 bits"),
    ("IR table rows disagree with widths", ir_table_rows_disagree, IRFormatError,
     r"layer 0 \('layer0'\): neuron 0 has a table of 32 rows, but its inputs have 6 address bits \(2\*\*6 = 64 rows\)"),
    ("IR table codes outside the encoding", ir_codes_outside_encoding, IRFormatError,
     r"layer 1 \('layer1'\): neuron 0's table holds codes outside its 2-bit output encoding"),
    ("IR index out of range", ir_index_out_of_range, IRFormatError, r"layer 1 \('layer1'\): input index out of range 0\.\.4"),
    ("in-memory IR widths disagree (save)", ir_in_memory_widths_disagree, IRFormatError,
     r"layer 1 \('layer1'\): neuron 0 input 0 declares 3 bits but its source produces 2 bits"),
    ("IR save over an existing file", ir_save_existing, OutputExistsError, r"net\.lutir exists; pass overwrite=True"),
    ("ONNX save over an existing file", onnx_save_existing, OutputExistsError, r"net\.onnx exists; pass overwrite=True"),
    ("config: wrong type", config_action("name: x\nmodel: {layers: [4], fan_in: four}\n"), ConfigError,
     r"cfg\.yaml: model\.fan_in must be an integer, got str 'four'"),
    ("config: missing key", config_action("name: x\ndata: {name: digits}\n"), ConfigError,
     r"cfg\.yaml: missing required key 'model'"),
    ("config: missing nested key", config_action("name: x\nmodel: {fan_in: 2}\n"), ConfigError,
     r"cfg\.yaml: missing required key 'model\.layers'"),
    ("config: unknown key", config_action("name: x\nmodel: {layers: [4], fan_inn: 2}\n"), ConfigError,
     r"cfg\.yaml: unknown key 'model\.fan_inn'; known keys of model: layers, fan_in"),
    ("config: bool for int", config_action("name: x\nmodel: {layers: [4], input_bits: true}\n"), ConfigError,
     r"model\.input_bits must be an integer, got bool True"),
    ("config: layer of wrong type", config_action("name: x\nmodel: {layers: [4, 'wide']}\n"), ConfigError,
     r"model\.layers\[1\] must be a width \(integer\) or a mapping, got 'wide'"),
    ("config: not YAML", config_action("name: [unclosed\n"), ConfigError, r"cfg\.yaml: not valid YAML"),
    ("config: empty file", config_action(""), ConfigError, r"cfg\.yaml: the file is empty"),
    ("config: not a mapping", config_action("- 1\n- 2\n"), ConfigError, r"cfg\.yaml: the document must be a mapping, got list"),
    ("checkpoint of another model", checkpoint_other_model, LutnetError,
     r"a\.ckpt: the weights do not fit the model its config describes \(checkpoint from another model\?\)"),
    ("checkpoint: garbage bytes", checkpoint_garbage, LutnetError, r"x\.ckpt is not a readable lutnet checkpoint"),
    ("checkpoint: torch file of something else", checkpoint_not_lutnet, LutnetError,
     r"x\.ckpt is not a lutnet checkpoint \(written by lutnet train / save_checkpoint\)"),
    ("Verilog into a directory of other files", verilog_foreign_dir, OutputExistsError,
     r"rtl holds files lutnet did not write \(notes\.txt\); choose an empty or new directory"),
    ("Verilog over a file", verilog_over_file, OutputExistsError, r"rtl exists and is not a directory"),
    ("HLS project into a directory of other files", hls_foreign_dir, OutputExistsError,
     r"output directory .*prj is not empty and is not an hls4ml/lutnet project"),
    ("Brevitas table over the size bound", brevitas_table_too_large, TableTooLargeError,
     r"layer 0 \('LUTLayer\(8->2\)'\): each neuron's table would have 2\*\*24 = 16,777,216 rows \(fan_in=6 inputs x 4 bits\), "
     r"more than max_rows=1,048,576"),
    ("QKeras table over the size bound", keras_table_too_large, TableTooLargeError,
     r"each neuron's table would have 2\*\*24 = 16,777,216 rows \(fan_in=6 inputs x 4 bits\), more than max_rows=1,048,576"),
    ("input codes outside the encoding", codes_out_of_range, ValueError,
     r"input codes must lie in \[-2, 1\] \(2-bit signed\)"),
]


@pytest.mark.parametrize("name,setup,exc,message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_clearly_and_touches_nothing(tmp_path, name, setup, exc, message):
    action, protected = setup(tmp_path)
    before = snapshot(protected + [tmp_path])
    with pytest.raises(exc) as info:
        action()
    assert re.search(message, str(info.value)), f"{name}: message was {str(info.value)!r}"
    assert "Traceback" not in str(info.value)
    after = snapshot(protected + [tmp_path])
    assert after == before, f"{name}: files changed: {sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))}"
