"""The distinct-order sweep: how many distinct orders each candidate exposed.

Plain numpy, shared by every route that counts (:mod:`forensics.scale.portable`'s
eager core and :func:`forensics.analysis.commonpoint.keyed_counts`), and kept apart
from :mod:`forensics.scale.portable` so that counting does not import narwhals.
"""

from __future__ import annotations

import numpy as np

__all__ = ["exposed_sweep"]


def exposed_sweep(
    points: np.ndarray, start: np.ndarray, end: np.ndarray, span: int, candidates: int
) -> np.ndarray:
    """Distinct orders of each candidate ``0 .. candidates - 1``.

    Candidate ``k`` owns the stretch ``[k * span, (k + 1) * span)`` of the
    number line. ``points`` are its single orders (``k * span + order``;
    nearly every interval is one: a view, a label print), sorted; the
    distinct orders of a stretch are the points in it (two binary searches)
    that differ from the point before. ``[start, end)`` are the ranges
    (exports, API pulls), in any order: merged into disjoint blocks by a
    running maximum, they add what they cover beyond the single orders
    inside them.
    """
    # first[i]: points[i] is not a repeat of points[i - 1]. The distinct
    # points in a stretch [a, b) of the number line are the ``first`` among
    # them; only a few stretches are asked about (one per candidate, one per
    # block of ranges), so they are counted where asked, never by a running
    # total over every point (a pass that wrote eight bytes per point).
    first = np.ones(points.size, dtype=bool)
    np.not_equal(points[1:], points[:-1], out=first[1:])

    def distinct(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ia, ib = np.searchsorted(points, a), np.searchsorted(points, b)
        at, where = np.unique(np.concatenate((ia, ib)), return_inverse=True)
        return np.diff(_firsts_before(first, at)[where].reshape(2, -1), axis=0)[0]

    edges = np.arange(max(candidates, 1) + 1, dtype=np.int64) * span
    exposed = distinct(edges[:-1], edges[1:])[:candidates]
    if start.size:
        order = np.argsort(start, kind="stable")
        start, end = start[order], end[order]
        # Ranges merged into disjoint blocks by a running maximum; a block
        # adds its length less the single orders already counted inside it.
        reach = np.maximum.accumulate(end)
        first_of_block = np.flatnonzero(np.concatenate(([True], start[1:] > reach[:-1])))
        block_start = start[first_of_block]
        block_end = np.maximum.reduceat(end, first_of_block)
        added = block_end - block_start - distinct(block_start, block_end)
        np.add.at(exposed, block_start // span, added)
    return exposed


_ONE_BY_ONE = 10_000  # stretches counted one at a time; more: one reduceat pass


def _firsts_before(first: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``first[:i].sum()`` for each ``i`` of ``at`` (sorted, unique)."""
    counts = np.zeros(at.size, dtype=np.int64)
    inside = at > 0
    ends = at[inside]
    if ends.size:
        starts = np.concatenate(([0], ends[:-1]))
        if ends.size <= _ONE_BY_ONE:
            pairs = zip(starts.tolist(), ends.tolist(), strict=True)
            parts = np.array([np.count_nonzero(first[s:e]) for s, e in pairs], dtype=np.int64)
        else:
            # reduceat sums first[starts[j]:starts[j + 1]], and the last
            # stretch to the end: that one is counted to its own end.
            parts = np.add.reduceat(first, starts, dtype=np.int64)
            parts[-1] = np.count_nonzero(first[starts[-1] : ends[-1]])
        counts[inside] = np.cumsum(parts)
    return counts
