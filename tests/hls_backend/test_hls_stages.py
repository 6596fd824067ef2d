"""IR stages through the hls4ml LUTNet backend: thermometer encoder, GroupSum head and argmax in the
C++ firmware (C simulation bit-exact, trace of every stage, the vendor testbench with g++, .fml
save/load, link_existing_project) and in the Verilog output."""
import os
import shutil
import subprocess

import hls4ml
import numpy as np
import pytest

from lutnet import hls_backend
from lutnet.testing import random_network_ir

STAGES = [dict(thermometer=[1, 2, 3], n_classes=3, argmax=True), dict(thermometer=2), dict(n_classes=2),
          dict(n_classes=1, argmax=True), dict(thermometer=2, n_classes=3, argmax=True, head_weights=2)]
IDS = ["encoder-head-argmax", "encoder", "head", "one-class-argmax", "weighted-head-argmax"]


def staged(signed=True, **st):
    return random_network_ir(3, n_inputs=3, input_bits=4, input_signed=signed, widths=(5, 6), signed=signed, **st)


def codes_of(ir, n=2000, seed=0):
    q = ir.input_quant
    return np.random.default_rng(seed).integers(q.code_min, q.code_max + 1, (n, ir.n_inputs))


@pytest.mark.parametrize("st", STAGES, ids=IDS)
def test_cpp_bit_exact_and_traced(tmp_path, st):
    ir = staged(**st)
    codes = codes_of(ir)
    model = hls_backend.convert_ir(ir, output_dir=tmp_path / "prj", output="cpp", cflags="-O1")
    names = [n.class_name for n in model.get_layers()]
    assert names[1] == ("LUTThermometer" if ir.encoder is not None else "LUTDense")
    assert ("LUTGroupSum" in names) == (ir.head is not None) and ("LUTArgmax" in names) == ir.argmax
    model.compile()
    got = np.asarray(model.predict(codes, codes=True)).reshape(len(codes), -1)
    np.testing.assert_array_equal(got, ir.evaluate(codes))
    y, trace = model.trace(codes, codes=True)
    ref = ir.evaluate_stages(codes)
    want = ([ref["encoder"]] if ir.encoder is not None else []) + ref["layers"] + \
        ([ref["head"]] if ir.head is not None else []) + ([ref["argmax"]] if ir.argmax else [])
    assert len(trace.codes) == len(want) == len(ir.stages)
    for g, w in zip(trace.codes.values(), want):
        np.testing.assert_array_equal(g, w)
    x = ir.input_quant.to_values(codes)
    if ir.argmax:
        np.testing.assert_array_equal(model.predict(x), ir.predict(x))
    else:
        np.testing.assert_array_equal(model.predict(x), ir.scores(ir.evaluate(codes)))


def test_vendor_testbench_with_stages(tmp_path):
    """The csim testbench (what Vitis/Vivado HLS run) with the synthesis types."""
    ir = staged(**STAGES[0])
    prj = tmp_path / "prj"
    hls_backend.convert_ir(ir, output_dir=prj).write()
    subprocess.run(["g++", "-O1", "-std=c++14", "-DLUTNET_SYNTH_TYPES", "-Ifirmware", "-Ifirmware/ap_types",
                    "myproject_test.cpp", "firmware/myproject.cpp", "-o", "tb"], cwd=prj, check=True)
    r = subprocess.run(["./tb"], cwd=prj, capture_output=True, text=True)
    assert r.returncode == 0 and "64 samples, 0 mismatches" in r.stdout, r.stdout + r.stderr
    got = np.loadtxt(prj / "tb_data" / "csim_results.log", dtype=np.int64)
    codes = np.loadtxt(prj / "tb_data" / "tb_input_codes.dat", dtype=np.int64)
    np.testing.assert_array_equal(got, ir.evaluate(codes)[:, 0])


def test_fml_save_load_and_link(tmp_path):
    ir = staged(**STAGES[0])
    model = hls_backend.convert_ir(ir, output_dir=tmp_path / "prj", output="cpp", cflags="-O1")
    model.save(str(tmp_path / "m.fml"))
    loaded = hls4ml.converters.load_saved_model(str(tmp_path / "m.fml"))
    enc = [n for n in loaded.get_layers() if n.class_name == "LUTThermometer"][0].get_attr("encoder")
    head = [n for n in loaded.get_layers() if n.class_name == "LUTGroupSum"][0].get_attr("head")
    assert enc == ir.encoder and head == ir.head
    model.write()
    os.chdir(tmp_path)
    linked = hls4ml.converters.link_existing_project(str(tmp_path / "prj"))
    linked.compile()
    x = ir.input_quant.to_values(codes_of(ir, 300, seed=2))
    np.testing.assert_array_equal(linked.predict(x), ir.predict(x))


@pytest.mark.skipif(not shutil.which("iverilog"), reason="Icarus Verilog is not installed")
def test_verilog_output_with_stages(tmp_path):
    ir = staged(**STAGES[0])
    codes = codes_of(ir, 500)
    model = hls_backend.convert_ir(ir, output_dir=tmp_path / "prj", output="verilog", simulator="icarus")
    model.compile()
    np.testing.assert_array_equal(np.asarray(model.predict(codes, codes=True)), ir.evaluate(codes)[:, 0])
    _, trace = model.trace(codes, codes=True)
    ref = ir.evaluate_stages(codes)
    np.testing.assert_array_equal(trace.codes["encoder"], ref["encoder"])
    np.testing.assert_array_equal(trace.codes["head"], ref["head"])
    np.testing.assert_array_equal(trace.codes["argmax"], ref["argmax"])
