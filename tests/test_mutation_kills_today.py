"""Tests that kill mutants of today's code which the rest of the suite let live.

Each test names the slip it catches (a mutation testing pass over optimizer state,
Standardize, callbacks.train's rules, in_model_dtype, plane_axes, the sweep folder's
untitled-file rule...): every one fails on that slip and passes on the real code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import proplab
from proplab import SGD, AdaGrad, Adam, RMSProp
from proplab.core import Parameter
from proplab.features import Standardize, standardize_stats
from proplab.models import mlp
from proplab.per_replica import PerReplicaOptimizer
from proplab.serialize import optimizer_from_state


def _stepped(opt, params: list[Parameter], steps: int = 2) -> None:
    """``steps`` steps with fixed, distinct gradients (no data needed)."""
    for t in range(steps):
        for i, p in enumerate(params):
            p.grad = np.full(p.shape, 0.1 * (i + 1) + 0.01 * t, dtype=p.data.dtype)
        opt.step()


def _params(*shapes: tuple[int, ...], dtype=np.float64, replica_ndim: int = 0) -> list[Parameter]:
    rng = np.random.default_rng(0)
    return [
        Parameter(rng.normal(size=s).astype(dtype), replica_ndim=replica_ndim, name=f"p{i}")
        for i, s in enumerate(shapes)
    ]


def _refused(opt, state, match: str) -> None:
    """Loading ``state`` raises naming ``match``, and changes nothing."""
    before = opt.state_dict()
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(state)
    after = opt.state_dict()
    assert after["steps"] == before["steps"]
    assert after["hyper"].keys() == before["hyper"].keys()
    for k in before["hyper"]:
        np.testing.assert_array_equal(after["hyper"][k], before["hyper"][k])
    for b, a in zip(before["groups"], after["groups"], strict=True):
        assert sorted(b["state"]) == sorted(a["state"])
        for k in b["state"]:
            np.testing.assert_array_equal(a["state"][k], b["state"][k], strict=True)


# ---- layout checks -----------------------------------------------------------------


def test_parameters_in_another_order_are_refused() -> None:
    # same shapes as a multiset, another order: the buffer's slices would land on the
    # wrong parameters (the packed total is the same size)
    a = _params((2, 3), (3, 2))
    opt = SGD(a, lr=0.1, momentum=0.9)
    _stepped(opt, a)
    b = [a[1], a[0]]
    _refused(
        SGD(b, lr=0.1, momentum=0.9), opt.state_dict(), r"parameter shapes \[\[2, 3\], \[3, 2\]\]"
    )


def test_a_second_group_that_differs_is_refused() -> None:
    # group 0 (float64) matches, group 1 (float32) does not: every group is compared
    a = _params((2, 2)) + _params((3,), dtype=np.float32)
    opt = Adam(a)
    _stepped(opt, a)
    b = _params((2, 2)) + _params((4,), dtype=np.float32)
    _refused(Adam(b), opt.state_dict(), r"group 1 was saved for parameter shapes \[\[3\]\]")


def test_another_number_of_groups_is_named_as_such() -> None:
    a = _params((2, 2)) + _params((3,), dtype=np.float32)
    opt = Adam(a)
    _stepped(opt, a)
    _refused(Adam(_params((2, 2))), opt.state_dict(), r"saved for 2 parameter group\(s\)")
    with pytest.raises(ValueError, match=r"saved for 2 parameter group\(s\)"):
        optimizer_from_state(_params((2, 2)), opt.state_dict())


def test_another_replica_count_is_named_as_the_replica_shape() -> None:
    a = _params((3, 2, 2), replica_ndim=1)
    opt = Adam(a)
    _stepped(opt, a)
    b = _params((2, 2, 2), replica_ndim=1)
    _refused(Adam(b), opt.state_dict(), r"saved for replica shape \(3,\).*replica shape \(2,\)")


# ---- what a state must hold --------------------------------------------------------


def test_a_state_missing_a_hyperparameter_is_refused() -> None:
    a = _params((2, 2))
    opt = SGD(a, lr=0.1, momentum=0.9)
    _stepped(opt, a)
    state = opt.state_dict()
    del state["hyper"]["dampening"]
    _refused(SGD(a, lr=0.3, momentum=0.5), state, "its hyperparameters are")


@pytest.mark.parametrize("steps", [True, -1, 2.0])
def test_steps_must_be_a_whole_number_at_least_0(steps) -> None:
    a = _params((2, 2))
    state = SGD(a, lr=0.1).state_dict()
    state["steps"] = steps
    _refused(SGD(a, lr=0.1), state, "steps must be a whole number >= 0")


def test_a_bad_hyperparameter_in_the_state_changes_nothing() -> None:
    # lr comes first and is fine, weight_decay later is not: nothing may be set
    a = _params((2, 2))
    state = SGD(a, lr=0.25).state_dict()
    state["hyper"]["weight_decay"] = -1.0
    target = SGD(a, lr=0.1)
    _refused(target, state, "cannot load the optimizer state into this SGD: weight_decay")
    assert target.lr == 0.1


def test_unknown_buffers_and_wrong_shapes_or_dtypes_are_refused() -> None:
    a = _params((2, 2))
    opt = SGD(a, lr=0.1, momentum=0.9)
    _stepped(opt, a)
    base = opt.state_dict()

    extra = opt.state_dict()
    extra["groups"][0]["state"]["exp_avg"] = np.zeros(4)
    _refused(SGD(a, lr=0.1, momentum=0.9), extra, "a buffer 'exp_avg', which SGD does not keep")

    shaped = opt.state_dict()
    shaped["groups"][0]["state"]["momentum_buffer"] = base["groups"][0]["state"][
        "momentum_buffer"
    ].reshape(1, 4)
    _refused(SGD(a, lr=0.1, momentum=0.9), shaped, r"momentum_buffer has shape \(1, 4\)")

    typed = opt.state_dict()
    typed["groups"][0]["state"]["momentum_buffer"] = base["groups"][0]["state"][
        "momentum_buffer"
    ].astype(np.float32)
    _refused(SGD(a, lr=0.1, momentum=0.9), typed, "momentum_buffer is float32")


@pytest.mark.parametrize(
    ("make", "missing"),
    [
        (lambda ps: AdaGrad(ps), "sum"),
        (lambda ps: RMSProp(ps, centered=True), "grad_avg"),
    ],
    ids=["adagrad", "rmsprop-centered"],
)
def test_a_state_after_steps_without_a_required_buffer_is_refused(make, missing) -> None:
    a = _params((2, 2))
    opt = make(a)
    _stepped(opt, a)
    state = opt.state_dict()
    del state["groups"][0]["state"][missing]
    _refused(make(a), state, f"group 0 has no {missing}")


def test_loading_a_fresh_state_drops_the_buffers_a_step_made() -> None:
    # an optimizer that stepped, given a state of steps 0 (no buffers): it must go on as
    # a fresh one, its old momentum gone
    a = _params((2, 2))
    opt = SGD(a, lr=0.1, momentum=0.9)
    _stepped(opt, a, 3)
    opt.load_state_dict(SGD(_params((2, 2)), lr=0.1, momentum=0.9).state_dict())
    assert opt.steps == 0 and opt.state == [{}]
    b = _params((2, 2))
    for p, q in zip(a, b, strict=True):
        p.data[...] = q.data
    fresh = SGD(b, lr=0.1, momentum=0.9)
    _stepped(opt, a, 2)
    _stepped(fresh, b, 2)
    np.testing.assert_array_equal(a[0].data, b[0].data, strict=True)


# ---- PerReplicaOptimizer -----------------------------------------------------------


def _two_adams(ps: list[Parameter]) -> PerReplicaOptimizer:
    return PerReplicaOptimizer(
        ps,
        [
            (1, lambda q: Adam(q, lr=np.array([0.01]))),
            (2, lambda q: Adam(q, lr=np.array([0.02, 0.03]), betas=(0.8, 0.99))),
        ],
    )


def test_per_replica_steps_are_saved_and_restored() -> None:
    a = _params((3, 2, 2), replica_ndim=1)
    opt = _two_adams(a)
    _stepped(opt, a, 3)
    state = opt.state_dict()
    assert state["steps"] == 3
    other = _two_adams(_params((3, 2, 2), replica_ndim=1))
    other.load_state_dict(state)
    assert other.steps == 3 and [rule.steps for _, rule, _ in other.blocks] == [3, 3]


def test_per_replica_state_for_other_shapes_names_the_shapes() -> None:
    a = _params((3, 2, 2), replica_ndim=1)
    opt = _two_adams(a)
    _stepped(opt, a)
    with pytest.raises(ValueError, match=r"PerReplicaOptimizer: group 0 was saved for parameter"):
        _two_adams(_params((3, 2, 3), replica_ndim=1)).load_state_dict(opt.state_dict())


def test_two_blocks_of_one_rule_keep_their_own_arrays_through_a_file(tmp_path: Path) -> None:
    # both blocks have exp_avg and an lr array: their file entries must not collide
    model = mlp(2, 3, 1, seeds=[1, 2, 3], replicas=3)
    opt = _two_adams(model.parameters())
    x, y = proplab.generate_xor_easy()
    proplab.fit(model, proplab.MSELoss(), opt, x, y, epochs=5)
    proplab.save(model, tmp_path / "m.npz", optimizer=opt)
    loaded = proplab.load_optimizer(tmp_path / "m.npz", proplab.load(tmp_path / "m.npz"))
    np.testing.assert_array_equal(loaded.lr, [0.01, 0.02, 0.03])
    for (_, mine, rows), (_, theirs, rows2) in zip(opt.blocks, loaded.blocks, strict=True):
        for (_, s), (_, s2) in zip(rows, rows2, strict=True):
            for k in s:
                np.testing.assert_array_equal(s2[k], s[k], strict=True)
        assert theirs.hyper["beta1"] == mine.hyper["beta1"]


def test_a_nested_per_replica_block_is_refused_by_name() -> None:
    a = _params((3, 2, 2), replica_ndim=1)
    state = _two_adams(a).state_dict()
    state["blocks"][0]["optimizer"] = {"type": "PerReplicaOptimizer"}
    with pytest.raises(ValueError, match="cannot be a 'PerReplicaOptimizer'"):
        optimizer_from_state(a, state)


# ---- save / load_optimizer ---------------------------------------------------------


def test_save_refuses_an_optimizer_with_one_foreign_parameter(tmp_path: Path) -> None:
    model = mlp(2, 3, 1, rng=np.random.default_rng(0))
    opt = SGD([*model.parameters(), Parameter(np.zeros(2))], lr=0.1)
    with pytest.raises(ValueError, match="parameters that are not this model's"):
        proplab.save(model, tmp_path / "m.npz", optimizer=opt)
    assert not (tmp_path / "m.npz").exists()


def test_an_optimizer_over_reversed_parameters_resumes_exactly(tmp_path: Path) -> None:
    # its parameter order is not the model's: load_optimizer must follow the saved order
    x, y = proplab.generate_xor_easy()
    loss = proplab.MSELoss()
    whole = mlp(2, 4, 1, rng=np.random.default_rng(2))
    proplab.fit(whole, loss, Adam(whole.parameters()[::-1], lr=0.05), x, y, epochs=20)
    first = mlp(2, 4, 1, rng=np.random.default_rng(2))
    opt = Adam(first.parameters()[::-1], lr=0.05)
    proplab.fit(first, loss, opt, x, y, epochs=10)
    proplab.save(first, tmp_path / "m.npz", optimizer=opt)
    resumed = proplab.load(tmp_path / "m.npz")
    proplab.fit(resumed, loss, proplab.load_optimizer(tmp_path / "m.npz", resumed), x, y, epochs=10)
    for a, b in zip(resumed.parameters(), whole.parameters(), strict=True):
        np.testing.assert_array_equal(a.data, b.data, strict=True)


# ---- Standardize -------------------------------------------------------------------


def test_a_tiny_but_real_spread_is_divided_not_taken_as_constant() -> None:
    x = np.array([[0.0], [1e-13]])
    mean, std = standardize_stats(x)
    np.testing.assert_array_equal(std, [5e-14])
    np.testing.assert_allclose(Standardize(mean, std)(x), [[-1.0], [1.0]])


def test_the_layer_keeps_its_own_copy_of_the_statistics() -> None:
    mean, std = np.array([1.0, 2.0]), np.array([2.0, 4.0])
    layer = Standardize(mean, std)
    mean[:] = 100.0
    std[:] = 100.0
    np.testing.assert_array_equal(layer(np.array([[3.0, 6.0]])), [[1.0, 1.0]])


def test_a_single_replica_input_is_not_broadcast_to_a_stack() -> None:
    layer = Standardize(np.zeros((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"input replica axes \(1,\).*layer's replicas \(2,\)"):
        layer(np.ones((1, 4, 3)))


def test_a_stack_gives_each_run_the_statistics_of_its_own_rows() -> None:
    # the stack reorders its runs (one activation's side by side): each run's statistics
    # must follow it there, not stay at its given position
    from proplab.config import RunConfig
    from proplab.stacking import train_stack

    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(8, 2)) * 10 + 50, rng.normal(size=(8, 2)) - 3]
    ys = [(x[:, :1] > x[:1, :1]).astype(float) for x in xs]
    cfgs = [
        RunConfig(activation=act, seed=s, standardize=True, hidden=[3], epochs=3, lr=0.1)
        for act, s in (("tanh", 0), ("sigmoid", 1))
    ]
    runs = train_stack(cfgs, xs, ys, 1)
    for run, x in zip(runs, xs, strict=True):
        mean, std = standardize_stats(x)
        np.testing.assert_array_equal(run.model.layers[0].mean, mean)
        np.testing.assert_array_equal(run.model.layers[0].std, std)


def test_the_scale_note_names_negative_means_and_wide_spreads(tmp_path: Path) -> None:
    # 'depth' sits far below 0, 'wide' is centred on 0 but spread +-50: both saturate
    from proplab.config import RunConfig
    from proplab.dataload import input_scale_note

    csv = tmp_path / "far.csv"
    rows = ["depth,wide,small,label"] + [
        f"{-500 - i},{(-50 if i % 2 else 50)},{i / 20:.2f},{i % 2}" for i in range(20)
    ]
    csv.write_text("\n".join(rows) + "\n")
    note = input_scale_note(RunConfig(dataset=str(csv)))
    assert note is not None
    assert "'depth' (mean -509.5, standard deviation 5.766)" in note
    assert "'wide' (mean 0, standard deviation 50)" in note
    assert "'small'" not in note and " are far from unit scale" in note


def test_in_model_dtype_casts_float_targets_and_inputs_but_keeps_labels() -> None:
    from proplab.scoring import in_model_dtype

    model = mlp(2, 3, 1, rng=np.random.default_rng(0), dtype=np.float32)
    x, labels = np.array([[1, 2], [3, 4]]), np.array([[0], [1]])
    cx, cy = in_model_dtype(model, x, labels)
    assert cx.dtype == np.float32 and cy is labels  # class labels stay integers
    np.testing.assert_array_equal(cx, [[1.0, 2.0], [3.0, 4.0]])
    _, fy = in_model_dtype(model, x, np.array([[0.5], [0.25]]))
    assert fy.dtype == np.float32
    np.testing.assert_array_equal(fy, np.array([[0.5], [0.25]], dtype=np.float32))


def test_a_replica_that_converged_before_a_sigterm_was_not_interrupted() -> None:
    from proplab.history import History

    stack = History(
        epoch=[1, 2, 3],
        loss=[np.array([0.5, 0.4]), np.array([0.01, 0.3]), np.array([0.01, 0.2])],
        accuracy=[np.array([0.5, 0.5])] * 3,
        wall_time=[0.0, 0.1, 0.2],
        stop_reason="interrupted",
        message="interrupted after 3 epochs (SIGTERM)",
        interrupted_by="SIGTERM",
        tol=0.05,
        replica_stop_epoch=np.array([2, 0]),
        replica_stop_reason=np.array(["converged", "completed"], dtype=object),
    )
    done, cut = stack.replica(0), stack.replica(1)
    assert (done.stop_reason, done.interrupted_by, done.epochs_run) == ("converged", "", 2)
    assert (cut.stop_reason, cut.interrupted_by, cut.epochs_run) == ("interrupted", "SIGTERM", 3)
    assert cut.message == "interrupted after 3 epochs (SIGTERM)"


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        # every sample below 0 or above 1: the samples' span alone, plus 5 %
        ([-190.0, -145.0], (-192.25, -142.75)),
        ([145.0, 190.0], (142.75, 192.25)),
        # touching [0, 1] at one end counts as meeting it: widened to the unit square
        ([1.0, 3.0], (-0.15, 3.15)),
        ([-2.0, 0.0], (-2.15, 1.15)),
    ],
)
def test_plane_axes_widens_to_the_unit_square_only_where_samples_meet_it(column, expected):
    from proplab.data import plane_axes

    x = np.column_stack([column, [0.2, 0.8]])
    u, v = plane_axes(x, 5)
    np.testing.assert_allclose([u[0], u[-1]], expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose([v[0], v[-1]], (-0.05, 1.05), rtol=0, atol=1e-12)


def test_an_untitled_sweep_followed_by_a_titled_one_is_named_by_title(tmp_path, monkeypatch):
    # only two untitled files are told apart by path; a titled one keeps its title
    import io

    from test_sweep_folders import OTHER, UNTITLED_A, fake_sweep

    from proplab.sweep import SweepError, parse_spec, run_sweep

    out = tmp_path / "out"
    fake_sweep(tmp_path, monkeypatch, UNTITLED_A, out)
    other = tmp_path / "b.toml"
    with pytest.raises(SweepError) as err:
        run_sweep(parse_spec(OTHER, other), out, stream=io.StringIO())
    message = str(err.value)
    assert f"holds the sweep 'Sweep' ({out / 'sweep.toml'})" in message
    assert f"not part of {other} ('second')" in message
    assert "(untitled)" not in message and "same title" not in message


def test_an_untitled_file_named_relatively_then_absolutely_is_the_same_file(tmp_path, monkeypatch):
    # a file is known by its resolved path: run once as a.toml, once as /abs/a.toml
    import io

    from test_sweep import FakeTrainer
    from test_sweep_folders import UNTITLED_A

    from proplab import sweep, sweep_workers
    from proplab.sweep import parse_spec, run_sweep

    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(tmp_path / "calls.txt"))
    monkeypatch.chdir(tmp_path)
    Path("a.toml").write_text(UNTITLED_A)
    out = tmp_path / "out"
    run_sweep(parse_spec(UNTITLED_A, Path("a.toml")), out, runner=sweep.choose_runner("off"))
    edited = UNTITLED_A.replace("lr = [1.0, 0.5]", "lr = [1.0]")
    assert edited != UNTITLED_A
    Path("a.toml").write_text(edited)
    stream = io.StringIO()
    # named absolutely now: the same file
    result = run_sweep(parse_spec(edited, tmp_path / "a.toml"), out, stream=stream)
    assert result.failed == {} and "2 run folders in" in stream.getvalue()


def test_standardize_gives_scikit_learns_standard_scaler_bits() -> None:
    # (x - mean) / std, divided: multiplying by 1 / std rounds differently (10 / 3)
    from sklearn.preprocessing import StandardScaler

    x = np.array([[10.0, 1.0], [-10.0, 4.0], [0.0, 7.0], [3.3, -2.0]])
    scaler = StandardScaler().fit(x)
    mean, std = standardize_stats(x)
    np.testing.assert_array_equal(mean, scaler.mean_)
    np.testing.assert_array_equal(std, scaler.scale_)
    np.testing.assert_array_equal(Standardize(mean, std)(x), scaler.transform(x), strict=True)
    np.testing.assert_array_equal(
        Standardize(np.zeros(1), np.full(1, 3.0))(np.array([[10.0]])), [[10.0 / 3.0]]
    )


def test_adam_init_args_keep_beta1_first() -> None:
    hyper = {"lr": 0.1, "beta1": 0.8, "beta2": 0.99, "eps": 1e-8, "weight_decay": 0.0, "l1": 0.0}
    args = Adam.init_args(hyper, {"amsgrad": True})
    assert args["betas"] == (0.8, 0.99) and "beta1" not in args and args["amsgrad"] is True
    assert hyper["beta1"] == 0.8  # the caller's dict is not emptied


def test_after_replace_the_untitled_folder_is_the_last_files(tmp_path, monkeypatch):
    # a.toml ran, then b.toml --replace: the folder is b's now, so b edited runs in
    import io

    from test_sweep import FakeTrainer
    from test_sweep_folders import UNTITLED_A, UNTITLED_B

    from proplab import sweep, sweep_workers
    from proplab.sweep import SweepError, parse_spec, run_sweep

    monkeypatch.setattr(sweep_workers, "train_one", FakeTrainer(tmp_path / "calls.txt"))
    a, b, out = tmp_path / "a.toml", tmp_path / "b.toml", tmp_path / "out"
    off = sweep.choose_runner("off")
    run_sweep(parse_spec(UNTITLED_A, a), out, runner=off, stream=io.StringIO())
    run_sweep(parse_spec(UNTITLED_B, b), out, runner=off, stream=io.StringIO(), replace=True)
    edited = UNTITLED_B.replace('["tanh", "relu"]', '["tanh"]')
    assert edited != UNTITLED_B
    result = run_sweep(parse_spec(edited, b), out, runner=off, stream=io.StringIO())
    assert result.failed == {}
    with pytest.raises(SweepError, match="holds the sweep of .*b.toml \\(untitled\\)"):
        run_sweep(parse_spec(UNTITLED_A, a), out, runner=off, stream=io.StringIO())


def test_input_stats_are_none_without_standardize() -> None:
    from proplab.config import RunConfig, input_stats

    x = np.array([[150.0, 1.0], [190.0, 3.0]])
    assert input_stats(RunConfig(), x) is None
    mean, std = input_stats(RunConfig(standardize=True), x)
    np.testing.assert_array_equal(mean, [170.0, 2.0])
    np.testing.assert_array_equal(std, [20.0, 1.0])
