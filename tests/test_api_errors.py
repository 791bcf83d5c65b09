"""Bad arguments to the layer and model builders: a clear error naming the value, never a
traceback from inside NumPy or a silently wrong model."""

from __future__ import annotations

import numpy as np
import pytest

from proplab import (
    SGD,
    BCELoss,
    Conv1d,
    CrossEntropyLoss,
    Flatten,
    Linear,
    Module,
    MSELoss,
    conv_net,
    fit,
    generate_xor_easy,
    load,
    mlp,
    one_hot,
    save,
)


def rng():
    return np.random.default_rng(0)


# --- layers.py ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [True, None, float("inf"), float("nan")])
def test_linear_sizes_name_the_value(bad):
    with pytest.raises(
        ValueError, match=rf"Linear in_features must be a positive integer, got {bad!r}"
    ):
        Linear(bad, 2, rng=rng())


def test_linear_bias_and_rng_and_replicas_are_checked():
    with pytest.raises(TypeError, match="Linear bias must be True or False, got 'no'"):
        Linear(2, 2, bias="no", rng=rng())
    with pytest.raises(TypeError, match="Linear: rng must be a numpy Generator .*got int 0"):
        Linear(2, 2, rng=0)
    for bad in (-1, 2.5, (2, 0)):
        with pytest.raises(ValueError, match="Linear: replicas must be"):
            Linear(2, 2, rng=rng(), replicas=bad)


def test_linear_input_of_the_wrong_width_names_both_widths():
    layer = Linear(2, 3, rng=rng())
    with pytest.raises(ValueError, match=r"in_features=2, got 5 features \(shape \(4, 5\)\)"):
        layer(np.ones((4, 5)))
    with pytest.raises(TypeError, match="takes a NumPy array .*got list"):
        layer([[1.0, 2.0]])
    stack = Linear(2, 3, rng=rng(), replicas=4)
    with pytest.raises(ValueError, match=r"does not fit the layer's replicas \(4,\)"):
        stack(np.ones((3, 5, 2)))


def test_flatten_checks_its_axis_and_the_input_rank():
    for bad in (-2.5, "a", True, -1):
        with pytest.raises(ValueError, match="sample_axis must be an integer <= -2"):
            Flatten(bad)
    # these used to flatten the sample axis away and return one long row
    with pytest.raises(ValueError, match=r"at least 3 axes, got shape \(2, 3\)"):
        Flatten(-3)(np.ones((2, 3)))
    with pytest.raises(ValueError, match="at least 10 axes"):
        Flatten(-10)(np.ones((2, 3, 4)))
    assert Flatten(-3)(np.ones((2, 3, 4))).shape == (2, 12)


# --- conv.py -----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [None, float("inf"), float("nan")])
def test_conv_sizes_name_the_value(bad):
    with pytest.raises(
        ValueError, match=rf"Conv1d: in_channels must be a positive integer, got {bad!r}"
    ):
        Conv1d(bad, 1, 1, rng=rng())
    with pytest.raises(
        ValueError, match=rf"Conv1d: stride must be a positive integer, got {bad!r}"
    ):
        Conv1d(1, 1, 1, stride=bad, rng=rng())


def test_conv_bias_rng_inputs_and_lengths_are_checked():
    with pytest.raises(TypeError, match="Conv1d: bias must be True or False"):
        Conv1d(1, 1, 1, bias="no", rng=rng())
    with pytest.raises(TypeError, match="Conv1d: rng must be a numpy Generator"):
        Conv1d(1, 1, 1, rng=0)
    conv = Conv1d(2, 3, 2, rng=rng())
    with pytest.raises(TypeError, match="Conv1d takes a NumPy array .*got list"):
        conv([[[1.0, 2.0], [3.0, 4.0]]])
    with pytest.raises(ValueError, match="input length must be an integer, got 2.5"):
        conv.output_length(2.5)


def test_conv_net_input_of_the_wrong_width_names_both_widths():
    model = conv_net(2, rng=rng())
    with pytest.raises(ValueError, match=r"built for inputs of length 2 .*got length 3"):
        model(np.ones((5, 3)))
    assert model(np.ones((5, 2))).shape == (5, 1)
    with pytest.raises(ValueError, match="conv_net out_features must be a positive integer"):
        conv_net(2, out_features=0, rng=rng())


# --- models.py ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [True, 2.5, "10", None, [None], [True, 3]])
def test_mlp_hidden_widths_are_checked(bad):
    with pytest.raises(ValueError, match="hidden"):
        mlp(2, bad, 1, rng=rng())


@pytest.mark.parametrize("label", ["in_features", "out_features"])
def test_mlp_in_and_out_refuse_bools(label):
    with pytest.raises(ValueError, match=f"mlp {label} must be a positive integer, got True"):
        mlp(**{label: True}, rng=rng())


@pytest.mark.parametrize(
    ("seeds", "error", "message"),
    [
        ([], ValueError, "seeds is empty"),
        ([-1], ValueError, "seeds must be ints >= 0, got -1"),
        ([1.5], ValueError, "got 1.5"),
        ([None], ValueError, "got None"),  # was fresh entropy: an unrepeatable model
        ([True], ValueError, "got True"),
        (5, TypeError, r"seeds=range\(5\)"),
    ],
)
def test_mlp_seeds_are_checked(seeds, error, message):
    with pytest.raises(error, match=message):
        mlp(2, 3, 1, seeds=seeds)


def test_mlp_duplicate_seeds_give_identical_replicas():
    # allowed on purpose: one start point, several learning rates
    w = mlp(2, 3, 1, seeds=[4, 4])[0].weight.data
    np.testing.assert_array_equal(w[0], w[1])


@pytest.mark.parametrize("bad", [None, 5, np.tanh])
def test_mlp_activation_must_make_a_module(bad):
    with pytest.raises(TypeError, match="activation must be a name"):
        mlp(2, 3, 1, activation=bad, rng=rng())


def test_mlp_rng_of_the_wrong_type():
    with pytest.raises(TypeError, match="rng must be a numpy Generator .*got int 0"):
        mlp(2, 3, 1, rng=0)


# ---------------------------------------------------------------- fit's arguments in their places
# (a student's slips: each failed deep inside the training loop)


def test_fit_names_a_class_passed_for_an_instance_and_arguments_out_of_order():
    x, y = generate_xor_easy()
    model = mlp(2, 4, 1, rng=np.random.default_rng(0))
    sgd = SGD(model.parameters(), lr=1.0)
    head = "fit takes (model, loss_fn, optimizer, x, y, epochs): "
    cases = [
        ((model, MSELoss, sgd), "loss_fn is the class MSELoss, not an instance of it: pass e.g. proplab.MSELoss()"),
        ((model, MSELoss(), SGD), "optimizer is the class SGD, not an instance of it: pass e.g. proplab.SGD(model.parameters(), lr=1.0)"),
        ((model, sgd, MSELoss()), "loss_fn got an optimizer (SGD), which belongs in optimizer: arguments in the wrong order?"),
        ((MSELoss(), model, sgd), "model got a loss (MSELoss), which belongs in loss_fn: arguments in the wrong order?"),
    ]  # fmt: skip
    for args, message in cases:
        with pytest.raises(TypeError) as err:
            fit(*args, x, y, epochs=2)
        assert str(err.value) == head + message
    assert fit(model, MSELoss(), sgd, x, y, epochs=2).epochs_run == 2  # in order: trains

    # a loss of the user's own passes, even written as a Module or as a class of static
    # methods (the check once took a Module there for a misplaced model)
    class L1(Module):
        def forward(self, pred, target):
            self.d = pred - target
            return float(np.abs(self.d).mean())

        def backward(self):
            return np.sign(self.d) / self.d.size

    class StaticMSE:
        @staticmethod
        def forward(pred, target):
            StaticMSE.d = pred - target
            return float((StaticMSE.d**2).mean())

        @staticmethod
        def backward():
            return 2 * StaticMSE.d / StaticMSE.d.size

    for loss in (L1(), StaticMSE):
        before = model[0].weight.data.copy()
        assert fit(model, loss, sgd, x, y, epochs=2).epochs_run == 2
        assert not np.array_equal(before, model[0].weight.data)  # it trained


def test_fit_and_evaluate_name_none_or_a_function_in_a_role():
    """They raised AttributeError: 'NoneType' object has no attribute 'forward' from inside
    the loop, or evaluate(model, MSELoss, ...) a TypeError about forward's arguments (api21 M1)."""
    from proplab import evaluate

    x, y = generate_xor_easy()
    model = mlp(2, 4, 1, rng=np.random.default_rng(0))
    sgd = SGD(model.parameters(), lr=1.0)
    before = model[0].weight.data.copy()
    head = "fit takes (model, loss_fn, optimizer, x, y, epochs): "
    mse = "pass e.g. proplab.MSELoss()"
    cases = [
        ((model, None, sgd), f"loss_fn got None, which has no forward or backward method: {mse}"),
        ((None, MSELoss(), sgd), "model got None, which has no forward or backward method: pass e.g. proplab.mlp(2, 10, 1)"),
        ((model, lambda p, t: ((p - t) ** 2).mean(), sgd), f"loss_fn got the function <lambda>, which has no forward or backward method: {mse}"),
        ((model, MSELoss(), "sgd"), "optimizer got a str, which has no step or zero_grad method: pass e.g. proplab.SGD(model.parameters(), lr=1.0)"),
    ]  # fmt: skip
    for args, message in cases:
        with pytest.raises(TypeError) as err:
            fit(*args, x, y, epochs=2)
        assert str(err.value) == head + message
    np.testing.assert_array_equal(model[0].weight.data, before)
    head = "evaluate takes (model, loss_fn, x, y): "
    cases = [
        ((MSELoss(), model), "model got a loss (MSELoss), which belongs in loss_fn: arguments in the wrong order?"),
        ((model, None), f"loss_fn got None, which has no forward method: {mse}"),
        ((model, MSELoss), f"loss_fn is the class MSELoss, not an instance of it: {mse}"),
    ]  # fmt: skip
    for args, message in cases:
        with pytest.raises(TypeError) as err:
            evaluate(*args, x, y)
        assert str(err.value) == head + message


def test_evaluate_takes_what_it_took_before_its_checks():
    """verify21 R1, R2: evaluate refused a loss of one's own with no backward (evaluate
    never calls it), and fit/evaluate a masked array with nothing masked."""
    from proplab import evaluate

    x, y = generate_xor_easy()
    model = mlp(2, 4, 1, rng=np.random.default_rng(0))

    class ScoreOnly:  # a metric written as a class: forward only
        def forward(self, pred, target):
            return float(((pred - target) ** 2).mean())

    loss, acc, _ = evaluate(model, MSELoss(), x, y)
    assert evaluate(model, ScoreOnly(), x, y)[:2] == (pytest.approx(loss, rel=1e-15), acc)
    assert evaluate(model, MSELoss(), np.ma.array(x), np.ma.array(y))[:2] == (loss, acc)
    sgd = SGD(model.parameters(), lr=1.0)
    assert fit(model, MSELoss(), sgd, np.ma.array(x), np.ma.array(y), epochs=2).epochs_run == 2
    masked = np.ma.array(x, mask=np.eye(21, 2, dtype=bool))
    with pytest.raises(TypeError, match=r"^x is a masked array, which is not taken: fill its"):
        evaluate(model, MSELoss(), masked, y)


def test_stacked_data_for_one_model_is_named_as_such():
    """verify21 N1, N2: a stacked x for one model was blamed on 'this stack' and a layer
    of one's own; labels (R, n) got only 'x has 21 samples but y has 2'."""
    from proplab import accuracy

    x, y = generate_xor_easy()
    model = mlp(2, 4, 1, rng=np.random.default_rng(0))
    single = (
        "x is stacked for replicas (2,), but the model is one model (no replica axes on its "
        "parameters): pass x (n, in), or build a stack with mlp(..., seeds=[...])"
    )
    with pytest.raises(ValueError) as err:  # evaluate's: test_evaluate_checks_its_data...
        fit(model, MSELoss(), SGD(model.parameters(), lr=1.0), np.stack([x, x]), y, epochs=1)
    assert str(err.value) == single
    three = mlp(2, 4, 3, rng=np.random.default_rng(0))
    labels = np.zeros((2, 21), dtype=int)
    rows = (
        "x has 21 samples but y has 2 (y (2, 21) looks like 2 rows of 21 labels: labels are "
        "(n,) or (n, 1); labels (R, n) need a stack of R models)"
    )
    with pytest.raises(ValueError) as err:
        fit(three, CrossEntropyLoss(), SGD(three.parameters(), lr=1.0), x, labels, epochs=1)
    assert str(err.value) == rows
    with pytest.raises(TypeError) as err:  # verify21 R8: "an array of dtype object"
        accuracy(None, y)
    assert str(err.value) == "accuracy: predictions must be an array of numbers, got None"


def test_class_labels_for_a_model_with_several_outputs_point_to_one_hot():
    labels = np.array([0, 2, 1, 2])
    x = np.random.default_rng(0).normal(size=(4, 2))
    model = mlp(2, 8, 3, rng=np.random.default_rng(0))
    with pytest.raises(ValueError) as err:
        fit(model, MSELoss(), SGD(model.parameters(), lr=1.0), x, labels.reshape(-1, 1), epochs=1)
    assert str(err.value) == (
        "MSELoss: target shape (4, 1) does not fit predictions (4, 3); accepted: (n, out) = "
        "(4, 3), or stacked (*R, n, out) (class labels for 3 outputs: proplab.one_hot(labels, 3))"
    )
    with pytest.raises(ValueError) as err:
        fit(model, MSELoss(), SGD(model.parameters(), lr=1.0), x, labels, epochs=1)
    assert str(err.value).endswith(
        "one column is y.reshape(-1, 1) (class labels for a model with C > 1 outputs: "
        "proplab.one_hot(y, C), or CrossEntropyLoss with labels y.reshape(-1, 1))"
    )
    # both ways it points to work
    sgd = SGD(model.parameters(), lr=1.0)
    assert fit(model, MSELoss(), sgd, x, one_hot(labels, 3), epochs=2).epochs_run == 2
    ce = fit(model, CrossEntropyLoss(), sgd, x, labels.reshape(-1, 1), epochs=2)
    assert ce.epochs_run == 2
    # one output and labels (n,): still the reshape hint
    with pytest.raises(ValueError, match=r"\(labels \(n,\) need \.reshape\(-1, 1\)\)"):
        MSELoss()(np.zeros((4, 1)), np.zeros(4))


def test_more_slips_get_errors_that_name_them(tmp_path):
    x, y = generate_xor_easy()
    # a model of the wrong width: the error shows the caller's array, not fit's one-row probe
    model = mlp(3, 4, 1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError) as err:
        fit(model, MSELoss(), SGD(model.parameters(), lr=1.0), x, y, epochs=1)
    assert str(err.value) == (
        "Linear expects inputs (n, 3) with in_features=3, got 2 features (shape (21, 2))"
    )
    # targets stacked for 3 replicas, a stack of 10
    stack = mlp(2, 4, 1, seeds=range(10))
    with pytest.raises(ValueError) as err:
        fit(stack, MSELoss(), SGD(stack.parameters(), lr=1.0), x, np.stack([y] * 3), epochs=1)
    assert str(err.value) == (
        "y is stacked as (3, 21, 1) (replicas (3,)), but the model predicts (10, 21, 1) "
        "(replicas (10,)): one target per replica, or one (n, out) shared by all"
    )
    ten = fit(stack, MSELoss(), SGD(stack.parameters(), lr=1.0), x, np.stack([y] * 10), epochs=1)
    assert ten.epochs_run == 1
    # rng and seeds together: the rng was silently unused
    with pytest.raises(
        ValueError, match=r"^pass rng \(one model, or a stack drawn in one go\) or seeds"
    ):
        mlp(2, 4, 1, rng=np.random.default_rng(0), seeds=[1, 2])
    # a BCE target that is no probability: refused by fit, once, before training
    model = mlp(2, 4, 1, rng=np.random.default_rng(0))
    bad = y.astype(np.float64)
    bad[3] = 2.0
    with pytest.raises(ValueError) as err:
        fit(model, BCELoss(), SGD(model.parameters(), lr=1.0), x, bad, epochs=1)
    assert (
        str(err.value) == "BCELoss needs targets in [0, 1] (0/1 labels or probabilities), got 2.0"
    )
    soft = np.clip(y + 0.25, 0, 1)  # probabilities are fine
    assert fit(model, BCELoss(), SGD(model.parameters(), lr=1.0), x, soft, epochs=1).epochs_run == 1


def test_save_into_a_missing_folder_and_load_of_a_run_folder_name_the_fix(tmp_path):
    model = mlp(2, 3, 1, rng=np.random.default_rng(0))
    with pytest.raises(FileNotFoundError) as err:
        save(model, tmp_path / "nodir" / "m.npz")
    assert str(err.value) == (
        f"cannot save {tmp_path / 'nodir' / 'm.npz'}: no folder {tmp_path / 'nodir'} (create it "
        f"first, e.g. Path({str(tmp_path / 'nodir')!r}).mkdir(parents=True))"
    )
    assert not (tmp_path / "nodir").exists()
    save(model, tmp_path / "model.npz")
    with pytest.raises(FileNotFoundError) as err:
        load(tmp_path)
    assert str(err.value) == (
        f"no model file at {tmp_path} ({tmp_path} is a folder; its model is "
        f"{tmp_path / 'model.npz'})"
    )


def test_run_one_takes_a_run_config():
    from proplab.experiments import run_one

    with pytest.raises(TypeError) as err:
        run_one("xor", "runs/x")
    assert str(err.value) == (
        "run_one takes a RunConfig, got str 'xor': e.g. "
        'run_one(RunConfig(dataset="xor"), "runs/xor")'
    )


def test_build_model_refuses_rng_and_seeds_together_for_a_conv_model_too():
    # mutation testing: the conv branch blamed kernel_size; the refusal names both arguments
    from proplab.config import RunConfig, build_model

    cfg = RunConfig(dataset="xor", model="conv", filters=2, kernel_size=2, padding=1)
    with pytest.raises(ValueError) as err:
        build_model(cfg, 2, 1, rng=np.random.default_rng(0), seeds=[0, 1])
    assert str(err.value) == "build_model takes rng or seeds, not both"


def test_labels_for_a_loss_of_two_outputs_point_to_one_hot():
    # mutation testing: two outputs are already several (not only three or more)
    from proplab import MSELoss

    for target in (np.zeros(4), np.zeros((4, 1))):
        with pytest.raises(ValueError) as err:
            MSELoss().forward(np.zeros((4, 2)), target)
        assert "(class labels for 2 outputs: proplab.one_hot(labels, 2))" in str(err.value)


# --- yes/no options (api21 H1) -------------------------------------------------------------


def _yes_no_calls(value):
    """Every public yes/no option, given ``value``: each took any truthy value as True."""
    from proplab import Adam, RMSProp, gradcheck, trace_step

    x, y = generate_xor_easy()
    model = mlp(2, 3, 1, rng=rng())
    params = model.parameters()
    return [
        ("SGD nesterov", lambda: SGD(params, lr=0.1, momentum=0.9, nesterov=value)),
        ("Adam amsgrad", lambda: Adam(params, amsgrad=value)),
        ("RMSProp centered", lambda: RMSProp(params, centered=value)),
        ("mlp bias", lambda: mlp(2, 3, 1, rng=rng(), bias=value)),
        ("mlp batchnorm", lambda: mlp(2, 3, 1, rng=rng(), batchnorm=value)),
        ("conv_net bias", lambda: conv_net(2, rng=rng(), bias=value)),
        (
            "fit shuffle",
            lambda: fit(
                model, MSELoss(), SGD(params), x, y, 2, batch_size=5, shuffle=value, rng=rng()
            ),
        ),
        (
            "gradcheck check_inputs",
            lambda: gradcheck(Linear(2, 3, rng=rng()), x, check_inputs=value),
        ),
        ("trace_step check", lambda: trace_step(model, MSELoss(), x, y, check=value)),
    ]


@pytest.mark.parametrize("value", ["False", None, 0, 1.0])
@pytest.mark.parametrize("case", range(9))
def test_a_yes_no_option_takes_only_true_or_false(case, value):
    """'False' is truthy: SGD(nesterov='False') was Nesterov, mlp(bias='False') had biases,
    fit(shuffle='False') shuffled; None switched amsgrad off. Refused as Linear refuses it."""
    label, call = _yes_no_calls(value)[case]
    with pytest.raises(TypeError) as err:
        call()
    assert str(err.value) == f"{label} must be True or False, got {value!r}"


@pytest.mark.parametrize("case", range(9))
def test_a_yes_no_option_takes_numpy_bools(case):
    _, call = _yes_no_calls(np.bool_(False))[case]
    call()  # accepted, as Linear(bias=np.False_) is


def test_numpy_false_means_off():
    from proplab import Adam

    assert Adam(mlp(2, 3, 1, rng=rng()).parameters(), amsgrad=np.bool_(False)).amsgrad is False
    names = [n for n, _ in mlp(2, 3, 1, rng=rng(), bias=np.bool_(False)).named_parameters()]
    assert not any(n.endswith("bias") for n in names), names


@pytest.mark.parametrize("bad", [2.5, True, -1.0])
def test_a_builders_replica_count_is_checked_as_an_integer(bad):
    """mlp(replicas=2.5) failed as "'float' object is not iterable" (api21 M6)."""
    with pytest.raises(ValueError) as err:
        mlp(2, 3, 1, rng=rng(), replicas=bad)
    assert str(err.value) == f"mlp replicas must be an integer >= 0, got {bad!r}"
    with pytest.raises(
        ValueError, match=rf"^conv_net replicas must be an integer >= 0, got {bad!r}$"
    ):
        conv_net(2, rng=rng(), replicas=bad)


def test_a_builders_replica_count_may_be_a_numpy_or_whole_float_integer():
    for count in (np.int64(3), 3.0):
        assert mlp(2, 3, 1, rng=rng(), replicas=count)[0].weight.shape == (3, 2, 3)
    assert mlp(2, 3, 1, rng=rng(), replicas=np.int64(0))[0].weight.shape == (2, 3)


# --- evaluate, accuracy and r2_score check data as fit does (api21 H4, M7, L6, L7) ---------


def _data_cases():
    from proplab import BCELoss, evaluate

    x, y = generate_xor_easy()
    model = mlp(2, 4, 1, rng=rng())
    three = mlp(2, 4, 3, rng=rng(), output_activation=None)
    labels = np.arange(21) % 3
    masked = np.ma.masked_array(x, mask=np.eye(21, 2, dtype=bool))  # two entries masked
    return [
        # BCE targets 3.0 gave a negative loss (-0.15)
        (
            lambda: evaluate(model, BCELoss(), x, 3 * y),
            ValueError,
            "BCELoss needs targets in [0, 1] (0/1 labels or probabilities), got 3.0",
        ),
        # the imaginary part was dropped: the same numbers as for x
        (
            lambda: evaluate(model, MSELoss(), x + 5j, y),
            TypeError,
            "x must hold numbers, got an array of dtype complex128",
        ),
        (
            lambda: evaluate(model, MSELoss(), x, np.full(y.shape, "a")),
            TypeError,
            "y must hold numbers, got an array of dtype <U1",
        ),
        # a stacked y or x for one model gave an array of one loss (or two)
        (
            lambda: evaluate(model, MSELoss(), x, y[None]),
            ValueError,
            "y is stacked as (1, 21, 1) (replicas (1,)), but the model predicts (21, 1) "
            "(replicas ()): one target per replica, or one (n, out) shared by all",
        ),
        (
            lambda: evaluate(model, MSELoss(), np.stack([x, x]), y),
            ValueError,
            # (verify21 N1: it blamed "this stack" and a layer of one's own)
            "x is stacked for replicas (2,), but the model is one model (no replica axes on "
            "its parameters): pass x (n, in), or build a stack with mlp(..., seeds=[...])",
        ),
        (
            lambda: evaluate(three, CrossEntropyLoss(), x, np.stack([labels, labels])),
            ValueError,
            "x has 21 samples but y has 2 (y (2, 21) looks like 2 rows of 21 labels: labels "
            "are (n,) or (n, 1); labels (R, n) need a stack of R models)",
        ),
        # numpy/ma failed inside the loss: 'numpy.ndarray' object has no attribute '_data'
        (
            lambda: evaluate(model, MSELoss(), masked, y),
            TypeError,
            "x is a masked array, which is not taken: fill its masked entries (x.filled(value)) "
            "or leave those samples out of x and y, and pass a plain array",
        ),
        (
            lambda: fit(model, MSELoss(), SGD(model.parameters()), x, np.ma.masked_less(y, 1), 2),
            TypeError,
            "y is a masked array, which is not taken: fill its masked entries (y.filled(value)) "
            "or leave those samples out of x and y, and pass a plain array",
        ),
    ]


@pytest.mark.parametrize("case", range(8))
def test_evaluate_checks_its_data_as_fit_does(case):
    call, kind, message = _data_cases()[case]
    with pytest.raises(kind) as err:
        call()
    assert str(err.value) == message


def test_rows_of_different_lengths_are_named():
    model = mlp(2, 2, 1, rng=rng())
    with pytest.raises(ValueError) as err:
        fit(model, MSELoss(), SGD(model.parameters()), [[0.0, 1.0], [1.0]], [[0], [1]], 1)
    assert str(err.value).startswith("x is no table of numbers: rows of different lengths? (")


@pytest.mark.parametrize(
    ("target", "bad"),
    [(np.array([5, 7]), "5"), (np.array([-1, 2]), "-1"), (np.array([0.5, 1.5]), "0.5"),
     (np.array([[2.0], [np.nan]]), "nan")],
)  # fmt: skip
def test_accuracy_refuses_labels_that_are_no_class_index(target, bad):
    """5 and 7 of 3 classes scored 0.0, -1 scored 0.5 (api21 H4)."""
    from proplab import accuracy

    scores = np.array([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0]])
    with pytest.raises(ValueError) as err:
        accuracy(scores, target)
    assert str(err.value) == (
        f"accuracy: label {bad} is not a class index (accepted: integers 0..2)"
    )
    assert accuracy(scores, np.array([1, 0])) == 0.5
    assert accuracy(scores, np.array([[1.0], [2.0]])) == 1.0


def test_accuracy_and_r2_score_refuse_text():
    """Both failed inside NumPy (UFuncTypeError; could not convert string to float)."""
    from proplab import accuracy, r2_score

    text = np.array([["a"], ["b"]])
    with pytest.raises(
        TypeError, match=r"^accuracy: predictions must hold numbers, got an array of dtype <U1$"
    ):
        accuracy(text, np.array([[0], [1]]))
    with pytest.raises(
        TypeError, match=r"^accuracy: target must hold numbers, got an array of dtype <U1$"
    ):
        accuracy(np.array([[0.2], [0.9]]), text)
    with pytest.raises(
        TypeError, match=r"^r2_score: predictions must hold numbers, got an array of dtype <U1$"
    ):
        r2_score(text, np.ones((2, 1)))
    with pytest.raises(
        TypeError, match=r"^r2_score: target must hold numbers, got an array of dtype <U1$"
    ):
        r2_score(np.ones((2, 1)), text)
