"""Exceptions of resource-aware pruning; all derive from :class:`lutnet.errors.LutnetError`."""
from __future__ import annotations

from ..errors import LutnetError


class PruningError(LutnetError, ValueError):
    """A pruning problem or request is malformed (bad costs, bad options, unsolvable instance)."""


class UnknownResourceError(PruningError):
    """A budget names a resource the problem has no cost for; the message lists the known ones."""


class InfeasibleBudgetError(PruningError):
    """A budget is below the cost of the structures that must be kept; ``minimum`` holds that cost
    per resource (the smallest budget that can be met)."""

    def __init__(self, message: str, minimum: dict | None = None):
        super().__init__(message)
        self.minimum = dict(minimum or {})
