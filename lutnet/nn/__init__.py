"""Brevitas (PyTorch) LUT layers."""
from .layer import LUTLayer, LUTNet, random_connectivity
from .neurons import NEURON_KINDS, LinearNeuron, NeuronFunction, NeuronSpec, PolyNeuron, SubnetNeuron, make_neuron, monomials

__all__ = ["LUTLayer", "LUTNet", "random_connectivity", "NEURON_KINDS", "LinearNeuron", "NeuronFunction",
           "NeuronSpec", "PolyNeuron", "SubnetNeuron", "make_neuron", "monomials"]
