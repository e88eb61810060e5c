"""Log tail probabilities the common-point tests use, finite however small.

Strong leaks give p-values far below float range, so every tail here is in
log space: the hypergeometric upper tail of the overlap test
(:func:`hypergeom_logsf`, computed once per distinct (k, n) pair) and the
Poisson upper tail of the onset test (:func:`poisson_logsf`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["hypergeom_logsf", "hypergeom_log_tail", "poisson_logsf"]


def hypergeom_logsf(k: np.ndarray, n: np.ndarray, N: int, K: int) -> np.ndarray:
    """log P(X >= k), X ~ hypergeometric(N, K, max(n, k)); 0 where k is 0.

    Log-space: strong leaks give p-values far below float range. Thousands
    of paths share few distinct (k, n) pairs, so each pair is computed once,
    and all of them together by :func:`hypergeom_log_tail`.
    """
    logp = np.zeros(len(k), dtype=np.float64)
    some = k > 0
    if not some.any():
        return logp
    pairs = np.stack([k[some], np.maximum(n[some], k[some])], axis=1).astype(np.int64)
    distinct, back = np.unique(pairs, axis=0, return_inverse=True)
    tail = hypergeom_log_tail(distinct[:, 0], distinct[:, 1], N, K)
    logp[some] = tail[back.reshape(-1)]
    return logp


_TAIL_BLOCK = 256
_TAIL_EPS = np.log(1e-20)


def hypergeom_log_tail(k: np.ndarray, n: np.ndarray, N: int, K: int) -> np.ndarray:
    """log P(X >= k) for X ~ hypergeometric(N, K, n), every (k, n) at once.

    scipy.stats' tail costs about 13 ms a call when n is in the millions, and a
    large case has thousands of paths. The distribution is log-concave, so
    from ``k`` the terms only fall moving away from the mode: above the
    mode the upper tail is summed upwards from ``k``; otherwise the lower
    tail below ``k`` is summed downwards and subtracted from 1.
    """
    k = np.asarray(k, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    out = np.zeros(k.size, dtype=np.float64)
    low, high = np.maximum(0, n + K - N), np.minimum(n, K)  # the support
    mode = ((n + 1) * (K + 1)) // (N + 2)
    out[k > high] = -np.inf
    upper = (k <= high) & (k > low) & (k > mode)
    lower = (k <= high) & (k > low) & ~upper
    if upper.any():
        out[upper] = _log_sum_away(k[upper], 1, n[upper], N, K, low[upper], high[upper])
    if lower.any():
        below = _log_sum_away(k[lower] - 1, -1, n[lower], N, K, low[lower], high[lower])
        out[lower] = np.log1p(-np.minimum(np.exp(below), 1.0))
    return out


def _log_sum_away(start, step: int, n, N: int, K: int, low, high) -> np.ndarray:
    """log of the pmf summed from ``start`` in direction ``step`` (+1 or
    -1) to the end of the support, where the terms only fall.

    Each term is the log-pmf at ``start`` plus the running sum of the
    log ratios of neighbouring terms; a block of terms per step for every
    sum still open, until a term falls below 1e-20 of its sum.
    """
    from scipy import special  # imported when first needed (~0.2 s)

    nf = n.astype(np.float64)
    total = np.full(start.size, -np.inf)
    pos = start.astype(np.float64)  # where the next block starts
    head = _hypergeom_logpmf(start, n, N, K)  # log pmf at pos
    todo = np.arange(start.size)
    j = np.arange(_TAIL_BLOCK, dtype=np.float64)
    while todo.size:
        at = pos[todo, None] + step * j  # this block's positions
        inside = (at >= low[todo, None]) & (at <= high[todo, None])
        ratios = _log_ratio(at, nf[todo, None], N, K, step)  # to the next term
        terms = head[todo, None] + np.concatenate(
            [np.zeros((todo.size, 1)), np.cumsum(ratios[:, :-1], axis=1)], axis=1
        )
        terms = np.where(inside, terms, -np.inf)
        total[todo] = np.logaddexp(total[todo], special.logsumexp(terms, axis=1))
        done = ~inside[:, -1] | (terms[:, -1] < total[todo] + _TAIL_EPS)
        head[todo] = terms[:, -1] + ratios[:, -1]
        pos[todo] += step * _TAIL_BLOCK
        todo = todo[~done]
    return total


def _hypergeom_logpmf(k, n, N: int, K: int) -> np.ndarray:
    """log P(X = k), X ~ hypergeometric(N, K, n): scipy.stats' own formula
    in log-beta functions (scipy.stats alone takes a second to import)."""
    k, n = np.asarray(k, dtype=np.float64), np.asarray(n, dtype=np.float64)
    from scipy.special import betaln

    bad = N - K
    return (
        betaln(K + 1, 1)
        + betaln(bad + 1, 1)
        + betaln(N - n + 1, n + 1)
        - betaln(k + 1, K - k + 1)
        - betaln(n - k + 1, bad - n + k + 1)
        - betaln(N + 1, 1)
    )


def _log_ratio(a, n, N: int, K: int, step: int):
    """log pmf(a + step) - log pmf(a); -inf past the support."""
    if step > 0:
        num, den = (K - a) * (n - a), (a + 1) * (N - K - n + a + 1)
    else:
        num, den = a * (N - K - n + a), (K - a + 1) * (n - a + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.log(num) - np.log(den)
    return np.where((num > 0) & (den > 0), r, -np.inf)


def poisson_logsf(k: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """``log P(X >= k)`` for Poisson ``mean``, finite however small.

    The log of the tail (``pdtrc``) underflows to ``-inf`` far in the tail; there the
    Chernoff bound ``-(k log(k / mean) - k + mean)`` (tight to a log factor)
    stands in, so strengths stay comparable numbers.
    """
    from scipy import special

    k = np.asarray(k, dtype=float)
    mean = np.asarray(mean, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = np.where(k < 1, 0.0, np.log(special.pdtrc(np.maximum(k - 1, 0), mean)))
        bound = -(k * np.log(k / mean) - k + mean)
    return np.where(np.isfinite(exact), exact, bound)
