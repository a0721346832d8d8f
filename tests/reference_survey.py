"""A plainly written second implementation of raking and linearised SEs, for tests only.

Respondent by respondent, no aggregation tricks, following R's survey package
line by line: ``rake()`` as repeated ``postStratify`` over the margins, and
``svyrecvar``'s raking sweep ``x <- x - w * ave(x / w, margin)`` ten times,
then n / (n - 1) * sum((x - mean(x))^2).
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def rake_plain(categories: dict[str, np.ndarray], controls: dict[str, dict], tol=1e-13, max_iter=10_000,
               start=None):
    n = len(next(iter(categories.values())))
    w = np.ones(n) if start is None else np.array(start, dtype=np.float64)
    for _ in range(max_iter):
        before = w.copy()
        for variable, codes in categories.items():
            for code, target in controls[variable].items():
                members = codes == code
                w[members] *= target / w[members].sum()
        if np.max(np.abs(w - before) / before) < tol:
            return w
    raise RuntimeError("plain raking did not converge")


def domain_mean_plain(y, in_domain, w, categories: dict[str, np.ndarray] | None):
    """(estimate, se) of sum(w z y) / sum(w z) with z = in_domain & y known."""
    y = np.asarray(y, dtype=np.float64)
    z = np.asarray(in_domain, dtype=bool) & ~np.isnan(y)
    total = np.sum(w * z)
    estimate = np.sum(w * z * np.where(z, y, 0.0)) / total
    x = w * z * (np.where(z, y, 0.0) - estimate) / total
    for _ in range(10 if categories else 0):
        for codes in categories.values():
            u = pd.Series(x / w)
            x = x - w * u.groupby(codes).transform("mean").to_numpy()
    n = len(x)
    variance = n / (n - 1) * np.sum((x - x.mean()) ** 2)
    return estimate, np.sqrt(variance)


def domain_difference_plain(y, first, second, w, categories):
    """(difference, se) of two disjoint domain means, from the difference of influences."""
    y = np.asarray(y, dtype=np.float64)
    influences, estimates = [], []
    for domain in (first, second):
        z = np.asarray(domain, dtype=bool) & ~np.isnan(y)
        total = np.sum(w * z)
        estimate = np.sum(w * z * np.where(z, y, 0.0)) / total
        influences.append(w * z * (np.where(z, y, 0.0) - estimate) / total)
        estimates.append(estimate)
    x = influences[0] - influences[1]
    for _ in range(10 if categories else 0):
        for codes in categories.values():
            x = x - w * pd.Series(x / w).groupby(codes).transform("mean").to_numpy()
    n = len(x)
    return estimates[0] - estimates[1], np.sqrt(n / (n - 1) * np.sum((x - x.mean()) ** 2))
