"""FPGA resource-aware structured pruning (knapsack formulation) for lutnet and dense networks.

* :mod:`.knapsack` — framework-neutral problem, exact DP / MILP solvers, greedy and brute force;
* :mod:`.resources` — LUT cost of LUT neurons, hls4ml-style DSP/BRAM/LUT cost of dense layers;
* :mod:`.lut_structures` — a LUT network's knapsack (per neuron: how many inputs to keep), numpy only;
* :mod:`.importance` — magnitude (L1/L2) and Taylor (|w·grad|) importance of structures (PyTorch);
* :mod:`.schedule` — constant and polynomial budget schedules;
* :mod:`.loop` — the pruning loops, written once for every framework (numpy only);
* :mod:`.learn` — learned connectivity: train wider, the knapsack keeps each neuron's best ``fan_in``
  inputs under a LUT budget, layers frozen to them (numpy only; ``fit_learned`` runs a config's
  ``learn_connectivity`` with either frontend);
* :mod:`.torch_prune` — their PyTorch side: lutnet LUT networks and PyTorch/Brevitas dense MLPs;
* :mod:`.keras_prune` — their Keras side: lutnet.keras LUT layers and Keras/QKeras Dense (imports TensorFlow).

``lutnet.frontend.frontend_of(model).prune(model, budget, ...)`` prunes a model of either framework.
"""
from .errors import InfeasibleBudgetError, PruningError, UnknownResourceError
from .knapsack import KnapsackProblem, Solution, solve, solve_brute_force, solve_dp, solve_greedy, solve_milp
from .resources import DenseResourceModel, lut_cost_model, lut_neuron_cost
from .schedule import ConstantSchedule, PolynomialSchedule

_TORCH = ("learn_lut_connectivity", "lut_network_cost", "prune_dense", "prune_dense_iteratively",
          "prune_lut_iteratively", "prune_lut_network")


def __getattr__(name):  # the PyTorch loops import torch only when asked for (the rest is numpy)
    if name in _TORCH:
        from . import torch_prune
        return getattr(torch_prune, name)
    if name in ("fit_learned", "learn_connectivity"):
        from . import learn
        return getattr(learn, name)
    raise AttributeError(f"module 'lutnet.pruning' has no attribute {name!r}")


__all__ = ["ConstantSchedule", "DenseResourceModel", "InfeasibleBudgetError", "KnapsackProblem", "fit_learned",
           "learn_connectivity", "learn_lut_connectivity",
           "PolynomialSchedule", "PruningError", "Solution", "UnknownResourceError", "lut_cost_model",
           "lut_neuron_cost", "lut_network_cost", "prune_dense", "prune_dense_iteratively",
           "prune_lut_iteratively", "prune_lut_network", "solve", "solve_brute_force", "solve_dp", "solve_greedy",
           "solve_milp"]
