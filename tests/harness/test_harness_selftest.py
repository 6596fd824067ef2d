"""The harness catches what it should: deliberately corrupted tables, a broken model and a
table-ordering bug are reported at the right level, layer and neuron, with a shrunk vector, and
Hypothesis shrinks a failing network to the smallest one."""
import shutil

import pytest
import torch

from lutnet.harness import check_levels, random_input_codes
from lutnet.harness.levels import Level, LevelOutput, model_level, onnx_level, rtl_level
from lutnet.harness.minimize import find_counterexample
from lutnet.harness.strategies import ir_networks, prune_ir
from lutnet.ir import LayerIR, NetworkIR
from lutnet.testing import random_network_ir


def corrupt(ir: NetworkIR, layer: int, neuron: int) -> NetworkIR:
    """A copy of ``ir`` whose neuron's table has every row changed (code + 1, wrapping)."""
    layers = []
    for li, L in enumerate(ir.layers):
        t = L.tables.copy()
        if li == layer:
            a, b = L.offsets[neuron], L.offsets[neuron + 1]
            lo = -(1 << (L.out_bits[neuron] - 1)) if L.out_signed[neuron] else 0
            n = 1 << L.out_bits[neuron]
            t[a:b] = (t[a:b] - lo + 1) % n + lo
        layers.append(LayerIR(L.name, L.indices, L.in_bits, L.in_signed, L.out_bits, L.out_signed, t, L.offsets,
                              L.kind))
    return NetworkIR(ir.input_quant, ir.n_inputs, layers, ir.output_quant, dict(ir.metadata), ir.encoder, ir.head,
                     ir.argmax).validate()


def swap_address_order(ir: NetworkIR) -> NetworkIR:
    """The classic table-ordering bug: every neuron packs its inputs in reverse order (input 0 in the
    most significant bits) but keeps its table."""
    layers = [LayerIR(L.name, L.indices[:, ::-1], L.in_bits[:, ::-1], L.in_signed[:, ::-1], L.out_bits,
                      L.out_signed, L.tables, L.offsets, L.kind) for L in ir.layers]
    return NetworkIR(ir.input_quant, ir.n_inputs, layers, ir.output_quant, dict(ir.metadata), ir.encoder, ir.head,
                     ir.argmax).validate()


IR = dict(seed=11, n_inputs=7, widths=(6, 5, 4), fan_in=3, bits=[2, 3, 2], signed=[True, False, True])


def test_corrupted_table_is_caught_at_the_right_layer_and_neuron():
    ir = random_network_ir(**IR)
    bad = onnx_level(corrupt(ir, layer=1, neuron=3))
    report = check_levels(ir, random_input_codes(ir, 300), levels=("ir", "onnx"), extra_levels=[Level("onnx-corrupt", bad.run)])
    assert not report.ok and [m.level for m in report.mismatches] == ["onnx-corrupt"]
    m = report.mismatches[0]
    assert (m.layer, m.neuron, m.per_layer) == (1, 3, True)
    assert m.got != m.want
    assert m.vector == [0] * ir.n_inputs  # every row is wrong: shrinks to the all-zero vector
    assert "level 'onnx-corrupt'" in str(report) and "layer 1, neuron 3" in str(report)


def test_corruption_in_the_last_layer_seen_by_a_final_output_level(tmp_path):
    if shutil.which("iverilog") is None:
        pytest.skip("needs iverilog")
    ir = random_network_ir(**IR)
    lv = rtl_level(corrupt(ir, layer=2, neuron=2), tmp_path, "icarus")
    report = check_levels(ir, random_input_codes(ir, 200), levels=("ir",), extra_levels=[lv])
    m = report.mismatches[0]
    assert (m.level, m.layer, m.neuron, m.per_layer) == ("icarus", 2, 2, False)
    assert "(final outputs only)" in str(m)


def test_a_wrong_model_neuron_is_located():
    from lutnet.export import to_ir
    from lutnet.harness.strategies import randomize
    from lutnet.nn import LUTLayer, LUTNet
    torch.manual_seed(0)
    net = randomize(LUTNet([LUTLayer(6, 5, 2, neuron="poly", input_quant="signed", input_bit_width=3, seed=1),
                            LUTLayer(5, 3, 2, neuron="subnet", width=4, output_quant="signed", output_bit_width=3,
                                     seed=2)]), seed=3)
    ir = to_ir(net)
    assert check_levels(net, random_input_codes(ir, 300), levels=("model", "ir")).ok
    with torch.no_grad():
        net.layers[0].bn.bias[4] += 100.0  # neuron 4 of layer 0 saturates: its table no longer matches
    report = check_levels(ir, random_input_codes(ir, 300), levels=("ir",), extra_levels=[model_level(net, ir)])
    m = report.mismatches[0]
    assert (m.level, m.layer, m.neuron) == ("model", 0, 4)


def test_a_level_that_crashes_is_reported_not_ok():
    ir = random_network_ir(**IR)

    def boom(codes):
        raise RuntimeError("simulator exploded")
    report = check_levels(ir, random_input_codes(ir, 10), levels=("ir",), extra_levels=[Level("broken", boom)])
    assert not report.ok and "simulator exploded" in report.errors["broken"]


def test_hypothesis_shrinks_a_table_ordering_bug_to_the_smallest_network():
    def check(case):
        broken = onnx_level(swap_address_order(case.ir))
        return check_levels(case.ir, random_input_codes(case.ir, 100), levels=("ir",),
                            extra_levels=[Level("onnx-swapped", broken.run)])
    # stages=False: the smallest network of a table-ordering bug is asserted for table layers alone
    found = find_counterexample(ir_networks(max_depth=4, prune=False, stages=False), check, max_examples=100)
    assert found is not None
    spec = found.case.spec
    # the smallest network with the bug: one neuron with two narrow inputs (1 bit when the shrunk
    # seed's 4-row table is asymmetric, else 2 bits)
    assert (len(spec["widths"]), spec["widths"][0], spec["fan_in"], spec["n_inputs"]) == (1, 1, [2], 2), found
    assert spec["input_bits"] <= 2 and spec["bits"][0] == 1, found
    m = found.report.mismatches[0]
    assert (m.level, m.layer, m.neuron) == ("onnx-swapped", 0, 0)
    assert sum(v != 0 for v in m.vector) == 1  # one input set: the smallest vector that shows a swap
    assert "smallest failing network" in str(found)


@pytest.mark.skipif(shutil.which("yosys") is None or shutil.which("iverilog") is None, reason="needs yosys, iverilog")
def test_post_synthesis_simulation_catches_a_table_ordering_bug(tmp_path):
    from lutnet.harness.postsynth import PostSynthSim
    ir = prune_ir(random_network_ir(seed=5, n_inputs=5, widths=(4, 3), fan_in=3, bits=2, signed=[True, False]), 0.2, 1)
    good = check_levels(ir, random_input_codes(ir, 300), levels=("ir", "postsynth"), work_dir=tmp_path / "ok", pipeline=0)
    assert good.ok, str(good)
    assert good.seconds["postsynth"] > 0
    sim = PostSynthSim(swap_address_order(ir), tmp_path / "bad")
    assert "LUT" in sim.netlist.read_text() and any(k.startswith("LUT") for k in sim.cell_counts)
    report = check_levels(ir, random_input_codes(ir, 300), levels=("ir",),
                          extra_levels=[Level("postsynth", lambda c: LevelOutput(sim.run(c)))])
    assert [m.level for m in report.mismatches] == ["postsynth"]
