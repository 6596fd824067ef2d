"""Minimized counterexamples: let Hypothesis search a network strategy for a case where some level
disagrees with the IR, shrink it (fewer layers, narrower, fewer bits, smaller fan-in, no pruning),
and return the smallest failing case with its :class:`~lutnet.harness.check.Report` (which names
the level, the first differing layer/neuron and a shrunk failing vector)."""
from __future__ import annotations

from dataclasses import dataclass

from ..vectors import random_input_codes
from .check import Report, check_levels


@dataclass
class Counterexample:
    case: object      # the NetworkCase (``case.spec`` reproduces it)
    report: Report

    def __str__(self):
        return f"smallest failing network: {self.case!r}\n{self.report}"


def default_check(levels=("ir", "onnx"), n_vectors: int = 200, **opts):
    def check(case):
        src = case.model if getattr(case, "model", None) is not None else case.ir
        return check_levels(src, random_input_codes(case.ir, n_vectors, seed=1), levels=levels, **opts)
    return check


def find_counterexample(strategy, check=None, *, max_examples: int = 200, seed: int = 0):
    """The smallest case of ``strategy`` whose ``check(case)`` Report is not ok, or None.

    ``check`` defaults to IR vs ONNX on the corner codes plus 200 random vectors."""
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis.errors import NoSuchExample
    check = check or default_check()
    s = settings(max_examples=max_examples, deadline=None, database=None, derandomize=True,
                 phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
    try:
        case = find(strategy, lambda c: not check(c).ok, settings=s)
    except NoSuchExample:
        return None
    return Counterexample(case, check(case))
