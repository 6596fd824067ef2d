"""Bit-exactness of the Brevitas model against its extracted truth tables."""
import numpy as np
import pytest
import torch

from lutnet.errors import TableTooLargeError
from lutnet.export import to_ir
from lutnet.nn import LUTLayer, LUTNet
from lutnet.quant import SignedActFixedPoint, SignedActQuant, UnsignedActQuant

KINDS = [("linear", {}), ("poly", {"degree": 3}), ("subnet", {"width": 8, "depth": 3, "skip": 2})]


def make_net(kind, opts, in_signed=True, in_bits=2, hidden_bits=2, out_bits=3, seed=0, n_in=12, fixed=False):
    torch.manual_seed(seed)
    sq = SignedActFixedPoint if fixed else SignedActQuant
    return LUTNet([
        LUTLayer(n_in, 10, 3, kind, input_quant=sq if in_signed else UnsignedActQuant,
                 input_bit_width=in_bits, output_bit_width=hidden_bits, seed=seed, **opts),
        LUTLayer(10, 8, 2, kind, output_bit_width=hidden_bits, seed=seed + 1, **opts),
        LUTLayer(8, 5, 3, kind, output_quant=sq, output_bit_width=out_bits, seed=seed + 2, **opts),
    ])


def train_briefly(net, n_in, steps=15, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(512, n_in, generator=g)
    y = (X[:, :5].argmax(1))
    opt = torch.optim.Adam(net.parameters(), 3e-2)
    net.train()
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(net(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    return net


def assert_bit_exact(net, X, batch_size=1000):
    ir = to_ir(net)
    codes = net.input_codes(X).numpy()
    np.testing.assert_array_equal(ir.quantize_input(X.numpy()), codes)
    model_out = net.output_codes(X, batch_size=batch_size).numpy()
    ir_out = ir.evaluate(codes)
    mism = int((model_out != ir_out).any(1).sum())
    assert mism == 0, f"{mism} of {len(X)} samples differ"
    assert len(np.unique(ir_out)) > 1, "degenerate test: constant outputs"
    return ir


@pytest.mark.parametrize("kind,opts", KINDS)
@pytest.mark.parametrize("in_signed", [True, False])
def test_random_models_bit_exact(kind, opts, in_signed):
    net = train_briefly(make_net(kind, opts, in_signed=in_signed), 12)
    X = torch.randn(10_000, 12) * 1.5
    ir = assert_bit_exact(net, X, batch_size=777)
    assert [L.kind for L in ir.layers] == [kind] * 3


@pytest.mark.parametrize("kind,opts", KINDS)
def test_bit_exact_fixed_point_and_wide_codes(kind, opts):
    net = train_briefly(make_net(kind, opts, in_bits=3, hidden_bits=3, out_bits=4, fixed=True, seed=3), 12)
    assert_bit_exact(net, torch.randn(10_000, 12))


def test_every_table_row_matches_a_single_sample_forward():
    """Differential check of the enumeration itself: row r of neuron k equals the layer applied to
    one sample whose inputs carry the codes that r encodes."""
    net = train_briefly(make_net("poly", {"degree": 2}, in_bits=2), 12)
    ir = to_ir(net)
    layer, L = net.layers[1], ir.layers[1]
    info = net.layers[0].output_info()
    rng = np.random.default_rng(0)
    for k in rng.choice(L.out_features, 3, replace=False):
        for r in rng.choice(len(L.table(k)), 8, replace=False):
            codes = torch.zeros(1, layer.in_features)
            for j, src in enumerate(L.indices[k]):
                codes[0, src] = (r >> (2 * j)) & 3  # unsigned 2-bit hidden codes
            y = layer.function_of_codes(codes[:, layer.connectivity], info.scale, info.zero_point)
            assert int(layer.output_quant(y).int()[0, k]) == L.table(k)[r]


def test_chunking_does_not_change_tables():
    net = train_briefly(make_net("subnet", {"width": 4, "depth": 2}), 12)
    a, b = to_ir(net), to_ir(net, chunk_elems=7)
    for la, lb in zip(a.layers, b.layers):
        np.testing.assert_array_equal(la.tables, lb.tables)


def test_pruned_inputs_shrink_tables_and_stay_exact():
    net = train_briefly(make_net("linear", {}), 12)
    net.layers[1].input_mask[0, 1] = False
    net.layers[1].input_mask[3, :] = torch.tensor([False, True])
    net.layers[2].input_mask[2, 0] = False
    ir = assert_bit_exact(net, torch.randn(5000, 12))
    L = ir.layers[1]
    assert L.table_rows[0] == 4 and L.table_rows[3] == 4 and L.table_rows[1] == 16
    assert L.indices[0, 1] == -1 and L.in_bits[0, 1] == 0


def test_table_over_the_bound_is_refused():
    net = LUTNet([LUTLayer(16, 4, 8, input_quant=SignedActQuant, input_bit_width=3, name="wide")])
    with pytest.raises(TableTooLargeError, match=r"layer 0 \('wide'\): each neuron's table would have 2\*\*24 = "
                                                 r"16,777,216 rows \(fan_in=8 inputs x 3 bits\), more than "
                                                 r"max_rows=1,048,576 \(2\*\*20\)"):
        to_ir(net)
    small = to_ir(LUTNet([LUTLayer(16, 2, 2, input_quant=SignedActQuant, input_bit_width=3)]), max_rows=64)
    assert small.layers[0].table_rows.tolist() == [64, 64]


def test_thread_count_does_not_change_tables():
    net = train_briefly(make_net("subnet", {"width": 8, "depth": 2, "skip": 1}), 12)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1 if threads > 1 else 2)
        one = to_ir(net)
    finally:
        torch.set_num_threads(threads)
    X = torch.randn(4000, 12)
    np.testing.assert_array_equal(one.evaluate(net.input_codes(X).numpy()), net.output_codes(X).numpy())
