"""Dense (arithmetic) baselines through hls4ml: the classic jet-tagging MLP (16→64→32→32→5) in
QKeras (:mod:`lutnet.baselines.qkeras_mlp`) and in Brevitas (:mod:`lutnet.baselines.brevitas_mlp`),
each converted with hls4ml's Vitis backend, compiled (C simulation) and compared bit for bit.

The submodules import TensorFlow / PyTorch / hls4ml; this package imports nothing heavy.
"""
from .common import JET_MLP_WIDTHS, fixed_grid, mismatches

__all__ = ["JET_MLP_WIDTHS", "fixed_grid", "mismatches"]
