"""The playground's training session: one model trained a few epochs at a time.

This is the model behind ``proplab play`` (see :mod:`proplab.playground_server`),
with no web in it: a :class:`Playground` holds one run of a :class:`RunConfig`
on a two-feature dataset (the lab's ``linear`` and ``xor``, a classification
zoo set, or one of the zoo's regression sets ``plane`` and ``multi-gauss``),
trains it ``epochs`` at a time with :func:`proplab.train.fit`, and describes
what a page draws as plain JSON-ready values: the loss so far, the training and
test accuracy (R² for a regression), the probability of class 1 (a regression's
predicted value) over a grid of the input plane, each hidden unit's output over a
coarser grid, and the weights. Those maps and the losses and accuracies are the
model's in evaluation mode (batchnorm's running statistics, dropout off: what it
predicts with); training, between them, is in training mode.

A regression set, as in TensorFlow Playground, is trained with MSE on an output
that can reach its targets in [-1, 1], with the settings ``proplab train`` gives
it unless they are named (:func:`proplab.dataload.dataset_defaults`: identity
output, tanh units, Adam at lr 0.03, 400 points without noise), and any other
loss, or an output that cannot go negative, is refused with
:func:`proplab.dataload.check_regression`'s message.

Training in steps is the same training as one run: ``step(500)`` then
``step(1500)`` leaves the weights :func:`fit` reaches in 2 000 epochs with the
same config, bit for bit (the mini-batch shuffling continues its one stream, and
dropout's masks theirs), with batchnorm and dropout too: measuring the model between
steps does not touch batchnorm's running statistics.

:meth:`Playground.set_weight` and :meth:`Playground.set_bias` set one weight or bias
(a click on the page's network), the optimizer's state kept; training goes on from there.

:meth:`Playground.trace` shows the next step by hand, as ``proplab trace`` prints it
(:func:`proplab.trace.trace_step`), on one training point alone, for the model as it
is: it runs on a copy of the model and optimizer, so the session trains on exactly as
if it had not been asked.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from proplab.batchnorm import BatchNorm1d
from proplab.checks import did_you_mean, short_repr
from proplab.config import (
    MOMENTUM_OPTIMIZERS,
    ConfigError,
    RunConfig,
    network_label,
)
from proplab.core import eval_mode
from proplab.data import plane_axes, plane_points
from proplab.dataload import ZOO, dataset_defaults, is_regression, regression_problem, zoo_key
from proplab.experiments import DATASETS, prepare_run
from proplab.features import FEATURES, Features
from proplab.layers import Linear
from proplab.metrics import r2_score
from proplab.models import hidden_activations
from proplab.registry import REGISTRIES
from proplab.run_parts import build_run_parts
from proplab.scoring import evaluate
from proplab.trace import trace_step
from proplab.zoo_regression import REGRESSION_ZOO

# The settings a page may change (RunConfig's names); the rest keep RunConfig's defaults.
SETTINGS = (
    "dataset",
    "n",
    "noise",
    "test_fraction",
    "features",
    "hidden",
    "activation",
    "output_activation",
    "loss",
    "optimizer",
    "lr",
    "momentum",
    "weight_decay",
    "l1",
    "batch_size",
    "init",
    "bias",
    "batchnorm",
    "dropout",
    "seed",
)
CLASSIFICATION_NAMES = (*DATASETS, *ZOO)  # the two-feature, two-class datasets
REGRESSION_NAMES = tuple(REGRESSION_ZOO)  # two features, a value in [-1, 1] to predict
DATASET_NAMES = (*CLASSIFICATION_NAMES, *REGRESSION_NAMES)
CLASSIFICATION, REGRESSION = "classification", "regression"  # a dataset's task
# the settings a dataset decides unless they are given (dataload.dataset_defaults: a
# regression's output must reach negative targets, and the lab's SGD at lr 1.0 saturates
# its network for good: plane R² -1 208 after 5 000 epochs): a page switching dataset
# sets these to the new dataset's, so the playground trains what `proplab train` does
TASK_SETTINGS = ("loss", "output_activation", "activation", "optimizer", "lr", "n", "noise")
# TensorFlow Playground's "Regularization" choice, each with the setting its one rate
# goes to (None: neither; the setting not chosen is 0)
REGULARIZATIONS = (("None", None), ("L1", "l1"), ("L2", "weight_decay"))
# TensorFlow Playground's seven input features, as the page offers them: its sin(X1) and
# sin(X2) are sin_5x1 and sin_5x2 on our data (features.TF_SCALE); on [-1, 1] sin_x1 is
# nearly x1. A session holding another feature (from a Link) gets a box for it too
TF_FEATURES = ("x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_5x1", "sin_5x2")
GRID = 64  # the decision boundary's grid: GRID x GRID points
UNIT_GRID = 20  # each hidden unit's map: UNIT_GRID x UNIT_GRID points
MAX_STEP_EPOCHS = 100_000
# samples x weights x epochs of one step (a 1 000-epoch frame of the largest network on
# 5 000 points: ~20 s on a busy 2-core machine; the server answers nothing else meanwhile)
MAX_STEP_WORK = 3e10
MAX_STEP_UPDATES = 100_000  # parameter updates of one step (~5 s of Python at batch 1)
MAX_LAYERS = 6  # what a page can draw as a network
MAX_WIDTH = 32
MAX_SAMPLES = 5_000
# the noise's standard deviation, in the data's units (about [-1, 1] a side): 0.1 to 0.3 is
# noisy; 1 blurs every set into one cloud. TensorFlow Playground's 0-50 (%) typed here (30)
# would make circle a +-100 blob with nothing to learn
MAX_NOISE = 1.0
MAX_CURVE_POINTS = 500  # loss values one step returns (thinned evenly, the last kept)
TEST_POINTS_PER_STEP = 10  # test losses one step measures, at even epochs (the last after it)
MAX_KEPT_CURVE = 6_000  # loss values a session keeps for a page opened later
DIGITS = 5  # significant digits of the losses, accuracies and weights sent
MAP_DECIMALS = 3  # decimals of the boundary's and the units' maps (colours need no more)
MAX_TRACE_DIGITS = 12  # significant digits a trace's text may show (float64 holds ~16)


class PlaygroundError(ValueError):
    """A request the playground cannot follow; the message says why and what is accepted."""


def task_of(dataset: str) -> str:
    """``"regression"`` for a regression set (targets are values), else ``"classification"``."""
    return REGRESSION if is_regression(dataset) else CLASSIFICATION


def options() -> dict[str, Any]:
    """The choices a page offers: dataset, activation, loss, optimizer and init names, the
    input features (``features``: every one accepted; ``tf_features``: TensorFlow
    Playground's seven, which the page shows), the regularizations (``{"name": "L1",
    "setting": "l1"}``: the setting the rate goes to, ``None`` for none), the default
    settings and the limits.

    ``tasks`` maps each dataset to ``"classification"`` or ``"regression"``;
    ``dataset_defaults`` maps each to its own values of :data:`TASK_SETTINGS` (a
    regression set's output activation is identity, its optimizer Adam at lr 0.03),
    which a reset takes when the settings leave them out."""
    return {
        "datasets": list(DATASET_NAMES),
        "tasks": {name: task_of(name) for name in DATASET_NAMES},
        "dataset_defaults": {name: _task_defaults(name) for name in DATASET_NAMES},
        "activations": list(REGISTRIES["activation"][0]),
        "losses": list(REGISTRIES["loss"][0]),
        "optimizers": list(REGISTRIES["optimizer"][0]),
        "inits": list(REGISTRIES["init"][0]),
        "features": list(FEATURES),
        "tf_features": list(TF_FEATURES),
        "momentum_optimizers": list(MOMENTUM_OPTIMIZERS),
        "regularizations": [{"name": n, "setting": s} for n, s in REGULARIZATIONS],
        "defaults": _settings_of(RunConfig().validate()),
        "limits": {
            "layers": MAX_LAYERS,
            "width": MAX_WIDTH,
            "samples": MAX_SAMPLES,
            "step_epochs": MAX_STEP_EPOCHS,
            "noise": MAX_NOISE,
        },
    }


def _task_defaults(dataset: str) -> dict[str, Any]:
    """The dataset's own values of :data:`TASK_SETTINGS` (RunConfig's where it has none)."""
    own = dataset_defaults(dataset)
    return {key: own.get(key, getattr(RunConfig, key)) for key in TASK_SETTINGS}


class Playground:
    """One training session. ``settings`` maps :data:`SETTINGS` names to values
    (any left out keep :class:`RunConfig`'s default, the lab model on ``xor``, except
    the dataset's own :data:`TASK_SETTINGS`: a regression set's output is identity,
    its units tanh, its optimizer Adam at lr 0.03).

    Raises:
        PlaygroundError: an unknown setting, a dataset that is not two-feature, a
            network too big to draw, a loss or output a regression set cannot use,
            or any value ``RunConfig.validate`` refuses (its message, naming the
            field and what is accepted).
    """

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        # how many times the session was started (each reset adds one: 1 for the first);
        # every state carries it, so a page drawing an earlier session's setup (another
        # page or a Link started it again) sees that it must load the new one
        self.session = 0
        self.reset(settings or {})

    def reset(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """Start again with ``settings``; return :meth:`setup`. On a bad setting the
        session is left as it was."""
        cfg = _config(settings)
        try:
            cfg, prep = prepare_run(cfg)
            parts = build_run_parts(cfg, prep)
        except ConfigError as exc:
            raise PlaygroundError(str(exc)) from None
        self.cfg = cfg
        self.task = task_of(cfg.dataset)
        self.x, self.y, self.x_test, self.y_test = prep.x, prep.y, prep.x_test, prep.y_test
        # trained as proplab train trains these settings: steps of E1, E2, ... epochs are
        # the first E1 + E2 + ... epochs of that run
        self.parts = parts
        self.session += 1
        self.model, self.loss_fn, self.optimizer = parts.model, parts.loss_fn, parts.optimizer
        self.epoch = 0
        self.curve: list[list[float | None]] = []  # every step's curve, thinned as it grows
        self.test_curve: list[list[float | None]] = []  # the test loss after each step
        self.stopped = ""  # why training cannot go on (a diverged model), in words
        inputs = np.concatenate(self._inputs())
        self.grid_u, self.grid_v = plane_axes(inputs, GRID)
        self._points = plane_points(self.grid_u, self.grid_v)
        self.unit_u, self.unit_v = plane_axes(inputs, UNIT_GRID)
        self._unit_points = plane_points(self.unit_u, self.unit_v)
        return self.setup()

    def _inputs(self) -> list[np.ndarray]:
        return [self.x] if self.x_test is None else [self.x, self.x_test]

    def setup(self) -> dict[str, Any]:
        """What stays the same until the next reset: the settings (validated, in
        canonical spelling), the ``task`` (``"classification"`` or ``"regression"``),
        the layer widths, the data ``x`` ``(n, 2)`` and ``y`` ``(n,)``: labels of 0/1,
        or a regression's target values (training and test), the axes of the
        boundary's grid and of the units' grid, ``max_step_epochs`` (the most epochs one
        :meth:`step` of this network on these points may take), and :meth:`state` with
        the whole curve so far (thinned to at most :data:`MAX_KEPT_CURVE` points) and test curve, for a
        page opened on a trained session.
        ``inputs`` names the network's inputs (``x1``, ``x2``, or the chosen features)
        and gives each one's values on the units' grid (flattened row by row)."""
        names = list(self.cfg.features or ("x1", "x2"))
        maps = Features(names).forward(self._unit_points)
        return {
            "settings": _settings_of(self.cfg),
            "task": self.task,
            "widths": [len(names), *self.cfg.hidden_sizes, _out_width(self.model)],
            "inputs": {"names": names, "maps": _rounded(maps.T)},
            "train": self._points_of(self.x, self.y),
            "test": (  # x_test and y_test: both arrays, or both None (holdout)
                None
                if self.x_test is None or self.y_test is None
                else self._points_of(self.x_test, self.y_test)
            ),
            "max_step_epochs": min(self._most_epochs(), MAX_STEP_EPOCHS),
            "grid": {"u": _floats(self.grid_u), "v": _floats(self.grid_v)},
            "unit_grid": {"u": _floats(self.unit_u), "v": _floats(self.unit_v)},
            "state": self.state(list(self.curve), list(self.test_curve)),
        }

    def step(self, epochs: int) -> dict[str, Any]:
        """Train ``epochs`` more epochs (1 to :data:`MAX_STEP_EPOCHS`); return :meth:`state`
        with this step's losses. A diverged model is not trained further (reset it)."""
        if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer):
            raise PlaygroundError(
                f"epochs: must be an integer from 1 to {MAX_STEP_EPOCHS:,}, got {short_repr(epochs)}"
            )
        if not 1 <= epochs <= MAX_STEP_EPOCHS:
            raise PlaygroundError(f"epochs: must be from 1 to {MAX_STEP_EPOCHS:,}, got {epochs:,}")
        if self.stopped:
            raise PlaygroundError(f"{self.stopped}; reset to train again")
        most = self._most_epochs()
        if epochs > most:
            n, batch = self.x.shape[0], self.cfg.batch_size
            batches = "" if batch is None else f" in batches of {batch:,}"
            raise PlaygroundError(
                f"epochs: {epochs:,} epochs of this network on {n:,} samples{batches} are "
                f"too much for one step; at most {most:,} here (train in smaller steps)"
            )
        first = self.epoch
        test_points: list[list[float | None]] = []
        every = max(1, -(-int(epochs) // TEST_POINTS_PER_STEP))
        x_test, y_test = self.x_test, self.y_test

        def measured(epoch: int, _: Any) -> None:
            # the test loss within the step too, as TensorFlow Playground draws it each
            # epoch (tfp25 F6); evaluation mode changes no weight nor any random stream,
            # so the training is the same bits. The step's end: the state's own, below
            last = epoch >= epochs
            if x_test is not None and y_test is not None and epoch % every == 0 and not last:
                test_points.append([first + epoch, self._measure(x_test, y_test)[0]])

        history = self.parts.fit(
            int(epochs), callback=None if x_test is None else measured, callback_every=every
        )
        self.epoch += len(history.epoch)
        if history.stop_reason == "diverged":
            # fit counts this step's epochs ("... at epoch 7: the loss became inf; ...")
            why = history.message.partition(": ")[2]
            self.stopped = f"training diverged at epoch {self.epoch:,}: {why}"
        curve = _thinned([first + e for e in history.epoch], history.loss)
        self.curve = _kept(self.curve + curve)
        state = self.state(curve, [])
        if self.x_test is not None:  # the step's test losses, the last after it
            state["test_curve"] = [*test_points, [self.epoch, state["test_loss"]]]
            self.test_curve = _kept(self.test_curve + state["test_curve"])
        return state

    def _most_epochs(self) -> int:
        """The most epochs one step of this session may take (at least 1)."""
        # one step holds the server: bound its arithmetic (samples x weights) and its
        # updates (each costs ~50 us of Python however small: batches of 1 add up)
        n = self.x.shape[0]
        batch = self.cfg.batch_size
        updates = 1 if batch is None else -(-n // batch)
        per_epoch = n * sum(p.data.size for p in self.model.parameters())
        return max(1, min(int(MAX_STEP_WORK // per_epoch), MAX_STEP_UPDATES // updates))

    def set_lr(self, lr: float) -> dict[str, Any]:
        """Change the learning rate without starting again (the optimizer keeps its state,
        the model its weights); return :meth:`setup`. From here on the session is no
        longer one run of its settings. A diverged model cannot go on: reset it."""
        if self.stopped:
            raise PlaygroundError(f"{self.stopped}; reset to train again")
        try:
            cfg = self.cfg.replace(lr=lr).validate()
        except ConfigError as exc:
            raise PlaygroundError(str(exc)) from None
        self.optimizer.set_hyper("lr", cfg.lr)
        self.cfg = cfg
        return self.setup()

    def set_weight(self, layer: int, source: int, target: int, value: float) -> dict[str, Any]:
        """Set one weight, as a click on a line of the page's network does: Linear layer
        ``layer``'s (0: the inputs' to the first hidden layer) weight from unit ``source``
        of the layer before to unit ``target`` (its ``weight[source, target]``, as
        :meth:`state`'s ``weights[layer][source][target]``) becomes ``value``; return
        :meth:`state` (an empty curve: no epoch was trained).

        Training goes on from there: the optimizer keeps its state (momentum's velocity,
        Adam's moments, the step count) as :meth:`set_lr` does, since they describe the
        gradients seen, not the weight's value; the next step moves the weight from
        ``value``. From here on the session is no longer one run of its settings.

        Raises:
            PlaygroundError: an index out of range (naming the ones there are), a value
                that is not a finite number, or a diverged model (reset it).
        """
        linear = self._linear(layer)
        rows, cols = linear.weight.data.shape
        i = _index("from", source, rows, f"units feeding layer {layer}")
        j = _index("to", target, cols, f"units of layer {layer}")
        linear.weight.data[i, j] = _edited_value(value)  # in place: the optimizer's buffer
        return self.state([])

    def set_bias(self, layer: int, unit: int, value: float) -> dict[str, Any]:
        """Set unit ``unit``'s bias in Linear layer ``layer`` (as :meth:`state`'s
        ``biases[layer][unit]``) to ``value``, as a click on a unit's bias square does;
        return :meth:`state`. The optimizer keeps its state, as in :meth:`set_weight`.

        Raises:
            PlaygroundError: as :meth:`set_weight`, and for a layer without a bias
                (``bias`` off, or a hidden layer batchnorm follows).
        """
        linear = self._linear(layer)
        if linear.bias is None:
            why = "bias is off" if not self.cfg.bias else "batchnorm's shift takes its place"
            raise PlaygroundError(f"layer: layer {layer} has no bias ({why})")
        j = _index("unit", unit, linear.bias.data.shape[0], f"units of layer {layer}")
        linear.bias.data[j] = _edited_value(value)
        return self.state([])

    def unit_map(self, layer: int, unit: int) -> dict[str, Any]:
        """One input's or hidden unit's output over the boundary's grid, as sharp as the
        boundary (a page shows it in the big map while the unit is hovered): ``layer`` 0 is
        the network's inputs (x1, x2 or the chosen features), 1 to H its hidden layers (as
        the page numbers them), ``unit`` the unit's index in it (from 0). The model in
        evaluation mode, as :meth:`state`'s maps; the session is not changed.

        Returns ``{"session", "epoch", "layer", "unit", "map"}``: ``map`` is ``GRID`` rows of
        ``GRID`` values (row ``j`` at the grid's ``v[j]``, as ``state["boundary"]``), None
        where not finite.

        Raises:
            PlaygroundError: ``layer`` or ``unit`` not an integer index of the network's
                inputs and hidden layers (naming the ones there are).
        """
        widths = [len(self.cfg.features or ("x1", "x2")), *self.cfg.hidden_sizes]
        hidden = len(widths) - 1
        layers = {0: "", 1: ", 1: the hidden layer"}.get(
            hidden, f", 1 to {hidden}: the hidden layers"
        )
        where = "0: the inputs" + layers
        if isinstance(layer, bool) or not isinstance(layer, int | np.integer):
            raise PlaygroundError(
                f"layer: must be an integer from 0 to {hidden} ({where}), got {short_repr(layer)}"
            )
        if not 0 <= layer <= hidden:
            raise PlaygroundError(f"layer: must be from 0 to {hidden} ({where}), got {int(layer)}")
        plural = "" if widths[layer] == 1 else "s"
        what = f"input{plural}" if layer == 0 else f"unit{plural} of hidden layer {int(layer)}"
        j = _index("unit", unit, widths[layer], what)
        if layer == 0:
            values = Features(self.cfg.features or ("x1", "x2")).forward(self._points)[:, j]
        else:
            values = hidden_activations(self.model, self._points)[layer - 1][:, j]
        return {
            "session": self.session,
            "epoch": self.epoch,
            "layer": int(layer),
            "unit": j,
            "map": _rounded(values.reshape(GRID, GRID)),
        }

    def _linear(self, layer: int) -> Linear:
        """Linear layer ``layer`` (0 first), checked, for an edit of a live model."""
        if self.stopped:
            raise PlaygroundError(f"{self.stopped}; reset to train again")
        linears = [m for m in self.model.modules() if isinstance(m, Linear)]
        return linears[_index("layer", layer, len(linears), "Linear layers")]

    def trace(self, sample: int, digits: int = 4) -> dict[str, Any]:
        """The next training step of the model as it is now, on training point ``sample``
        alone (its input row ``x[sample]`` ``(1, 2)`` and its target), every number, as
        ``proplab trace`` prints it; the session is not changed.

        The step is :func:`proplab.trace.trace_step` with the session's loss and optimizer
        (its learning rate, momentum, Adam's moments) on a deep copy of the model and the
        optimizer taken together: the optimizer's flat buffer and the copied parameters
        stay views of each other, and the session's weights, optimizer state, dropout's
        random stream (the copy draws its own mask), batchnorm's running statistics and
        epoch count are as they were. The session's own steps may be mini-batches or the
        full batch; this is the step this one sample alone would take.

        Returns ``{"session" (as :meth:`state`'s), "sample", "x" (its two inputs),
        "target" (a class 0/1, or a regression's value), "epoch" (epochs trained so far), "text"
        (``StepTrace.text(digits)``), "checked" (every gradient matched central
        differences), "loss_before", "loss_after"}`` (the loss on this sample before and
        after the step; None if not finite).

        Raises:
            PlaygroundError: ``sample`` not an integer index of a training point,
                ``digits`` not an integer from 1 to :data:`MAX_TRACE_DIGITS`, a network
                with batchnorm (a batch of one sample has no variance), or a diverged
                model.
        """
        n = self.x.shape[0]
        if isinstance(sample, bool) or not isinstance(sample, int | np.integer):
            raise PlaygroundError(
                f"sample: must be an integer from 0 to {n - 1:,} (a training point's index), "
                f"got {short_repr(sample)}"
            )
        if not 0 <= sample < n:
            raise PlaygroundError(
                f"sample: must be from 0 to {n - 1:,} (the indices of the {n:,} training "
                f"points), got {int(sample):,}"
            )
        if isinstance(digits, bool) or not isinstance(digits, int | np.integer):
            raise PlaygroundError(
                f"digits: must be an integer from 1 to {MAX_TRACE_DIGITS}, got {short_repr(digits)}"
            )
        if not 1 <= digits <= MAX_TRACE_DIGITS:
            raise PlaygroundError(
                f"digits: must be from 1 to {MAX_TRACE_DIGITS}, got {int(digits):,}"
            )
        if any(isinstance(m, BatchNorm1d) for m in self.model.modules()):
            raise PlaygroundError(
                f"sample {int(sample)}: a network with batchnorm cannot take a step on one "
                "sample (a batch of one has no variance to normalise by)"
            )
        if self.stopped:
            raise PlaygroundError(
                f"{self.stopped}; there is no step to trace (reset to train again)"
            )
        i = int(sample)
        # one deepcopy of both: the copied parameters are views of the copied optimizer's
        # flat buffer (a copy of each alone would step a buffer the model no longer reads)
        model, optimizer = copy.deepcopy((self.model, self.optimizer))
        trace = trace_step(
            model,
            copy.deepcopy(self.loss_fn),  # the loss keeps its last inputs for its backward
            self.x[i : i + 1].copy(),
            self.y[i : i + 1].copy(),
            optimizer,
            title=self._trace_title(i),
        )
        return {
            "session": self.session,
            "sample": i,
            "x": _floats(self.x[i]),
            "target": self._points_of(self.x[i : i + 1], self.y[i : i + 1])["y"][0],
            "epoch": self.epoch,
            "text": trace.text(int(digits)),
            "checked": trace.checked,
            "loss_before": _float(trace.loss),
            "loss_after": None if trace.loss_after is None else _float(trace.loss_after),
        }

    def _trace_title(self, sample: int) -> str:
        """The first line of a trace: ``proplab trace``'s, naming the training point."""
        cfg = self.cfg
        when = (
            f"after {self.epoch:,} epochs of training" if self.epoch else "at its initial weights"
        )
        return (
            f"One training step of {network_label(cfg, self.x.shape[-1], _out_width(self.model))} "
            f"({cfg.activation}, output {cfg.output_activation}, {cfg.loss} loss) on "
            f"{cfg.dataset}, seed {cfg.seed}, {when}, on training point {sample} alone"
        )

    def state(
        self,
        curve: list[list[float | None]],
        test_curve: list[list[float | None]] | None = None,
    ) -> dict[str, Any]:
        """The model now: ``session`` (how many times the session was started: each
        :meth:`reset` adds one, nothing else changes it; a page whose setup carries another
        number is drawing an earlier session and must load the setup again), ``task``
        (as :meth:`setup`'s), ``epoch`` (epochs trained),
        ``curve`` (``[epoch, loss]`` pairs of the last step, the loss measured before that
        epoch's update; ``None`` for a non-finite loss), ``test_curve`` (``[epoch, test
        loss]`` pairs: up to :data:`TEST_POINTS_PER_STEP` a step, at even epochs, the last
        after it), training and test ``loss``, ``accuracy`` (a
        fraction; None for a regression) and ``r2`` (the coefficient of determination of
        :func:`proplab.metrics.r2_score`; None for a classification), the test ones
        (``test_loss``, ``test_accuracy``, ``test_r2``) None without a test set,
        ``boundary`` (at the grid's points, row ``j`` at ``v[j]``: ``GRID`` rows of
        ``GRID``: P(class 1), or a regression's predicted value as the network outputs
        it, not clipped), ``units`` (per hidden layer, per unit, its output on a
        ``UNIT_GRID`` x ``UNIT_GRID`` grid, flattened row by row), ``weights`` (per
        Linear layer, its ``(in, out)`` weights), ``biases`` (per Linear layer, its
        ``(out,)`` bias, or None for a layer without one: ``bias`` off, or a hidden layer
        batchnorm follows) and ``stopped``. Every number that is not finite (a diverged
        model's) is None."""
        loss, acc, r2 = self._measure(self.x, self.y)
        test_loss, test_acc, test_r2 = (
            (None, None, None)
            if self.x_test is None or self.y_test is None
            else self._measure(self.x_test, self.y_test)
        )
        with eval_mode(self.model):  # predictions: dropout off, batchnorm's running stats
            out = self.model.forward(self._points)
        # a regression's map is its prediction; the page clamps the colours to [-1, 1]
        boundary = out[:, 0] if self.task == REGRESSION else _class1(out, self.cfg.loss)
        units = hidden_activations(self.model, self._unit_points)
        return {
            "session": self.session,
            "task": self.task,
            "epoch": self.epoch,
            "curve": curve,
            "test_curve": test_curve or [],
            "loss": loss,
            "accuracy": acc,
            "r2": r2,
            "test_loss": test_loss,
            "test_accuracy": test_acc,
            "test_r2": test_r2,
            "boundary": _rounded(boundary.reshape(GRID, GRID)),
            "units": [_rounded(layer.T) for layer in units],
            "weights": [_floats(p.data) for p in self.model.parameters() if p.data.ndim == 2],
            "biases": [
                None if m.bias is None else _floats(m.bias.data)
                for m in self.model.modules()
                if isinstance(m, Linear)
            ],
            "stopped": self.stopped,
        }

    def _measure(
        self, x: np.ndarray, y: np.ndarray
    ) -> tuple[float | None, float | None, float | None]:
        """``(loss, accuracy, r2)`` on ``(x, y)``: the accuracy for a classification,
        the R² for a regression, the other None."""
        loss, acc, pred = evaluate(self.model, self.loss_fn, x, y)
        if self.task == REGRESSION:
            return _float(loss), None, _float(r2_score(pred, y))
        return _float(loss), _float(acc), None

    def _points_of(self, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        """The points ``x`` as lists and ``y`` ``(n,)``: class labels as 0/1 integers
        (one-hot rows as their class), or a regression's target values."""
        if self.task == REGRESSION:
            return {"x": _floats(x), "y": _floats(np.asarray(y).reshape(-1))}
        labels = np.asarray(y)
        if labels.ndim == 2 and labels.shape[-1] > 1:
            labels = labels.argmax(axis=-1)
        return {"x": _floats(x), "y": [int(v) for v in labels.reshape(-1)]}


def _config(settings: Mapping[str, Any]) -> RunConfig:
    """The RunConfig ``settings`` describe, checked for what the playground can draw."""
    if not isinstance(settings, Mapping):
        raise PlaygroundError(
            f"settings: must be an object of settings, got {short_repr(settings)}"
        )
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise PlaygroundError(
            f"settings: unknown setting {short_repr(unknown[0])} (accepted: {', '.join(SETTINGS)})"
            + did_you_mean(unknown[0], SETTINGS)
        )
    raw = str(settings.get("dataset", RunConfig.dataset))
    # the zoo's own spelling ("multi_gauss" is multi-gauss), and a regression set's own
    # settings (TASK_SETTINGS) unless given
    name = zoo_key(raw) or raw.strip().lower()
    settings = {**_task_defaults(name), **settings}
    try:
        cfg = RunConfig(**settings)
        _check_regression_first(cfg)
        cfg = cfg.validate()
    except ConfigError as exc:
        raise PlaygroundError(str(exc)) from None
    if name not in DATASET_NAMES:
        raise PlaygroundError(
            f"dataset: the playground draws two-feature datasets: {', '.join(DATASET_NAMES)} "
            f"(got {short_repr(cfg.dataset)})" + did_you_mean(name, DATASET_NAMES)
        )
    widths = cfg.hidden_sizes
    if len(widths) > MAX_LAYERS or max(widths, default=0) > MAX_WIDTH:
        raise PlaygroundError(
            f"hidden: the playground draws at most {MAX_LAYERS} hidden layers of at most "
            f"{MAX_WIDTH} units, got {short_repr(cfg.hidden)}"
        )
    if name != "xor" and cfg.n > MAX_SAMPLES:
        raise PlaygroundError(
            f"n: the playground takes at most {MAX_SAMPLES:,} samples, got {cfg.n:,}"
        )
    # every dataset, xor and linear too (they take no noise): a session of theirs with
    # noise 30 could not switch to a noisy set on the page, whose noise field they disable
    if cfg.noise > MAX_NOISE:
        raise PlaygroundError(
            f"noise: the playground takes at most {MAX_NOISE:g} (the standard deviation of the "
            f"noise on each coordinate, the data being about -1 to 1), got {cfg.noise!r}"
        )
    if cfg.model != "mlp":
        raise PlaygroundError(
            f"model: the playground trains 'mlp' models, got {short_repr(cfg.model)}"
        )
    return cfg.replace(dataset=name)


def _index(name: str, value: Any, count: int, what: str) -> int:
    """``value`` checked to be an integer index from 0 to ``count - 1`` (of ``what``)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise PlaygroundError(
            f"{name}: must be an integer from 0 to {count - 1} (the {count} {what}), got {short_repr(value)}"
        )
    if not 0 <= value < count:
        raise PlaygroundError(
            f"{name}: must be from 0 to {count - 1} (the {count} {what}), got {int(value)}"
        )
    return int(value)


def _edited_value(value: Any) -> float:
    """A weight or bias typed on the page: a finite number (JSON has no NaN: the page
    sends null for one)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise PlaygroundError(f"value: must be a finite number, got {short_repr(value)}")
    if not math.isfinite(value):
        raise PlaygroundError(f"value: must be a finite number, got {short_repr(value)}")
    return float(value)


def _check_regression_first(cfg: RunConfig) -> None:
    """:func:`~proplab.dataload.regression_problem` before ``validate``: for ``bce`` on a
    regression set the reason is the task ("accepted: mse"), not bce's sigmoid output."""
    problem = regression_problem(cfg)
    if problem is not None:
        raise problem


def _settings_of(cfg: RunConfig) -> dict[str, Any]:
    values = cfg.to_dict()
    out = {name: values[name] for name in SETTINGS}
    out["hidden"] = list(cfg.hidden_sizes)
    out["momentum"] = cfg.effective_momentum
    return out


def _out_width(model: Any) -> int:
    return [p.data for p in model.parameters() if p.data.ndim == 2][-1].shape[-1]


def _class1(pred: np.ndarray, loss: str) -> np.ndarray:
    """P(class 1) ``(n,)`` from the model's output ``(n, out)``: the softmax's second
    column for cross-entropy logits, else the one output clipped into [0, 1] (an
    identity output trained with MSE may overshoot; it is thresholded at 0.5 all the
    same). NaN stays NaN (a diverged model)."""
    if loss == "cross_entropy":
        shifted = pred - pred.max(axis=-1, keepdims=True)
        e = np.exp(shifted)
        return e[:, 1] / e.sum(axis=-1)
    return np.clip(pred[:, 0], 0.0, 1.0)


def _kept(curve: list[list[float | None]]) -> list[list[float | None]]:
    """``curve`` as a session keeps it: past :data:`MAX_KEPT_CURVE` points, every other
    one, the last kept."""
    return curve if len(curve) <= MAX_KEPT_CURVE else curve[(len(curve) - 1) % 2 :: 2]


def _thinned(epochs: list[int], losses: list[Any]) -> list[list[float | None]]:
    """At most :data:`MAX_CURVE_POINTS` ``[epoch, loss]`` pairs, evenly spread, the last kept."""
    n = len(epochs)
    keep = range(n) if n <= MAX_CURVE_POINTS else np.linspace(0, n - 1, MAX_CURVE_POINTS)
    return [[int(epochs[int(i)]), _float(losses[int(i)])] for i in keep]


def _float(value: Any) -> float | None:
    """A finite float rounded to :data:`DIGITS` significant digits; None for NaN or inf
    (JSON has no such numbers: a page would fail to parse them)."""
    value = float(value)
    return float(f"{value:.{DIGITS}g}") if math.isfinite(value) else None


def _floats(a: np.ndarray) -> list[Any]:
    """``a`` as nested lists of :func:`_float` values."""
    a = np.asarray(a, dtype=np.float64)
    rounded = [
        float(f"{v:.{DIGITS}g}") if math.isfinite(v) else None for v in a.reshape(-1).tolist()
    ]
    if a.ndim <= 1:
        return rounded
    out = np.empty(a.size, dtype=object)
    out[:] = rounded
    return out.reshape(a.shape).tolist()


def _rounded(a: np.ndarray) -> list[Any]:
    """``a`` as nested lists rounded to :data:`MAP_DECIMALS` decimals, None for NaN or inf."""
    a = np.round(np.asarray(a, dtype=np.float64), MAP_DECIMALS)
    if np.isfinite(a).all():
        return a.tolist()
    out = a.astype(object)
    out[~np.isfinite(a)] = None
    return out.tolist()
