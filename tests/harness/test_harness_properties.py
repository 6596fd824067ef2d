"""Property-based agreement of every level with the IR evaluator on random networks (Hypothesis):
the framework models (Brevitas and QKeras, with PolyLUT-Add / NeuraLUT-Assemble tree layers; DWN-style
stage models in both frameworks), the IR, ONNX, the C++ simulation, Verilator, Icarus (with
``verilator --lint-only -Wall`` on every generated design) and the post-synthesis netlist; random
vectors plus the corner codes.  Example counts: ``lutnet.harness.profiles`` (fast by default,
``LUTNET_HARNESS_PROFILE=long`` for the long profile)."""
import shutil

import numpy as np
import pytest
from hypothesis import given

from lutnet.harness import check_levels, corner_codes, random_input_codes
from lutnet.harness.profiles import examples, settings
from lutnet.harness.strategies import brevitas_models, dwn_models, ir_networks, keras_tree_models, qkeras_models

N = examples("vectors")
needs = lambda *tools: pytest.mark.skipif(any(shutil.which(t) is None for t in tools),  # noqa: E731
                                          reason=f"needs {', '.join(tools)}")


def assert_agree(case, levels, n=N, **opts):
    report = check_levels(case.model if case.model is not None else case.ir, random_input_codes(case.ir, n, seed=1),
                          levels=levels, **opts)
    assert report.ok, f"{case!r}\n{report}"
    return report


def test_corner_codes_cover_the_encoding_extremes():
    from lutnet.testing import random_network_ir
    ir = random_network_ir(seed=0, n_inputs=3, widths=(2,), bits=4, signed=True)
    rows = {tuple(r) for r in corner_codes(ir).tolist()}
    assert {(0, 0, 0), (-1, -1, -1), (-8, -8, -8), (7, 7, 7), (-8, 7, -8)} <= rows
    ir = random_network_ir(seed=0, n_inputs=2, widths=(2,), bits=1, signed=False)
    assert {tuple(r) for r in corner_codes(ir).tolist()} == {(0, 0), (1, 1), (0, 1), (1, 0)}


@settings("ir")
@given(ir_networks())
def test_ir_and_onnx_agree(case):
    assert_agree(case, ("ir", "onnx"))


@settings("brevitas")
@given(brevitas_models())
def test_brevitas_model_ir_and_onnx_agree(case):
    assert_agree(case, ("model", "ir", "onnx"))


@settings("qkeras")
@given(qkeras_models())
def test_qkeras_model_ir_and_onnx_agree(case):
    pytest.importorskip("qkeras")
    from lutnet.keras import to_ir
    kir = to_ir(case.model)
    for a, b in zip(case.ir.layers, kir.layers):  # the QKeras twin has the Brevitas tables
        np.testing.assert_array_equal(a.tables, b.tables)
        np.testing.assert_array_equal(a.indices, b.indices)
    assert_agree(case, ("model", "ir", "onnx"))


@settings("trees")
@given(keras_tree_models())
def test_qkeras_tree_model_ir_and_onnx_agree(case):
    assert_agree(case, ("model", "ir", "onnx"))


@settings("dwn")
@given(dwn_models())
def test_dwn_model_ir_and_onnx_agree(case):
    assert_agree(case, ("model", "ir", "onnx"))


@settings("dwn")
@given(dwn_models(framework="keras"))
def test_keras_dwn_model_ir_and_onnx_agree(case):
    pytest.importorskip("tensorflow")
    torch_ir = case.spec["torch"].to_ir()  # the Keras twin has the PyTorch tables and wiring
    for a, b in zip(torch_ir.layers, case.ir.layers):
        np.testing.assert_array_equal(a.tables, b.tables)
        np.testing.assert_array_equal(a.indices, b.indices)
    assert_agree(case, ("model", "ir", "onnx"))


@needs("iverilog", "verilator")
@settings("icarus")
@given(case=ir_networks(max_depth=5, min_depth=2, min_width=2))
def test_icarus_agrees_and_design_is_lint_clean(case, tmp_path_factory):
    assert_agree(case, ("ir", "icarus"), work_dir=tmp_path_factory.mktemp("icarus"), lint=True, **case.emit)


@needs("g++", "verilator")
@settings("full")
@given(case=ir_networks(max_depth=4, min_depth=2, min_width=3))
def test_cpp_and_verilator_agree(case, tmp_path_factory):
    r = assert_agree(case, ("ir", "onnx", "cpp", "verilog"), work_dir=tmp_path_factory.mktemp("full"),
                     lint=True, **case.emit)
    assert set(r.levels) == {"ir", "onnx", "cpp", "verilog"}


@needs("yosys", "iverilog")
@settings("postsynth")
@given(case=ir_networks(max_depth=2, max_width=4, max_bits=3, max_address_bits=6, min_width=2))
def test_post_synthesis_netlist_agrees(case, tmp_path_factory):
    r = assert_agree(case, ("ir", "postsynth"), work_dir=tmp_path_factory.mktemp("synth"), **case.emit)
    assert r.ok
