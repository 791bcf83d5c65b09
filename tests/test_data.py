"""The lab's two datasets, with the handout's exact semantics."""

from __future__ import annotations

import numpy as np
import pytest

from proplab.data import LAB_DATASETS, generate_linear, generate_xor_easy

# --- generate_linear -----------------------------------------------------------------


def test_linear_shapes_types_and_range():
    x, y = generate_linear(100, rng=3)
    assert x.shape == (100, 2) and x.dtype == np.float64
    assert y.shape == (100, 1) and np.issubdtype(y.dtype, np.integer)
    assert np.all((x >= 0) & (x <= 1))
    assert set(np.unique(y)) == {0, 1}


def test_linear_label_is_zero_iff_x0_greater_than_x1():
    x, y = generate_linear(500, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(y[:, 0] == 0, x[:, 0] > x[:, 1])
    # both classes are well represented in uniform data (about half each)
    assert 200 < int(y.sum()) < 300


def test_linear_same_seed_same_data_different_seed_different():
    x1, y1 = generate_linear(50, rng=7)
    x2, y2 = generate_linear(50, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    x3, _ = generate_linear(50, rng=8)
    assert not np.any(np.all(x1 == x3, axis=1))
    # no seed means seed 0: reproducible by default
    np.testing.assert_array_equal(generate_linear(20)[0], generate_linear(20, rng=0)[0])


def test_linear_leaves_global_random_state_alone():
    # reading the legacy global state is the point here: nothing may advance it
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    generate_linear(10, rng=1)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


@pytest.mark.parametrize("n", [0, -5, 2.5])
def test_linear_rejects_bad_n(n):
    with pytest.raises(ValueError, match=f"positive integer n, got {n}"):
        generate_linear(n)


@pytest.mark.parametrize("n", [True, None, float("inf"), float("nan")])
def test_linear_rejects_n_that_only_looks_like_a_number(n):
    """True made one point; None and inf gave raw int() errors."""
    with pytest.raises(ValueError, match=f"positive integer n, got {n!r}"):
        generate_linear(n)


@pytest.mark.parametrize("rng", ["a", -1, 1.5, False, [-1]])
def test_linear_rejects_an_rng_that_is_not_a_generator_or_seed(rng):
    with pytest.raises(TypeError, match="generate_linear: rng must be a numpy Generator or a seed"):
        generate_linear(10, rng=rng)
    # what NumPy takes as a seed still works: an int, a list of them
    np.testing.assert_array_equal(
        generate_linear(5, rng=[3, 2])[0], generate_linear(5, rng=np.random.default_rng([3, 2]))[0]
    )


# --- generate_xor_easy ---------------------------------------------------------------


def test_xor_counts_and_shapes(xor):
    x, y = xor
    assert x.shape == (21, 2) and y.shape == (21, 1)
    assert x.dtype == np.float64 and np.issubdtype(y.dtype, np.integer)
    assert int((y == 0).sum()) == 11 and int((y == 1).sum()) == 10


def test_xor_label_order_is_interleaved(xor):
    _, y = xor
    # 0, 1, ... for i = 0..4; i = 5 has only its label-0 point; then 0, 1, ... for i = 6..10
    expected = [0, 1] * 5 + [0] + [0, 1] * 5
    assert y[:, 0].tolist() == expected


def test_xor_coordinates(xor):
    x, y = xor
    np.testing.assert_array_equal(x[0], [0.0, 0.0])
    np.testing.assert_array_equal(x[1], [0.0, 1.0])
    np.testing.assert_allclose(x[2], [0.1, 0.1], rtol=1e-15)
    np.testing.assert_allclose(x[3], [0.1, 0.9], rtol=1e-15)
    np.testing.assert_array_equal(x[10], [0.5, 0.5])
    assert y[10, 0] == 0
    np.testing.assert_allclose(x[11], [0.6, 0.6], rtol=1e-15)
    np.testing.assert_allclose(x[12], [0.6, 0.4], rtol=1e-15)
    np.testing.assert_array_equal(x[19], [1.0, 1.0])
    np.testing.assert_array_equal(x[20], [1.0, 0.0])


def test_xor_centre_point_has_no_label_one_twin(xor):
    x, y = xor
    at_centre = np.all(np.isclose(x, 0.5), axis=1)
    assert at_centre.sum() == 1 and y[at_centre, 0].tolist() == [0]


def test_xor_geometry(xor):
    x, y = xor
    zeros, ones = x[y[:, 0] == 0], x[y[:, 0] == 1]
    np.testing.assert_array_equal(zeros[:, 0], zeros[:, 1])  # the diagonal x0 = x1
    np.testing.assert_allclose(ones.sum(axis=1), 1.0, rtol=1e-15)  # the anti-diagonal
    np.testing.assert_allclose(zeros[:, 0], np.arange(11) / 10, atol=1e-15)


def test_xor_is_deterministic():
    a, b = generate_xor_easy(), generate_xor_easy()
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_the_handouts_name_generate_XOR_easy_gives_the_same_points(xor):
    import proplab

    x, y = proplab.generate_XOR_easy()  # as the handout's code calls it
    np.testing.assert_array_equal(x, xor[0])
    np.testing.assert_array_equal(y, xor[1])


# --- by name -------------------------------------------------------------------------


def test_the_lab_dataset_names_are_the_ones_a_run_loads_by_name():
    """LAB_DATASETS (what the CLI, the reports and dataload check a name against) and
    experiments.DATASETS (the one name -> loader mapping) must name the same datasets;
    loading by name is tested in test_experiments.py."""
    from proplab.experiments import DATASETS

    assert tuple(DATASETS) == LAB_DATASETS


@pytest.mark.parametrize(
    ("loss", "dtype", "width"),
    [("mse", np.float64, 1), ("bce", np.float64, 1), ("cross_entropy", np.int64, 2)],
)
def test_prepared_targets_have_the_dtype_their_loss_computes_with(loss, dtype, width):
    """MSE and BCE subtract the targets from float predictions every epoch: they get
    float64 (no int-to-float cast per epoch); cross-entropy keeps integer class labels."""
    from proplab.config import RunConfig
    from proplab.experiments import prepare_run

    output = "identity" if loss == "cross_entropy" else "sigmoid"  # CE takes raw logits
    _, prep = prepare_run(RunConfig(dataset="xor", loss=loss, output_activation=output))
    x, labels = generate_xor_easy()
    assert prep.y.dtype == dtype and prep.n_out == width
    np.testing.assert_array_equal(prep.y, labels)  # same values, 0 and 1


def test_plane_axes_span_far_inputs_alone_and_keep_the_unit_square_near_it():
    # a CSV's heights (145-190) were drawn on a grid from 0 to 190, the samples in a corner
    from proplab.data import plane_axes

    x = np.array([[150.0, 0.2], [190.0, 0.9]])
    u, v = plane_axes(x, 5)
    np.testing.assert_allclose(u[[0, -1]], [148.0, 192.0])  # the samples' span, 5 % each side
    np.testing.assert_allclose(v[[0, -1]], [-0.05, 1.05])  # within [0, 1]: the unit square
    u, v = plane_axes(np.array([[-1.5, 0.5], [0.5, 3.0]]), 5)  # spans meeting [0, 1]: widened
    np.testing.assert_allclose(u[[0, -1]], [-1.625, 1.125])
    np.testing.assert_allclose(v[[0, -1]], [-0.15, 3.15])
