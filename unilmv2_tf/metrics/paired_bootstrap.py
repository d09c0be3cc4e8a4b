"""The paired bootstrap: is one system's mean per-example score really above another's?"""

import numpy as np


def paired_bootstrap(a, b, samples=10000, seed=0):
    """`{mean_a, mean_b, difference, low, high, a_not_above_b}` for per-example scores `a`,
    `b` of the same examples: `samples` resamplings of the examples with replacement, the
    same rows for both systems; `low`, `high` bound the 95 % interval of the difference of
    the means (A - B), `a_not_above_b` is the share of resamplings where A - B <= 0.

    >>> out = paired_bootstrap([2.0, 3.0, 4.0], [1.0, 2.0, 3.0], 200, 0)
    >>> out["difference"], out["low"], out["a_not_above_b"]
    (1.0, 1.0, 0.0)
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 1 or not len(a):
        raise ValueError(f"paired_bootstrap needs two equally long, non-empty lists of scores, "
                         f"got shapes {a.shape} and {b.shape}.")
    rows = np.random.default_rng(seed).integers(0, len(a), (samples, len(a)))
    differences = (a[rows] - b[rows]).mean(axis=1)
    low, high = np.percentile(differences, [2.5, 97.5])
    return {"mean_a": float(a.mean()), "mean_b": float(b.mean()),
            "difference": float(a.mean() - b.mean()), "low": float(low), "high": float(high),
            "a_not_above_b": float((differences <= 0).mean())}
