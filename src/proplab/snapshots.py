"""Copies of a model's weights at a few epochs of its training (for "the boundary as it forms").

A run with figures keeps its weights at ~6 epochs spread over training (0,
then roughly geometrically, then the last) and draws its decision boundary at
each; :func:`snapshot_epochs` picks the epochs, :class:`Snapshots` keeps the
copies through ``fit``'s callback. NumPy only: the drawing is elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from proplab.core import Module

# shares of the run at which to look, between the start and the end: the boundary of
# the lab's models forms over the first few percent of training, then sharpens
SHARES = (1 / 200, 1 / 40, 1 / 10, 1 / 4)


def _nice(value: float) -> int:
    """The 1-2-5 number (1, 2, 5, 10, 20, ...) nearest to ``value`` on a log scale, >= 1."""
    if value <= 1:
        return 1
    exponent = math.floor(math.log10(value))
    candidates = [m * 10**e for e in (exponent, exponent + 1) for m in (1, 2, 5)]
    return int(min(candidates, key=lambda c: abs(math.log(c / value))))


def snapshot_epochs(epochs: int) -> list[int]:
    """The epochs to keep for a run of ``epochs``: 0, round numbers near :data:`SHARES`
    of the run, and ``epochs`` itself, increasing and without repeats.

    ``snapshot_epochs(20000) == [0, 100, 500, 2000, 5000, 20000]``.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    middle = {_nice(share * epochs) for share in SHARES}
    return [0, *sorted(e for e in middle if 0 < e < epochs), int(epochs)]


class Snapshots:
    """Copies of ``model``'s parameters (``state_dict()``) at chosen epochs.

    Take epoch 0 before training with :meth:`take`, pass :meth:`hook` to
    ``fit(callback=..., callback_every=snapshots.every)``, and take the final
    epoch after it (training may stop early). ``states`` maps epoch -> state.
    """

    def __init__(self, model: Module, epochs: list[int]) -> None:
        self.model = model
        self.epochs = sorted(set(int(e) for e in epochs))
        self.states: dict[int, dict[str, np.ndarray]] = {}
        positive = [e for e in self.epochs if e > 0]
        # fit calls the hook every `every` epochs: the largest step that meets them all
        self.every = math.gcd(*positive) if positive else 1

    def take(self, epoch: int) -> None:
        """Keep a copy of the model's parameters as they are now, as epoch ``epoch``."""
        self.states[int(epoch)] = self.model.state_dict()

    def hook(
        self, then: Callable[[int, Any], None] | None = None, then_every: int = 100
    ) -> Callable[[int, Any], None]:
        """A ``fit`` callback that takes the wanted epochs, and calls ``then(epoch,
        history)`` (a progress bar) every ``then_every`` epochs and at the end."""
        wanted, last, every = set(self.epochs), max(self.epochs), self.every

        def callback(epoch: int, history: Any) -> None:
            if epoch in wanted:
                self.take(epoch)
            # fit's own calls come every `every` epochs; one off that beat is its last
            # (training stopped early), which a progress bar must see too
            if then is not None and (epoch % then_every == 0 or epoch % every or epoch == last):
                then(epoch, history)

        return callback
