"""The objects one configured run trains with, built once: model, loss, optimizer, batches.

``proplab train`` (:func:`proplab.experiments.run_one`), ``proplab trace --after``
(:func:`proplab.trace_run.trace_config`) and the playground each train the network a
:class:`~proplab.config.RunConfig` describes. They build it and call :func:`proplab.fit`
here, so they stay one run: the same initial weights, the same mini-batches in the same
shuffled order, the same stop at the config's ``tol``. (Three copies of this had drifted:
``trace --after`` once trained past the ``tol`` where ``train`` stopped.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from proplab.config import (
    RunConfig,
    build_loss,
    build_model,
    build_optimizer,
    input_stats,
    shuffle_rng,
)
from proplab.core import Sequential
from proplab.dataload import Prepared
from proplab.history import History
from proplab.losses import Loss
from proplab.optim_base import Optimizer
from proplab.train import fit


@dataclass
class RunParts:
    """A configured run's training objects and its training data.

    ``x`` ``(n, in)`` and ``y`` ``(n, out)`` (or ``(n,)`` class labels for
    cross-entropy) are the training rows (any test share already held out).
    ``rng`` shuffles the mini-batches; it is the run's one stream, so training
    in several :meth:`fit` calls draws the batches one long run would.
    """

    model: Sequential  # build_model's
    loss_fn: Loss
    optimizer: Optimizer
    x: np.ndarray
    y: np.ndarray
    batch_size: int | None
    tol: float | None
    rng: np.random.Generator

    def fit(self, epochs: int, **options: Any) -> History:
        """Train ``epochs`` more epochs as the run does (its batch size, shuffling and
        ``tol``); ``options`` go to :func:`proplab.fit` (``print_every`` defaults to 0;
        ``log``, ``callback``, ``callback_every``)."""
        options.setdefault("print_every", 0)
        return fit(
            self.model,
            self.loss_fn,
            self.optimizer,
            self.x,
            self.y,
            epochs,
            batch_size=self.batch_size,
            rng=self.rng,
            tol=self.tol,
            **options,
        )


def build_run_parts(cfg: RunConfig, prep: Prepared) -> RunParts:
    """The training objects of ``cfg`` (validated) on its prepared data ``prep`` (see
    :func:`proplab.experiments.prepare_run`): the model initialised from ``cfg.seed``,
    its loss and optimizer, and the shuffling stream apart from the data's and the
    weights'. Raises :class:`~proplab.config.ConfigError` for a model that cannot be
    built (e.g. a conv geometry that leaves no outputs)."""
    x, y = prep.x, prep.y
    # standardize: the statistics of the training rows (prep.x), never of the test share
    stats = input_stats(cfg, x)
    model = build_model(cfg, x.shape[-1], prep.n_out, samples=x.shape[0], stats=stats)
    return RunParts(
        model=model,
        loss_fn=build_loss(cfg),
        optimizer=build_optimizer(cfg, model.parameters()),
        x=x,
        y=y,
        batch_size=cfg.batch_size,
        tol=cfg.tol,
        rng=shuffle_rng(cfg),
    )
