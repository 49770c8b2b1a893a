"""Exact sums across chunks and workers: values in fixed point, and the summary's rounding.

A float sum depends on the order of its terms; a sum of integers does not. Every mean an ensemble reports is
summed in units of ``1 / SCALE``, so that it is the same bytes however the runs were split.
"""

SCALE = 10**9  # fixed point for exact sums: 1e-9 resolution, 9.2e9 run-values before overflow


def rounded(x: float) -> float:
    """Round for the summary: 6 decimals, well below the histogram's resolution."""
    return round(float(x), 6)
