"""The model zoo (``models/*.yaml``): every published architecture carries its source and published
numbers, and builds into the shapes its paper describes."""
from importlib import resources

import pytest

from lutnet.builder import build_model
from lutnet.config import load_config, zoo_names

N_IN = {"digits": 64, "mnist": 784, "jets": 16, "jets-synthetic": 16}

# The published architectures (the small digits-s demo model is this project's own).
PUBLISHED = [n for n in zoo_names() if n.split("-")[0] in ("logicnets", "polylut", "neuralut")]


def _header(name):
    text = (resources.files("lutnet.models") / f"{name}.yaml").read_text()
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return lines


def _net(name):
    cfg = load_config(name)
    return cfg, build_model(cfg.model, N_IN[cfg.data.name])


def test_published_zoo_is_complete():
    expected = {"logicnets-jsc-s", "logicnets-jsc-m", "logicnets-jsc-l", "polylut-jsc-m-lite",
                "polylut-jsc-xl", "polylut-mnist-hdr", "neuralut-jsc-2l", "neuralut-jsc-5l",
                "neuralut-mnist-hdr-5l"}
    assert expected <= set(PUBLISHED)


@pytest.mark.parametrize("name", PUBLISHED)
def test_header_names_source_and_published_numbers(name):
    header = _header(name)
    assert header, f"{name}.yaml has no header comment"
    assert any(l.startswith("# Source:") for l in header), f"{name}.yaml: no '# Source:' line in the header"
    assert any(l.startswith("# Published:") for l in header), f"{name}.yaml: no '# Published:' line in the header"


def _shape(net):
    return [(l.out_features, l.fan_in, l.output_info().bits, l.output_info().signed) for l in net.layers]


def test_logicnets_jsc_m_shape():
    cfg, net = _net("logicnets-jsc-m")
    assert cfg.data.name == "jets" and net.in_features == 16
    assert _shape(net) == [(64, 4, 3, False), (32, 4, 3, False), (32, 4, 3, False), (32, 4, 3, False),
                           (5, 4, 3, True)]
    assert net.layers[0].input_info().bits == 3
    assert all(l.neuron.kind == "linear" for l in net.layers)


def test_logicnets_jsc_s_and_l_shapes():
    _, s = _net("logicnets-jsc-s")
    assert _shape(s) == [(64, 3, 2, False), (32, 3, 2, False), (32, 3, 2, False), (32, 3, 2, False),
                         (5, 3, 2, True)]
    _, l = _net("logicnets-jsc-l")
    assert _shape(l) == [(32, 3, 3, False), (64, 4, 3, False), (192, 4, 3, False), (192, 4, 3, False),
                         (16, 4, 3, False), (5, 5, 7, True)]
    assert l.layers[0].input_info().bits == 4


def test_polylut_mnist_hdr_shape():
    cfg, net = _net("polylut-mnist-hdr")
    assert cfg.data.name == "mnist" and net.in_features == 784
    assert [l.out_features for l in net.layers] == [256, 100, 100, 100, 100, 10]
    assert all(l.fan_in == 6 for l in net.layers)
    assert all(l.neuron.kind == "poly" and l.neuron.degree == 4 for l in net.layers)
    assert all(l.output_info().bits == 2 for l in net.layers)
    assert net.layers[0].input_info().bits == 2
    assert net.layers[-1].output_info().signed and not net.layers[0].output_info().signed


def test_polylut_jsc_shapes():
    _, lite = _net("polylut-jsc-m-lite")
    assert _shape(lite) == [(64, 4, 3, False), (32, 4, 3, False), (5, 4, 3, True)]
    assert all(l.neuron.degree == 6 for l in lite.layers)
    _, xl = _net("polylut-jsc-xl")
    assert _shape(xl) == [(128, 2, 5, False), (64, 3, 5, False), (64, 3, 5, False), (64, 3, 5, False),
                          (5, 3, 5, True)]
    assert xl.layers[0].input_info().bits == 7
    assert all(l.neuron.degree == 4 for l in xl.layers)


def test_neuralut_shapes():
    _, jsc2 = _net("neuralut-jsc-2l")
    assert _shape(jsc2) == [(32, 3, 4, False), (5, 3, 4, True)]
    assert jsc2.layers[0].input_info().bits == 4
    _, jsc5 = _net("neuralut-jsc-5l")
    assert _shape(jsc5) == [(128, 2, 4, False), (128, 3, 4, False), (128, 3, 4, False), (64, 3, 4, False),
                            (5, 3, 4, True)]
    assert jsc5.layers[0].input_info().bits == 7
    _, hdr = _net("neuralut-mnist-hdr-5l")
    assert [l.out_features for l in hdr.layers] == [256, 100, 100, 100, 10]
    assert all(l.fan_in == 6 and l.output_info().bits == 2 for l in hdr.layers)
    # Sub-networks: N = 8 (JSC-2L) or 16, four linear layers (three hidden + output), skips every 2.
    for net, n in ((jsc2, 8), (jsc5, 16), (hdr, 16)):
        for l in net.layers:
            assert l.neuron.kind == "subnet"
            assert (l.neuron.width, l.neuron.depth, l.neuron.skip) == (n, 3, 2)
            assert len(l.neuron.weights) == 4


def test_lutnet_mnist_lut6_tables_fit_lut6_and_trees():
    """lutnet-mnist-lut6: every table but the class scores' has <= 6 address bits (one LUT6 per
    output bit), layer 0 reads only active pixels, and from layer 2 on each neuron's inputs form a tree."""
    import numpy as np
    import torch
    cfg = load_config("lutnet-mnist-lut6")
    X = np.zeros((400, 784), np.float32)
    X[:, 200:600] = (np.random.default_rng(0).random((400, 400)) < 0.5)  # only pixels 200..599 ever set
    net = build_model(cfg.model, 784, X)
    in_bits = [cfg.model.input_bits] + [l.output_info().bits for l in net.layers[:-1]]
    abits = [l.fan_in * b for l, b in zip(net.layers, in_bits)]
    assert abits[:-1] == [6] * (len(abits) - 1) and abits[-1] == 12
    conn0 = net.layers[0].connectivity
    assert int(conn0.min()) >= 200 and int(conn0.max()) < 600
    for l in net.layers[2:]:
        assert torch.equal(l.connectivity.flatten().sort().values, torch.arange(l.in_features))


def _plans(name):
    from lutnet.core.connectivity import CONNECTIVITY
    from lutnet.core.plan import plan_layers
    cfg = load_config(name)
    return [(p.name, p.out_features, p.fan_in, p.neuron["kind"], p.out_bits, p.out_signed)
            for p in plan_layers(cfg.model, N_IN[cfg.data.name], CONNECTIVITY)]


def test_tree_zoo_is_complete():
    assert {"polylut-add-mnist-hdr-add2", "polylut-add-jsc-m-lite-add2", "polylut-add-jsc-xl-add2",
            "neuralut-assemble-mnist", "neuralut-assemble-jsc"} <= set(PUBLISHED)


def test_polylut_add_shapes():
    """PolyLUT-Add: every layer = A=2 degree-3 sub-neurons (signed, bits + 1) then an adder table of 2 inputs."""
    hdr = _plans("polylut-add-mnist-hdr-add2")
    widths = [256, 100, 100, 100, 100, 10]
    assert hdr == [row for i, w in enumerate(widths) for row in (
        (f"layer{i}_t0", 2 * w, 4, "poly", 3, True), (f"layer{i}", w, 2, "add", 2, i == 5))]
    lite = _plans("polylut-add-jsc-m-lite-add2")
    assert [r[1:] for r in lite] == [(128, 2, "poly", 4, True), (64, 2, "add", 3, False), (64, 2, "poly", 4, True),
                                     (32, 2, "add", 3, False), (10, 2, "poly", 4, True), (5, 2, "add", 3, True)]
    xl = _plans("polylut-add-jsc-xl-add2")
    assert [r[1:3] for r in xl] == [(256, 1), (128, 2), (128, 2), (64, 2), (128, 2), (64, 2), (128, 2), (64, 2),
                                    (10, 2), (5, 2)]
    assert [r[4] for r in xl] == [6, 5] * 4 + [6, 5]
    _, net = _net("polylut-add-jsc-m-lite-add2")
    assert net.layers[0].input_info().bits == 3 and net.layers[0].neuron.degree == 3
    assert net.layers[1].neuron.kind == "add" and net.layers[0].output_info().signed


def test_neuralut_assemble_shapes():
    """NeuraLUT-Assemble MNIST demo: 2160-360-2160-360-60-10 tables of fan-in 6, 1-bit codes, width-64 sub-networks."""
    mnist = _plans("neuralut-assemble-mnist")
    assert [(r[1], r[2], r[4]) for r in mnist] == [(2160, 6, 1), (360, 6, 1), (2160, 6, 1), (360, 6, 1), (60, 6, 1),
                                                   (10, 6, 4)]
    assert all(r[3] == "subnet" for r in mnist)
    cfg = load_config("neuralut-assemble-mnist")
    assert cfg.model.input_bits == 1 and cfg.model.neuron.width == 64
    jsc = _plans("neuralut-assemble-jsc")
    assert all(r[2] == 2 for r in jsc) and [r[4] for r in jsc][-1] == 8 and all(b == 3 for b in [r[4] for r in jsc][:-1])
    assert load_config("neuralut-assemble-jsc").model.input_bits == 6
