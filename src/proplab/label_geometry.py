"""The plane geometry the trace figure lays its labels out with: turned rectangles as
polygons, whether two convex polygons overlap, whether a segment passes through a
rectangle. Points are ``(x, y)`` in inches; polygons ``(k, 2)`` arrays of corners in order.
"""

from __future__ import annotations

import math

import numpy as np


def corners(cx: float, cy: float, half_w: float, half_h: float, angle: float) -> np.ndarray:
    """The corners ``(4, 2)`` of a rectangle centred on (cx, cy), turned by ``angle`` radians."""
    u = np.array([math.cos(angle), math.sin(angle)])
    v = np.array([-u[1], u[0]])
    return np.array(
        [
            [cx, cy] + su * half_w * u + sv * half_h * v
            for su, sv in ((-1, -1), (1, -1), (1, 1), (-1, 1))
        ]
    )


def overlap(p: np.ndarray, q: np.ndarray) -> bool:
    """Whether two convex polygons ``(k, 2)`` overlap (no edge of either separates them)."""
    for poly in (p, q):
        for a, b in zip(poly, np.roll(poly, -1, axis=0), strict=True):
            normal = np.array([a[1] - b[1], b[0] - a[0]])
            sp, sq = p @ normal, q @ normal
            if sp.max() <= sq.min() or sq.max() <= sp.min():
                return False
    return True


def crosses(segment: np.ndarray, rect: np.ndarray) -> bool:
    """Whether ``segment`` ``(2, 2)`` passes through the rectangle ``rect`` ``(4, 2)``
    (corners in order): the segment clipped to the rectangle's frame is not empty."""
    origin, u, v = rect[0], rect[1] - rect[0], rect[3] - rect[0]
    # the segment's ends in the rectangle's frame, where it is the unit square
    local = [((e - origin) @ u / (u @ u), (e - origin) @ v / (v @ v)) for e in segment]
    lo, hi = 0.0, 1.0
    for axis in (0, 1):
        a, b = local[0][axis], local[1][axis]
        if abs(b - a) < 1e-12:
            if not 0.0 <= a <= 1.0:
                return False
            continue
        t0, t1 = sorted(((0.0 - a) / (b - a), (1.0 - a) / (b - a)))
        lo, hi = max(lo, t0), min(hi, t1)
    return lo < hi
