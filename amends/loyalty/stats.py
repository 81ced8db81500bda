"""Confidence intervals for the reports (95%)."""

from __future__ import annotations

import math

Z = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z) -> tuple[float | None, float | None]:
    """Wilson score interval of a proportion; (None, None) when there is nothing to measure."""
    if n <= 0:
        return None, None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_ci(
    total: float, total_sq: float, n: int, z: float = Z
) -> tuple[float | None, float | None, float | None]:
    """Mean with a normal-approximation interval from a sum and a sum of squares."""
    if n <= 0:
        return None, None, None
    mean = total / n
    if n == 1:
        return mean, None, None
    variance = max(0.0, (total_sq - n * mean * mean) / (n - 1))
    half = z * math.sqrt(variance / n)
    return mean, mean - half, mean + half
