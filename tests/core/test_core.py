"""lutnet.core: the exact arithmetic, connectivity draws and table enumeration written once."""
import subprocess
import sys

import numpy as np
import pytest
import torch

from lutnet.core import kernels
from lutnet.core.connectivity import balanced_connectivity, random_connectivity
from lutnet.core.neurons import NUMPY_OPS, exact_function, make_family, monomials
from lutnet.core.tables import address_fields, check_table_size, compact_tables
from lutnet.errors import LayerConfigError, TableTooLargeError
from lutnet.nn import LUTLayer
from lutnet.quant import SignedActQuant

KERNEL = [False] + ([True] if kernels.kernel_available() else [])


def torch_chain(x, w, b):
    """The specification of dot_chain: element-wise float32 products and sums, left to right."""
    x, w = torch.from_numpy(x), torch.from_numpy(w)
    acc = x[..., 0:1] * w[:, 0, :]
    for i in range(1, w.shape[1]):
        acc = acc + x[..., i:i + 1] * w[:, i, :]
    return (acc if b is None else acc + torch.from_numpy(b)).numpy()


@pytest.mark.parametrize("kernel", KERNEL)
@pytest.mark.parametrize("shape", [(4096, 128, 128, 16, 16), (3000, 1, 40, 2, 16), (700, 30, 30, 209, 1),
                                   (5, 3, 3, 1, 4), (2, 6, 6, 16, 1)])
def test_dot_chain_is_the_element_wise_sequence(shape, kernel):
    rows, nx, n, a, b = shape
    rng = np.random.default_rng(sum(shape))
    x = (rng.standard_normal((rows, nx, a)) * 3).astype(np.float32)  # many products whose FMA would round otherwise
    w = rng.standard_normal((n, a, b)).astype(np.float32)
    bias = rng.standard_normal((n, b)).astype(np.float32)
    force = "kernel" if kernel else "loop"
    np.testing.assert_array_equal(kernels.dot_chain(x, w, bias, force=force), torch_chain(x, w, bias))
    np.testing.assert_array_equal(kernels.dot_chain(x, w, None, force=force), torch_chain(x, w, None))
    # chained: the kernel's feature-major output read back by the next chain
    h = kernels.dot_chain(x, w, bias, force=force)
    w2 = rng.standard_normal((n, b, 3)).astype(np.float32)
    np.testing.assert_array_equal(kernels.dot_chain(h, w2, None, force=force),
                                  torch_chain(np.ascontiguousarray(h), w2, None))


def _random_layer(kind, **opts):
    torch.manual_seed(3)
    layer = LUTLayer(9, 7, 3, kind, input_quant=SignedActQuant, input_bit_width=3, seed=2, **opts).eval()
    with torch.no_grad():
        for p in layer.neuron.parameters():
            p.mul_(3)
        layer.bn.running_mean.normal_(0, 0.3)
        layer.bn.running_var.uniform_(0.2, 2.0)
        layer.bn.weight.normal_(1, 0.3)
        layer.bn.bias.normal_(0, 0.3)
        layer.input_mask[1, 2] = False
        layer.input_mask[4, 0] = False
    return layer


@pytest.mark.parametrize("kernel", KERNEL)
@pytest.mark.parametrize("kind,opts", [("linear", {}), ("poly", {"degree": 3}),
                                       ("subnet", {"width": 8, "depth": 3, "skip": 2}),
                                       ("subnet", {"width": 3, "depth": 2, "skip": 1})])
def test_exact_path_on_numpy_equals_the_torch_path_bit_for_bit(kind, opts, kernel):
    layer = _random_layer(kind, **opts)
    info = layer.input_info()
    codes = torch.randint(-4, 4, (5000, 7, 3))
    # the PyTorch element-wise path: parameters that need a gradient keep the chain in torch
    with torch.enable_grad():
        y_torch = layer.function_of_codes(codes, info.scale, info.zero_point).detach().numpy()
    p = {k: v.detach().numpy() for k, v in layer.neuron.params().items()}
    bn = tuple(t.detach().numpy() if torch.is_tensor(t) else t for t in layer.bn_params())
    kernels.use_kernel(kernel)
    try:
        y_numpy = exact_function(NUMPY_OPS, layer.neuron.family, codes.numpy(), info.scale.numpy(),
                                 info.zero_point.numpy(), p, layer.input_mask.numpy(), bn)
        with torch.no_grad():  # the eval path on CPU tensors (numpy chain underneath)
            y_eval = layer.function_of_codes(codes, info.scale, info.zero_point).numpy()
    finally:
        kernels.use_kernel(None)
    assert y_torch.dtype == y_numpy.dtype == np.float32
    np.testing.assert_array_equal(y_numpy, y_torch)
    np.testing.assert_array_equal(y_eval, y_torch)


def test_family_options_and_messages():
    with pytest.raises(LayerConfigError, match="LUTLayer 'a': unknown neuron kind 'cubic'; known kinds: linear, poly"):
        make_family("cubic", 3, 2, "LUTLayer 'a'")
    with pytest.raises(LayerConfigError, match="LUTLayer 'b': poly neuron degree must be >= 1, got 0"):
        make_family("poly", 3, 2, "LUTLayer 'b'", degree=0)
    with pytest.raises(LayerConfigError, match="LUTLayer 'c': subnet neuron needs width >= 1"):
        make_family("subnet", 3, 2, "LUTLayer 'c'", width=0)
    f = make_family("subnet", 5, 3, width=8, depth=4, skip=2, degree=7)  # other kinds' options are ignored
    assert f.options == {"width": 8, "depth": 4, "skip": 2}
    assert [s.name for s in f.params()] == ["weights_0", "biases_0", "weights_1", "biases_1", "weights_2", "biases_2",
                                            "weights_3", "biases_3", "weights_4", "biases_4", "proj_0", "proj_4"]
    assert make_family("poly", 2, 6, degree=4).params()[0].shape == (2, len(monomials(6, 4))) == (2, 209)


@pytest.mark.parametrize("seed", [0, 1, 11, 2001, 123456789])
@pytest.mark.parametrize("n_in,n_out,fan_in,pool", [(9, 6, 3, None), (64, 32, 4, None), (784, 50, 6, None),
                                                    (30, 8, 3, [1, 4, 5, 9, 12, 20, 29])])
def test_random_draw_keeps_the_pytorch_draw(seed, n_in, n_out, fan_in, pool):
    """The numpy draw reproduces torch.rand under a seeded Generator; rows are kept except where
    two of a row's uniform keys tie (torch.argsort's order of ties is unspecified)."""
    cand = np.arange(n_in) if pool is None else np.asarray(pool)
    g = torch.Generator().manual_seed(seed)
    keys = torch.rand(n_out, len(cand), generator=g)
    old = cand[torch.argsort(keys, dim=1)[:, :fan_in].numpy()]
    new = random_connectivity(n_in, n_out, fan_in, seed, pool)
    s = np.sort(keys.numpy(), 1)
    tie = (s[:, 1:] == s[:, :-1]).any(1)
    np.testing.assert_array_equal(new[~tie], old[~tie])
    assert new.dtype == np.int64 and new.shape == (n_out, fan_in)
    assert all(len(set(r)) == fan_in and set(r) <= set(cand.tolist()) for r in new.tolist())


def test_balanced_draw_reads_every_input_equally_often():
    conn = balanced_connectivity(20, 30, 4, seed=5)
    counts = np.bincount(conn.reshape(-1), minlength=20)
    assert counts.max() - counts.min() <= 1
    tree = balanced_connectivity(40, 10, 4, seed=1)
    assert len(set(tree.reshape(-1).tolist())) == 40


def test_address_fields_and_compaction():
    f = address_fields(np.arange(16), 2, 2, signed=True)
    assert f[:, 0].tolist() == [0, 1, -2, -1] * 4 and f[::4, 1].tolist() == [0, 1, -2, -1]
    rng = np.random.default_rng(0)
    full = rng.integers(0, 4, (3, 1 << 6)).astype(np.int16)  # F = 3 inputs of 2 bits
    mask = np.array([[1, 1, 1], [1, 0, 1], [0, 0, 0]], bool)
    flat, offsets = compact_tables(full, mask, 2)
    assert offsets.tolist() == [0, 64, 64 + 16, 64 + 16 + 1]
    np.testing.assert_array_equal(flat[:64], full[0])
    np.testing.assert_array_equal(flat[64:80], [full[1][(c & 3) | ((c >> 2) << 4)] for c in range(16)])
    assert flat[80] == full[2][0]


def test_table_size_message():
    with pytest.raises(TableTooLargeError, match=r"layer 2 \('w'\): each neuron's table would have 2\*\*24 = "
                                                 r"16,777,216 rows \(fan_in=6 inputs x 4 bits\), more than max_rows"):
        check_table_size(2, "w", 6, 4, 1 << 20)


def test_core_imports_no_framework():
    code = ("import sys, lutnet.core.neurons, lutnet.core.tables, lutnet.core.connectivity, lutnet.core.kernels; "
            "bad = [m for m in ('torch', 'tensorflow', 'keras', 'brevitas', 'qkeras') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
