"""One pruning implementation for both frameworks: the same model in Brevitas and in QKeras prunes to
the same masks and cost (``lutcost`` and ``estimate``), and the dead-neuron rounds re-spend the
budget that orphaned neurons free (the QKeras jet-tutorial path used to land at 34 of 64 LUTs)."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lutnet.pruning.lut_structures import LayerSpec, network_cost, solve_masks  # noqa: E402


def alive_cost(address_bits, out_bits):
    """A neuron costs 1 LUT whenever it has an input (a 6-address-bit table: one LUT6 per output bit
    whether it reads 3 inputs or 1), 0 as a constant."""
    return (np.asarray(address_bits) > 0).astype(np.float64)


def test_budget_freed_by_orphans_goes_back_into_the_knapsack():
    # layer 0: n0..n3 read one input each; layer 1: A reads (n0, n1), B reads (n2, n3); layer 2: C reads (A, B)
    layers = [LayerSpec(np.ones((4, 1), bool), np.arange(4)[:, None], 2, 2),
              LayerSpec(np.ones((2, 2), bool), np.array([[0, 1], [2, 3]]), 2, 2),
              LayerSpec(np.ones((1, 2), bool), np.array([[0, 1]]), 2, 2)]
    importance = [np.array([[1.0], [1.0], [1.2], [1.2]]), np.array([[1.0, 1.0], [0.25, 0.25]]),
                  np.array([[1.0, 1.0]])]
    # budget 5 of 7: the knapsack keeps C, A, n2, n3 and one of n0/n1, dropping B -- which orphans n2, n3.
    # Freezing every constant neuron (the old rule) stopped there at cost 3; freezing only the orphans
    # lets the next round spend the freed budget on n0 and n1.
    masks, _, rounds = solve_masks(layers, importance, 5, alive_cost, method="dp", normalize=False)
    alive = [m.any(1).tolist() for m in masks]
    assert alive == [[True, True, False, False], [True, False], [True]], alive
    assert network_cost([LayerSpec(m, L.connectivity, 2, 2) for m, L in zip(masks, layers)], alive_cost) == 4
    assert rounds == 2


tf = pytest.importorskip("tensorflow")
pytest.importorskip("qkeras")
torch = pytest.importorskip("torch")

from lutnet.keras import to_ir as keras_to_ir  # noqa: E402
from lutnet.keras.convert import from_brevitas  # noqa: E402
from lutnet.nn import LUTLayer, LUTNet  # noqa: E402
from lutnet.pruning.importance import lut_input_importance  # noqa: E402
from lutnet.pruning.keras_prune import keras_lut_cost, keras_lut_importance, prune_keras_lut  # noqa: E402
from lutnet.pruning.torch_prune import lut_network_cost, prune_lut_network  # noqa: E402
from lutnet.quant import SignedActFixedPoint, UnsignedActFixedPoint  # noqa: E402


def twin_models(kind, opts, seed=0):
    torch.manual_seed(seed)
    net = LUTNet([
        LUTLayer(12, 10, 3, kind, input_quant=SignedActFixedPoint, input_bit_width=2,
                 output_quant=UnsignedActFixedPoint, output_bit_width=2, seed=seed, **opts),
        LUTLayer(10, 8, 3, kind, output_quant=UnsignedActFixedPoint, output_bit_width=2, seed=seed + 1, **opts),
        LUTLayer(8, 3, 3, kind, output_quant=SignedActFixedPoint, output_bit_width=3, seed=seed + 2, **opts)])
    with torch.no_grad():
        for layer in net.layers:
            layer.bn.running_mean.normal_(0, 0.3)
            layer.bn.weight.normal_(1, 0.3)
    net.eval()
    return net, from_brevitas(net)


@pytest.mark.parametrize("kind,opts", [("linear", {}), ("poly", {"degree": 2}), ("subnet", {"width": 4, "depth": 1})])
def test_brevitas_and_qkeras_prune_alike(kind, opts):
    net, kmodel = twin_models(kind, opts)
    assert lut_network_cost(net) == keras_lut_cost(kmodel)
    for a, b in zip(lut_input_importance(net, "l2"), keras_lut_importance(kmodel, "l2")):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-6)
    budget = 0.6 * lut_network_cost(net)
    rt = prune_lut_network(net, budget, "l2")
    rk = prune_keras_lut(kmodel, budget, "l2")
    assert (rt.lut_cost, rt.constant_neurons, rt.kept_connections) == (rk.lut_cost, rk.constant_neurons,
                                                                      rk.kept_connections)
    for bl, kl in zip(net.layers, kmodel.layers):
        np.testing.assert_array_equal(bl.input_mask.numpy(), kl.prune_mask.numpy() > 0)
    assert rt.lut_cost <= budget and rt.lut_cost >= budget - 15  # the budget is spent, not wasted


def test_keras_pruning_takes_the_estimate_cost_model():
    net, kmodel = twin_models("linear", {}, seed=3)
    full = keras_lut_cost(kmodel, "estimate")
    assert full == lut_network_cost(net, "estimate") > 0
    budget = 0.7 * full
    rk = prune_keras_lut(kmodel, budget, cost_model="estimate")
    rt = prune_lut_network(net, budget, cost_model="estimate")
    assert rk.lut_cost == rt.lut_cost <= budget
    # the estimate of the exported (pruned) tables is what the knapsack counted
    assert keras_lut_cost(kmodel, "estimate") == pytest.approx(rk.lut_cost)
    assert keras_to_ir(kmodel).lut_cost() < lut_network_cost(twin_models("linear", {}, seed=3)[0])


def test_keras_iterative_pruning_fine_tunes_with_a_train_config():
    from lutnet.config import TrainConfig
    from lutnet.pruning.keras_prune import prune_keras_lut_iteratively
    from lutnet.pruning.schedule import PolynomialSchedule
    _, kmodel = twin_models("linear", {}, seed=5)
    X = np.random.default_rng(0).normal(0, 1, (300, 12)).astype(np.float32)
    y = X[:, :3].argmax(1)
    budget = 0.5 * keras_lut_cost(kmodel)
    hist = prune_keras_lut_iteratively(kmodel, X, y, budget, PolynomialSchedule(2),
                                       TrainConfig(epochs=1, batch_size=64, lr=1e-3, seed=0))
    assert len(hist) == 2 and all(h["usage"]["lut"] <= h["budgets"]["lut"] for h in hist)
    assert all(0 <= h["val_acc"] <= 1 for h in hist)
    assert keras_lut_cost(kmodel) == keras_to_ir(kmodel).lut_cost() <= budget  # fine-tuning kept the masks
