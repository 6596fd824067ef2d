"""Budget schedules: how the resource budget moves from the unpruned cost to the target.

``ConstantSchedule`` prunes once, straight to the target.  ``PolynomialSchedule`` follows
TF-MOT's ``PolynomialDecay`` applied to the pruned fraction: after step ``i`` of ``n`` the budget is
``target + (initial - target) * (1 - i/n) ** power``, so large cuts come first and the last steps
are gentle (``power=3`` as in TF-MOT; ``power=1`` is linear).  Each schedule yields per-step
budgets; multi-resource budgets are scheduled per resource.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import PruningError


@dataclass(frozen=True)
class ConstantSchedule:
    """One step, straight to the target (one-shot pruning)."""

    def budgets(self, initial: float, target: float) -> list[float]:
        return [float(target)]


@dataclass(frozen=True)
class PolynomialSchedule:
    """``steps`` budgets decaying polynomially from ``initial`` to ``target`` (the last is the target)."""
    steps: int = 4
    power: float = 3.0

    def __post_init__(self):
        if self.steps < 1:
            raise PruningError(f"PolynomialSchedule needs steps >= 1, got {self.steps}")
        if self.power <= 0:
            raise PruningError(f"PolynomialSchedule needs power > 0, got {self.power}")

    def budgets(self, initial: float, target: float) -> list[float]:
        start = max(float(initial), float(target))
        out = [target + (start - target) * (1 - i / self.steps) ** self.power for i in range(1, self.steps)]
        return [float(b) for b in out] + [float(target)]


def schedule_budgets(schedule, initial: dict, target: dict) -> list[dict]:
    """Per-step budget dicts for every resource in ``target`` (``initial`` holds current usage)."""
    per = {r: schedule.budgets(initial.get(r, t), t) for r, t in target.items()}
    steps = {len(v) for v in per.values()}
    if len(steps) > 1:
        raise PruningError("a schedule must give the same number of steps for every resource")
    n = steps.pop() if steps else 0
    return [{r: v[i] for r, v in per.items()} for i in range(n)]
