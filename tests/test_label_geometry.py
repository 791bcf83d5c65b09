"""label_geometry: the polygons the trace figure places its labels with, against cases
worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from proplab.label_geometry import corners, crosses, overlap


def test_corners_of_a_turned_rectangle_go_round_in_order() -> None:
    square = corners(1.0, 2.0, 0.5, 0.25, 0.0)
    assert np.allclose(square, [[0.5, 1.75], [1.5, 1.75], [1.5, 2.25], [0.5, 2.25]])
    # a quarter turn: the long side stands up
    upright = corners(0.0, 0.0, 0.5, 0.25, math.pi / 2)
    assert np.allclose(upright, [[0.25, -0.5], [0.25, 0.5], [-0.25, 0.5], [-0.25, -0.5]])


@pytest.mark.parametrize(
    ("shift", "angle", "expected"),
    [
        ((0.9, 0.0), 0.0, True),  # side by side, overlapping by 0.1
        ((1.1, 0.0), 0.0, False),  # apart by 0.1
        ((1.0, 0.0), 0.0, False),  # touching edges: no area shared
        ((1.1, 0.0), math.pi / 4, True),  # a diamond's tip reaches in to 1.1 - 0.707 < 0.5
        ((1.3, 0.0), math.pi / 4, False),  # its tip stops at 0.593, past the edge at 0.5
        ((1.3, 1.3), math.pi / 4, False),  # diagonally clear of the corner
    ],
)
def test_two_rectangles_overlap_only_when_they_share_area(shift, angle, expected) -> None:
    a = corners(0.0, 0.0, 0.5, 0.5, 0.0)
    b = corners(shift[0], shift[1], 0.5, 0.5, angle)
    assert overlap(a, b) == expected and overlap(b, a) == expected


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ([(-2.0, 0.0), (2.0, 0.0)], True),  # straight through
        ([(-2.0, 1.0), (2.0, 1.0)], False),  # above it
        ([(-2.0, -2.0), (2.0, 2.0)], True),  # the diagonal
        ([(-2.0, 0.0), (-1.0, 0.0)], False),  # stops short
        ([(0.0, 0.0), (0.1, 0.0)], True),  # wholly inside
        ([(0.6, -2.0), (0.6, 2.0)], False),  # vertical, beside it
    ],
)
def test_a_segment_crosses_a_rectangle_only_through_its_inside(segment, expected) -> None:
    rect = corners(0.0, 0.0, 0.5, 0.5, 0.0)
    assert crosses(np.array(segment), rect) == expected
    # the same picture turned by 30 degrees gives the same answer
    turn = math.pi / 6
    rotation = np.array([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]])
    turned = corners(0.0, 0.0, 0.5, 0.5, turn)
    assert crosses(np.array(segment) @ rotation.T, turned) == expected
