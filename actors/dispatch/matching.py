"""A batch window's orders matched to free providers together.

Orders collected for a few seconds are matched at once so the total pickup distance is the
smallest (the assignment problem, scipy's linear_sum_assignment); greedy (each order in turn
takes its nearest free provider) is kept to compare with in the simulation.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

NO_MATCH = 1e12  # the cost of a pair that may not be matched (not eligible)


def optimal(costs: list[list[float | None]]) -> dict[int, int]:
    """costs[i][j]: metres from order i to provider j, None when j may not take i.
    → {order index: provider index}, minimising the total over the matched pairs."""
    if not costs or not costs[0]:
        return {}
    matrix = np.array([[NO_MATCH if c is None else c for c in row] for row in costs])
    rows, cols = linear_sum_assignment(matrix)
    return {int(i): int(j) for i, j in zip(rows, cols, strict=True) if matrix[i, j] < NO_MATCH}


def greedy(costs: list[list[float | None]]) -> dict[int, int]:
    """Each order in turn (first come) takes its nearest provider still free."""
    taken: set[int] = set()
    out = {}
    for i, row in enumerate(costs):
        options = [(c, j) for j, c in enumerate(row) if c is not None and j not in taken]
        if options:
            _, j = min(options)
            out[i] = j
            taken.add(j)
    return out


def total(costs: list[list[float | None]], match: dict[int, int]) -> float:
    return sum(costs[i][j] for i, j in match.items())
