"""Learning-rate schedules and L2 weight decay: one step by hand, sequences against PyTorch."""

import math
import re

import numpy as np
import pytest

from proplab.core import Parameter
from proplab.optim import SGD, Adam
from proplab.schedules import CosineAnnealingLR, ReduceLROnPlateau, StepLR


def _sgd(lr: float | np.ndarray = 0.1) -> SGD:
    shape = np.shape(lr)
    return SGD([Parameter(np.zeros(shape + (2,)), replica_ndim=len(shape))], lr=lr)


def test_weight_decay_one_step_sgd() -> None:
    # p = (1, -2), g = (0.5, 0.5), lr 0.1, wd 0.01: p - lr (g + wd p)
    # = (1 - 0.1 * 0.51, -2 - 0.1 * 0.48) = (0.949, -2.048)
    p = Parameter(np.array([1.0, -2.0]))
    p.grad = np.array([0.5, 0.5])
    SGD([p], lr=0.1, weight_decay=0.01).step()
    np.testing.assert_allclose(p.data, [0.949, -2.048], rtol=1e-14)


def test_weight_decay_one_step_adam() -> None:
    # Adam's first step moves every entry by lr * sign(g + wd p) (m/sqrt(v) = +-1):
    # g + wd p = 0.5 + 0.1 * 1 = 0.6 and -0.05 + 0.1 * 2 = 0.15 (the decay flips the sign)
    p = Parameter(np.array([1.0, 2.0]))
    p.grad = np.array([0.5, -0.05])
    Adam([p], lr=0.01, weight_decay=0.1, eps=0.0).step()
    np.testing.assert_allclose(p.data, [0.99, 1.99], rtol=1e-14)


def test_step_lr_by_hand() -> None:
    opt = _sgd(0.1)
    sched = StepLR(opt, step_size=2, gamma=0.5)
    seen = [opt.lr]
    for _ in range(5):
        sched.step()
        seen.append(opt.lr)
    assert seen == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025], rel=1e-15)


def test_cosine_by_hand() -> None:
    opt = _sgd(1.0)
    sched = CosineAnnealingLR(opt, T_max=4, eta_min=0.2)
    seen = [opt.lr]
    for _ in range(6):
        sched.step()
        seen.append(opt.lr)
    # 0.2 + 0.8 (1 + cos(pi e / 4)) / 2 for e = 0..6: past T_max it climbs back
    h = math.sqrt(2) / 2
    expected = [1.0, 0.2 + 0.4 * (1 + h), 0.6, 0.2 + 0.4 * (1 - h), 0.2, 0.2 + 0.4 * (1 - h), 0.6]
    assert seen == pytest.approx(expected, rel=1e-14)


def test_plateau_by_hand() -> None:
    opt = _sgd(1.0)
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1, threshold=0.1)
    # epoch      1     2     3       4          5     6       7
    # metric     1.0   0.95  0.95    0.95       0.95  0.95    0.95  (never < 0.9 * best)
    # bad        0     1     2 > 1   1, cooled  1     2 > 1   1, cooled
    #                        cut               to 0        cut        to 0
    # without the cooldown the second cut would come at epoch 5
    lrs = []
    for _ in range(7):
        sched.step(0.95 if lrs else 1.0)
        lrs.append(opt.lr)
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]


def test_plateau_min_lr_and_max_mode() -> None:
    opt = _sgd(1.0)
    sched = ReduceLROnPlateau(opt, mode="max", factor=0.1, patience=0, min_lr=0.05)
    for metric, lr in ((0.5, 1.0), (0.4, 0.1), (0.3, 0.05), (0.2, 0.05)):
        sched.step(metric)
        assert opt.lr == pytest.approx(lr)


def test_per_replica_learning_rates() -> None:
    opt = _sgd(np.array([1.0, 0.1]))
    StepLR(opt, 1, 0.5).step()
    np.testing.assert_allclose(opt.lr, [0.5, 0.05])
    opt = _sgd(np.array([1.0, 1.0]))
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=0)
    sched.step(np.array([1.0, 1.0]))
    sched.step(np.array([0.5, 2.0]))  # replica 0 improves, replica 1 does not
    np.testing.assert_allclose(opt.lr, [1.0, 0.5])
    with pytest.raises(ValueError, match="one per replica"):
        sched.step(1.0)


def test_schedules_drive_the_optimizer_update() -> None:
    # the changed lr reaches the update rule: SGD step with g = 1 moves p by -lr
    p = Parameter(np.zeros(1))
    opt = SGD([p], lr=1.0)
    sched = StepLR(opt, 1, 0.1)
    for _ in range(3):
        p.grad = np.ones(1)
        opt.step()
        sched.step()
    np.testing.assert_allclose(p.data, [-1.11], rtol=1e-14)


def test_validation() -> None:
    with pytest.raises(ValueError, match="step_size must be a positive integer"):
        StepLR(_sgd(), 0)
    with pytest.raises(ValueError, match="T_max must be a positive integer"):
        CosineAnnealingLR(_sgd(), -3)
    with pytest.raises(ValueError, match="factor must be in"):
        ReduceLROnPlateau(_sgd(), factor=1.5)
    with pytest.raises(TypeError, match="wraps a proplab Optimizer"):
        StepLR("sgd", 1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: StepLR(_sgd(), float("inf")), ValueError, "step_size must be a positive integer, got inf"),
        (lambda: StepLR(_sgd(), None), TypeError, "step_size must be a positive integer, got None"),
        (lambda: StepLR(_sgd(), "3"), TypeError, "step_size must be a positive integer, got '3'"),
        (lambda: StepLR(_sgd(), 2, "a"), TypeError, "gamma must be a finite number > 0, got 'a'"),
        (lambda: StepLR(_sgd(), 2, 0), ValueError, "gamma must be a finite number > 0, got 0"),
        (lambda: CosineAnnealingLR(_sgd(), float("inf")), ValueError,
         "T_max must be a positive integer, got inf"),
        (lambda: CosineAnnealingLR(_sgd(), True), TypeError,
         "T_max must be a positive integer, got True"),
        (lambda: CosineAnnealingLR(_sgd(), 5, "a"), TypeError,
         "eta_min must be a finite number >= 0, got 'a'"),
        (lambda: ReduceLROnPlateau(_sgd(), mode=1), TypeError, "mode must be 'min' or 'max', got 1"),
        (lambda: ReduceLROnPlateau(_sgd(), mode="mean"), ValueError,
         "mode must be 'min' or 'max', got 'mean'"),
        (lambda: ReduceLROnPlateau(_sgd(), patience="3"), TypeError,
         "patience must be an integer >= 0, got '3'"),
        (lambda: ReduceLROnPlateau(_sgd(), cooldown=-1), ValueError,
         "cooldown must be an integer >= 0, got -1"),
    ],
)  # fmt: skip
def test_values_that_are_not_numbers_are_named(build, error, message):
    """inf was an OverflowError, None a raw int() TypeError, 'a' 'must be real number'. No
    number at all (None, text, a bool) is a TypeError, as an optimizer's lr of the wrong
    type; a number out of range a ValueError (fix24c)."""
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        build()


@pytest.mark.torch
def test_lr_sequences_match_torch() -> None:
    torch = pytest.importorskip("torch")
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.7, 0.71, 0.72, 0.73, 0.74, 0.6, 0.61, 0.62, 0.63]
    cases = [
        (lambda o: StepLR(o, 3, 0.3), lambda o: torch.optim.lr_scheduler.StepLR(o, 3, 0.3)),
        (
            lambda o: CosineAnnealingLR(o, 5, 0.01),
            lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 5, 0.01),
        ),
        (
            lambda o: ReduceLROnPlateau(o, factor=0.5, patience=2, cooldown=1),
            lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(
                o, factor=0.5, patience=2, cooldown=1
            ),
        ),
        (
            lambda o: ReduceLROnPlateau(
                o, factor=0.3, patience=1, threshold=0.05, threshold_mode="abs"
            ),
            lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(
                o, factor=0.3, patience=1, threshold=0.05, threshold_mode="abs"
            ),
        ),
    ]
    for ours_of, theirs_of in cases:
        opt = _sgd(0.2)
        t_opt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.2)
        ours, theirs = ours_of(opt), theirs_of(t_opt)
        plateau = isinstance(ours, ReduceLROnPlateau)
        got, want = [opt.lr], [t_opt.param_groups[0]["lr"]]
        for m in metrics:
            t_opt.step()  # torch warns when a scheduler steps before its optimizer
            ours.step(m) if plateau else ours.step()
            theirs.step(m) if plateau else theirs.step()
            got.append(opt.lr)
            want.append(t_opt.param_groups[0]["lr"])
        assert got == pytest.approx(want, rel=1e-12), type(ours).__name__


@pytest.mark.parametrize("name", ["threshold", "min_lr", "eps"])
@pytest.mark.parametrize("bad", [-1.0, float("nan")])
def test_plateau_refuses_negative_or_nan_settings(name, bad):
    import proplab

    opt = proplab.SGD(proplab.mlp(2, 3, 1, rng=np.random.default_rng(0)).parameters(), lr=0.1)
    with pytest.raises(ValueError, match=f"{name} must be a finite number >= 0"):
        proplab.ReduceLROnPlateau(opt, **{name: bad})


@pytest.mark.parametrize("bad", [None, "a"])
def test_plateau_step_wants_a_number(bad):
    import proplab

    opt = proplab.SGD(proplab.mlp(2, 3, 1, rng=np.random.default_rng(0)).parameters(), lr=0.1)
    with pytest.raises(TypeError, match="takes a number per replica"):
        proplab.ReduceLROnPlateau(opt).step(bad)


@pytest.mark.parametrize("threshold_mode", ["rel", "abs"])
def test_plateau_max_mode_needs_a_rise_beyond_the_threshold(threshold_mode) -> None:
    # best 1.0; 1.05 is not above 1.0 * (1 + 0.1) (rel) nor 1.0 + 0.1 (abs): a bad epoch,
    # cut at once (patience 0); 1.2 is above both: no cut
    opt = _sgd(1.0)
    sched = ReduceLROnPlateau(
        opt, mode="max", factor=0.5, patience=0, threshold=0.1, threshold_mode=threshold_mode
    )
    lrs = []
    for metric in (1.0, 1.05, 1.2):
        sched.step(metric)
        lrs.append(opt.lr)
    assert lrs == [1.0, 0.5, 0.5]


@pytest.mark.parametrize(
    ("mode", "threshold_mode", "metrics", "lrs"),
    [
        # from best 2.0, threshold 0.1: the rel bar is 1.8 (min) / 2.2 (max), the abs bar
        # 1.9 / 2.1, so 1.85 and 2.15 are bad epochs (a cut each) for rel, improvements for abs
        ("min", "rel", (2.0, 1.85, 1.85), [1.0, 0.5, 0.25]),
        ("min", "abs", (2.0, 1.85, 1.85), [1.0, 1.0, 0.5]),
        ("max", "rel", (2.0, 2.15, 2.15), [1.0, 0.5, 0.25]),
        ("max", "abs", (2.0, 2.15, 2.15), [1.0, 1.0, 0.5]),
    ],
)
def test_plateau_threshold_is_relative_or_absolute_as_asked(mode, threshold_mode, metrics, lrs):
    # hollow19: every threshold test started from best 1.0, where best * (1 - t) = best - t;
    # reading rel as abs (or abs as rel) passed the whole suite. torch gives these lrs
    opt = _sgd(1.0)
    sched = ReduceLROnPlateau(
        opt, mode=mode, factor=0.5, patience=0, threshold=0.1, threshold_mode=threshold_mode
    )
    seen = []
    for metric in metrics:
        sched.step(metric)
        seen.append(opt.lr)
    assert seen == lrs


@pytest.mark.parametrize("mode", ["min", "max"])
def test_plateau_an_equal_metric_is_no_improvement(mode) -> None:
    # threshold 0: the same metric again is not better (strictly < or >, as in torch)
    opt = _sgd(1.0)
    sched = ReduceLROnPlateau(opt, mode=mode, factor=0.5, patience=0, threshold=0.0)
    sched.step(1.0)
    sched.step(1.0)
    assert opt.lr == 0.5


def test_plateau_skips_a_cut_no_larger_than_eps() -> None:
    # lr 1 -> 0.5 changes it by exactly eps = 0.5: torch cuts only when old - new > eps
    opt = _sgd(1.0)
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=0, eps=0.5)
    sched.step(1.0)
    sched.step(2.0)
    assert opt.lr == 1.0


def test_plateau_best_moves_only_on_an_improvement_beyond_the_threshold() -> None:
    # rel threshold 0.1, patience 1: 0.95 is no improvement on 1.0, so best stays 1.0
    # and 0.89 < 0.9 improves on it (had best followed 0.95, 0.89 would be a second
    # bad epoch, > patience, and lr would be cut)
    opt = _sgd(1.0)
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=1, threshold=0.1)
    for metric in (1.0, 0.95, 0.89):
        sched.step(metric)
    assert opt.lr == 1.0 and sched.best == 0.89 and sched.num_bad_epochs == 0


def test_plateau_factor_1_is_refused() -> None:
    # a factor of 1 never cuts the learning rate (torch refuses it too)
    with pytest.raises(ValueError, match=r"factor must be in \[0, 1\), got 1.0"):
        ReduceLROnPlateau(_sgd(), factor=1.0)


def test_plateau_cooldown_of_one_replica_survives_another_replicas_cut() -> None:
    # patience 0, cooldown 2. Epoch 2: replica 0 cut (cooldown 2). Epoch 3: replica 0
    # cools (1 left) while replica 1 is cut. Epoch 4: replica 0 still cools, no cut.
    opt = _sgd(np.array([1.0, 1.0]))
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=0, cooldown=2)
    for metrics in ([1.0, 1.0], [2.0, 0.5], [2.0, 2.0], [2.0, 2.0]):
        sched.step(np.array(metrics))
    np.testing.assert_array_equal(opt.lr, [0.5, 0.5])
    np.testing.assert_array_equal(sched.cooldown_counter, [0, 1])


def test_get_last_lr_is_what_the_optimizer_holds() -> None:
    opt = _sgd(1.0)
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=0)
    sched.step(1.0)
    sched.step(2.0)
    assert sched.get_last_lr() == 0.5 == opt.lr
    step = StepLR(opt, 1, 0.1)  # base lr 0.5
    step.step()
    assert step.get_last_lr() == pytest.approx(0.05)


def _resume_lrs(make_schedule, split: int, epochs: int, restore: bool) -> tuple[list, list]:
    """Learning rates and weights of a 2-replica SGD run on p^2 with a schedule: straight
    through, and stopped after ``split`` epochs then rebuilt (optimizer and schedule from
    their state dicts when ``restore``, else only the optimizer, the schedule afresh)."""
    lr = np.array([0.4, 0.1])

    def run(opt: SGD, sched, start: int, stop: int, lrs: list) -> None:
        p = opt.params[0]
        for _ in range(start, stop):
            p.grad = 2.0 * p.data  # d(p^2)/dp
            opt.step()
            metric = (p.data**2).sum(axis=-1)  # one per replica, for the plateau rule
            sched.step(metric) if isinstance(sched, ReduceLROnPlateau) else sched.step()
            lrs.append(np.array(opt.lr, copy=True))

    def fresh() -> SGD:
        return SGD([Parameter(np.full((2, 2), 3.0), replica_ndim=1)], lr=lr, momentum=0.5)

    whole_opt = fresh()
    whole: list = []
    run(whole_opt, make_schedule(whole_opt), 0, epochs, whole)

    first = fresh()
    sched = make_schedule(first)
    parts: list = []
    run(first, sched, 0, split, parts)
    second = SGD([Parameter(first.params[0].data.copy(), replica_ndim=1)], lr=lr)
    second.load_state_dict(first.state_dict())
    resumed = make_schedule(second)  # over the decayed lr: base_lr would be wrong
    if restore:
        resumed.load_state_dict(sched.state_dict())
    run(second, resumed, split, epochs, parts)
    return [whole, whole_opt.params[0].data], [parts, second.params[0].data]


SCHEDULE_MAKERS = {
    "step": lambda opt: StepLR(opt, step_size=3, gamma=0.5),
    "cosine": lambda opt: CosineAnnealingLR(opt, T_max=12, eta_min=0.01),
    "plateau": lambda opt: ReduceLROnPlateau(opt, factor=0.5, patience=1, threshold=0.3),
}


@pytest.mark.parametrize("make", list(SCHEDULE_MAKERS.values()), ids=list(SCHEDULE_MAKERS))
def test_a_schedule_resumed_from_its_state_dict_is_the_run_that_never_stopped(make) -> None:
    (want_lrs, want_p), (got_lrs, got_p) = _resume_lrs(make, split=5, epochs=12, restore=True)
    for got, want in zip(got_lrs, want_lrs, strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got_p, want_p)
    # the learning rates moved in the second half (the state is what carries them)
    assert not np.array_equal(want_lrs[5], want_lrs[-1])
    # without the state the schedule starts over from the decayed lr: another run
    (want_lrs, _), (got_lrs, _) = _resume_lrs(make, split=5, epochs=12, restore=False)
    assert not all(np.array_equal(g, w) for g, w in zip(got_lrs, want_lrs, strict=True))


def test_a_schedule_state_is_a_copy_and_misfits_are_refused() -> None:
    opt = _sgd(np.array([1.0, 1.0]))
    sched = ReduceLROnPlateau(opt, patience=0)
    sched.step(np.array([1.0, 2.0]))
    state = sched.state_dict()
    assert state["last_epoch"] == 1 and "optimizer" not in state
    np.testing.assert_array_equal(state["best"], [1.0, 2.0])
    state["best"][0] = -5.0  # editing the state leaves the schedule alone, and back
    np.testing.assert_array_equal(sched.best, [1.0, 2.0])
    sched.load_state_dict(state)
    state["best"][1] = -7.0
    np.testing.assert_array_equal(sched.best, [-5.0, 2.0])

    step = StepLR(_sgd(1.0), 2)
    with pytest.raises(ValueError) as err:
        CosineAnnealingLR(_sgd(1.0), 5).load_state_dict(step.state_dict())
    assert str(err.value) == (
        "not a CosineAnnealingLR state: missing ['T_max', 'eta_min'], "
        "unknown ['gamma', 'step_size']"
    )
    with pytest.raises(ValueError) as err:
        StepLR(_sgd(np.array([1.0, 2.0, 3.0])), 2).load_state_dict(step.state_dict())
    assert str(err.value) == (
        "the state's base_lr has shape (), this schedule's optimizer has learning rates "
        "of shape (3,)"
    )
    with pytest.raises(TypeError, match="StepLR.load_state_dict takes the dict state_dict"):
        step.load_state_dict([("last_epoch", 3)])


def test_reduce_on_plateau_takes_numpy_numbers_and_names_a_factor_of_text():
    """np.float32(1e-4) was 'no finite number'; factor='0.5' failed comparing str (api21 M5)."""
    opt = SGD([Parameter(np.zeros(2))], lr=1.0)
    s = ReduceLROnPlateau(
        opt,
        factor=np.float64(0.5),
        min_lr=np.float32(1e-4),
        threshold=np.int64(0),
        eps=np.float32(1e-9),
    )
    assert (s.factor, s.min_lr, s.threshold) == (0.5, np.float32(1e-4), 0.0)
    for bad in ("0.5", None, True):  # the wrong type (fix24c: a ValueError before)
        with pytest.raises(
            TypeError, match=rf"^factor must be in \[0, 1\), got {re.escape(repr(bad))}$"
        ):
            ReduceLROnPlateau(opt, factor=bad)
    with pytest.raises(TypeError, match=r"^min_lr must be a finite number >= 0, got True$"):
        ReduceLROnPlateau(opt, min_lr=True)
    with pytest.raises(ValueError, match=r"^min_lr must be a finite number >= 0, got nan$"):
        ReduceLROnPlateau(opt, min_lr=float("nan"))
