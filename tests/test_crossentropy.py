"""CrossEntropyLoss: a hand-worked example, gradient checks, replicas, stability, PyTorch."""

import math

import numpy as np
import pytest

from proplab.gradcheck import gradcheck
from proplab.losses import CrossEntropyLoss, softmax
from proplab.metrics import one_hot
from proplab.registry import resolve


def test_hand_worked_example() -> None:
    # logits (0, ln 3): softmax = (1/4, 3/4). Label 1 -> -ln(3/4); label 0 -> -ln(1/4).
    z = np.array([[0.0, math.log(3.0)], [0.0, math.log(3.0)]])
    loss = CrossEntropyLoss()
    value = loss(z, np.array([1, 0]))
    assert value == pytest.approx((-math.log(0.75) - math.log(0.25)) / 2, rel=1e-14)
    # dL/dz = (p - onehot) / n = ((1/4, -1/4), (-3/4, 3/4)) / 2
    np.testing.assert_allclose(loss.backward(), [[0.125, -0.125], [-0.375, 0.375]], rtol=1e-14)


@pytest.mark.parametrize(
    "target",
    [
        np.array([2, 0, 1, 2, 1]),  # (n,)
        np.array([[2], [0], [1], [2], [1]]),  # (n, 1)
        np.array([2.0, 0.0, 1.0, 2.0, 1.0]),  # float labels holding integers
    ],
)
def test_label_forms_agree_with_one_hot(target: np.ndarray) -> None:
    z = np.random.default_rng(0).standard_normal((5, 3))
    hot = one_hot(np.array([2, 0, 1, 2, 1]), 3)
    a, b = CrossEntropyLoss(), CrossEntropyLoss()
    assert a(z, target) == pytest.approx(b(z, hot), rel=1e-14)
    np.testing.assert_allclose(a.backward(), b.backward(), rtol=1e-14, atol=1e-17)


def test_gradcheck_labels_and_soft_targets() -> None:
    rng = np.random.default_rng(1)
    z = rng.standard_normal((6, 4)) * 3
    assert gradcheck(CrossEntropyLoss(), z, rng.integers(0, 4, size=(6, 1))).ok
    soft = rng.dirichlet(np.ones(4), size=6)
    assert gradcheck(CrossEntropyLoss(), z, soft).ok
    # unnormalised "probabilities": the gradient is p * sum(t) - t, not p - t
    assert gradcheck(CrossEntropyLoss(), z, soft * 2.5).ok


def test_gradcheck_with_replicas_and_per_replica_loss() -> None:
    rng = np.random.default_rng(2)
    z = rng.standard_normal((3, 5, 4))  # 3 replicas, 5 samples, 4 classes
    shared = rng.integers(0, 4, size=5)
    per_replica = rng.integers(0, 4, size=(3, 5, 1))
    for target in (shared, per_replica):
        assert gradcheck(CrossEntropyLoss(), z, target).ok
    loss = CrossEntropyLoss()(z, per_replica)
    assert loss.shape == (3,)
    for k in range(3):
        assert loss[k] == pytest.approx(CrossEntropyLoss()(z[k], per_replica[k]), rel=1e-14)


def test_stable_for_huge_logits() -> None:
    z = np.array([[1000.0, 0.0, -1000.0], [-800.0, 800.0, 0.0]])
    loss = CrossEntropyLoss()
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        value = loss(z, np.array([0, 0]))
        grad = loss.backward()
    # row 0 is right with certainty (loss 0); row 1 misses by 1600 nats
    assert value == pytest.approx(1600.0 / 2, rel=1e-12)
    np.testing.assert_allclose(grad, [[0.0, 0.0, 0.0], [-0.5, 0.5, 0.0]], atol=1e-300)
    np.testing.assert_allclose(softmax(z)[0], [1.0, 0.0, 0.0])


def test_bad_targets_are_named() -> None:
    z = np.zeros((3, 2))
    with pytest.raises(ValueError, match="label 2 is not a class index"):
        CrossEntropyLoss()(z, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="label 0.5"):
        CrossEntropyLoss()(z, np.array([0.5, 1.0, 0.0]))
    with pytest.raises(ValueError, match="C >= 2"):
        CrossEntropyLoss()(np.zeros((3, 1)), np.zeros((3, 1)))


def test_registered_as_cross_entropy() -> None:
    assert resolve("loss", "cross_entropy") is CrossEntropyLoss
    assert resolve("loss", "CE") is CrossEntropyLoss


@pytest.mark.torch
def test_matches_torch_forward_and_backward() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    z = rng.standard_normal((7, 5)) * 4
    labels = rng.integers(0, 5, size=7)
    soft = rng.dirichlet(np.ones(5), size=7)
    for target, torch_target in (
        (labels, torch.tensor(labels)),
        (soft, torch.tensor(soft)),
    ):
        zt = torch.tensor(z, requires_grad=True)
        ref = torch.nn.CrossEntropyLoss()(zt, torch_target)
        ref.backward()
        loss = CrossEntropyLoss()
        assert loss(z, target) == pytest.approx(ref.item(), rel=1e-12)
        np.testing.assert_allclose(loss.backward(), zt.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_stacked_integer_labels_stay_labels_when_they_look_one_hot() -> None:
    """Labels (K, n) with K == n == C have the shape of shared one-hot rows (n, C); an
    integer array is read as labels, so each replica gets its loss and accuracy alone."""
    from proplab.scoring import accuracy

    rng = np.random.default_rng(0)
    logits = rng.standard_normal((3, 3, 3))
    labels = np.array([[0, 2, 1], [1, 1, 0], [2, 0, 2]])
    alone = [CrossEntropyLoss()(logits[k], labels[k]) for k in range(3)]
    np.testing.assert_allclose(CrossEntropyLoss()(logits, labels), alone, rtol=1e-15)
    np.testing.assert_array_equal(
        accuracy(logits, labels), [accuracy(logits[k], labels[k]) for k in range(3)]
    )
    # float rows of that shape are still one-hot targets shared by every replica
    shared = one_hot(np.array([0, 2, 1]), 3)
    np.testing.assert_allclose(
        CrossEntropyLoss()(logits, shared),
        [CrossEntropyLoss()(logits[k], shared) for k in range(3)],
        rtol=1e-15,
    )


def test_boolean_labels_per_replica_are_labels_even_when_r_n_and_c_agree() -> None:
    """Labels (R, n) of dtype bool against logits (R, n, C) with R == n == C == 2: read as
    each replica's labels (as integers would be), not as shared one-hot rows (n, C)."""
    z = np.array([[[0.0, math.log(3.0)], [0.0, 0.0]], [[1.0, 1.0], [math.log(3.0), 0.0]]])
    labels = np.array([[True, False], [False, True]])
    loss = CrossEntropyLoss()
    # replica 0: -ln(3/4) (label 1), -ln(1/2) (label 0); replica 1: -ln(1/2), -ln(1/4)
    expected = [
        (-math.log(0.75) + math.log(2.0)) / 2,
        (math.log(2.0) - math.log(0.25)) / 2,
    ]
    np.testing.assert_allclose(loss(z, labels), expected, rtol=1e-14)
    np.testing.assert_allclose(loss.backward(), [
        [[0.125, -0.125], [-0.25, 0.25]],
        [[-0.25, 0.25], [0.375, -0.375]],
    ], rtol=1e-14)  # fmt: skip


def test_per_replica_labels_of_a_one_sample_batch() -> None:
    # logits (R=3, n=1, C=2), labels (R, n) = (3, 1): one label per replica, not (n, 1)
    z = np.array([[[0.0, math.log(3.0)]], [[math.log(3.0), 0.0]], [[0.0, 0.0]]])
    loss = CrossEntropyLoss()
    value = loss(z, np.array([[1], [1], [0]]))
    np.testing.assert_allclose(value, [-math.log(0.75), -math.log(0.25), math.log(2.0)])
    np.testing.assert_allclose(
        loss.backward(), [[[0.25, -0.25]], [[0.75, -0.75]], [[-0.5, 0.5]]], rtol=1e-14
    )


def test_a_negative_label_is_refused() -> None:
    # -1 would index the last class (NumPy's negative indexing) and give a plausible loss
    with pytest.raises(ValueError, match="label -1 is not a class index"):
        CrossEntropyLoss()(np.zeros((3, 3)), np.array([0, -1, 1]))
