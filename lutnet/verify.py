"""Bit-exactness check: the Python model against the IR evaluator on a dataset."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .frontend import frontend_of
from .ir import NetworkIR


@dataclass
class VerifyReport:
    samples: int
    input_mismatches: int      # samples whose input codes differ (model quantizer vs ir.quantize_input)
    output_mismatches: int     # samples whose output codes differ (model vs IR evaluator)
    first_mismatch: int | None
    model_accuracy: float | None
    ir_accuracy: float | None

    @property
    def ok(self) -> bool:
        return self.input_mismatches == 0 and self.output_mismatches == 0

    def __str__(self):
        acc = "" if self.model_accuracy is None else (
            f"; accuracy model {self.model_accuracy:.4f}, IR {self.ir_accuracy:.4f}")
        return (f"{self.samples} samples: {self.output_mismatches} output mismatches, "
                f"{self.input_mismatches} input-code mismatches{acc}")


def model_codes(model, X, batch_size: int = 8192):
    """(input codes, output codes) of a Brevitas LUTNet or a Keras model of lutnet LUT layers."""
    fe = frontend_of(model)
    return fe.input_codes(model, X), fe.output_codes(model, X, batch_size=batch_size)


def verify(model, ir: NetworkIR, X, y=None, batch_size: int = 8192) -> VerifyReport:
    """Compare output codes of ``model`` (eval mode, batches of ``batch_size``) with ``ir.evaluate``
    on the same input codes, and the model's input quantizer with ``ir.quantize_input``.
    ``model`` is a Brevitas :class:`~lutnet.nn.LUTNet` or a Keras model of lutnet LUT layers."""
    X = np.asarray(X, dtype=np.float32)
    codes, m = model_codes(model, X, batch_size)
    in_bad = int((ir.quantize_input(X) != codes).any(1).sum())
    r = ir.evaluate(codes)
    bad = np.flatnonzero((m != r).any(1))
    macc = iacc = None
    if y is not None:
        y = np.asarray(y)
        cls = (lambda out: out[:, 0]) if ir.argmax else (lambda out: np.argmax(ir.scores(out), 1))  # argmax stage: the index
        macc = float((cls(m) == y).mean())
        iacc = float((cls(r) == y).mean())
    return VerifyReport(len(X), in_bad, len(bad), int(bad[0]) if len(bad) else None, macc, iacc)
