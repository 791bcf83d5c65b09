"""A checkpoint (``save(..., optimizer=)``) keeps where Dropout's random streams stand.

The point: 100 epochs with dropout, save with the optimizer, load, 100 more is the
200-epoch run bit for bit, masks included; layers that shared a Generator share one
again; a damaged stream record is refused with a message naming what is wrong.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_serialize import _rewrite_header

import proplab
from proplab import SGD, Adam
from proplab.dropout import Dropout
from proplab.models import mlp
from proplab.serialize import ModelFileError, read_header
from proplab.serialize_streams import STREAMS_KEY


def _dropouts(model: proplab.Module) -> list[Dropout]:
    return [m for m in model.modules() if isinstance(m, Dropout)]


def _assert_same_weights(a: proplab.Module, b: proplab.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for name in sa:
        np.testing.assert_array_equal(sa[name], sb[name], err_msg=name, strict=True)


def test_training_on_from_a_checkpoint_draws_the_masks_the_run_would_have(tmp_path: Path):
    x, y = proplab.generate_xor_easy()
    loss = proplab.MSELoss()

    def model() -> proplab.Sequential:  # two hidden layers: two Dropouts, one Generator
        return mlp(2, 6, 1, dropout=0.3, rng=np.random.default_rng(3))

    def adam(m: proplab.Module) -> Adam:
        return Adam(m.parameters(), lr=0.02)

    whole = model()
    # mini-batches shuffled by the caller's Generator: passed on, as the docs say
    run = proplab.fit(
        whole, loss, adam(whole), x, y, 200, batch_size=8, rng=np.random.default_rng(11)
    )

    first = model()
    opt, shuffle = adam(first), np.random.default_rng(11)
    head = proplab.fit(first, loss, opt, x, y, 100, batch_size=8, rng=shuffle)
    path = proplab.save(first, tmp_path / "half.npz", optimizer=opt)
    resumed = proplab.load(path)
    tail = proplab.fit(
        resumed,
        loss,
        proplab.load_optimizer(path, resumed),
        x,
        y,
        100,
        batch_size=8,
        rng=shuffle,
    )

    assert head.loss + tail.loss == run.loss  # every epoch's loss, exactly
    _assert_same_weights(resumed, whole)
    # the two layers draw from one stream again, as mlp built them
    a, b = _dropouts(resumed)
    assert a.rng is b.rng and a.rngs is None
    # the stream itself was saved once
    assert len(read_header(path)[STREAMS_KEY]["states"]) == 1


def test_a_stack_keeps_each_replicas_own_stream(tmp_path: Path) -> None:
    x, y = proplab.generate_xor_easy()
    loss = proplab.MSELoss()
    lrs = np.array([0.5, 1.0, 2.0])

    def model() -> proplab.Sequential:
        return mlp(2, 5, 1, dropout=0.2, seeds=[1, 2, 3], replicas=3)

    whole = model()
    run = proplab.fit(whole, loss, SGD(whole.parameters(), lr=lrs, momentum=0.5), x, y, 120)
    first = model()
    opt = SGD(first.parameters(), lr=lrs, momentum=0.5)
    head = proplab.fit(first, loss, opt, x, y, 60)
    path = proplab.save(first, tmp_path / "stack.npz", optimizer=opt)
    resumed = proplab.load(path)
    tail = proplab.fit(resumed, loss, proplab.load_optimizer(path, resumed), x, y, 60)

    for got, want in zip(head.loss + tail.loss, run.loss, strict=True):
        np.testing.assert_array_equal(got, want)  # each epoch's (3,) losses
    _assert_same_weights(resumed, whole)
    a, b = _dropouts(resumed)
    assert a.rng is None and len(a.rngs) == 3
    # replica k's stream is shared by both layers, and the three replicas' differ
    assert all(ga is gb for ga, gb in zip(a.rngs, b.rngs, strict=True))
    assert len({id(g) for g in a.rngs}) == 3


def test_a_model_saved_without_an_optimizer_keeps_no_stream(tmp_path: Path) -> None:
    model = mlp(2, 4, 1, dropout=0.5, rng=np.random.default_rng(0))
    path = proplab.save(model, tmp_path / "plain.npz")
    assert STREAMS_KEY not in read_header(path)
    # and a checkpoint of a model without dropout has nothing to record either
    plain = mlp(2, 4, 1, rng=np.random.default_rng(0))
    path = proplab.save(plain, tmp_path / "no_dropout.npz", optimizer=SGD(plain.parameters()))
    assert STREAMS_KEY not in read_header(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda s: s["states"][0].update(bit_generator="os.system"),
            "stream 0: unknown bit generator 'os.system' (known: PCG64, PCG64DXSM, MT19937, "
            "Philox, SFC64)",
        ),
        (
            lambda s: s["states"][0].update(state="abc"),
            "stream 0: not a PCG64 state",
        ),
        (
            lambda s: s["dropout"].pop(),
            f"'{STREAMS_KEY}' records the streams of 1 Dropout layers, the architecture has 2",
        ),
        (
            lambda s: s["dropout"][1].update(rng=5),
            "stream 5 is not one of the 1 saved",
        ),
        (
            lambda s: s["dropout"][0].update(rngs=[0, 0]),
            "Dropout layer 0: expected {'rng': i} or {'rngs': [...]}",
        ),
        (lambda s: s.pop("states"), f"'{STREAMS_KEY}' must hold a list of 'states'"),
    ],
    ids=["unknown-generator", "bad-state", "layer-count", "bad-index", "both-keys", "no-states"],
)
def test_a_damaged_stream_record_is_refused_naming_what_is_wrong(
    tmp_path: Path, change, message: str
) -> None:
    model = mlp(2, 4, 1, dropout=0.5, rng=np.random.default_rng(0))
    path = proplab.save(model, tmp_path / "m.npz", optimizer=SGD(model.parameters()))
    _rewrite_header(path, lambda h: change(h[STREAMS_KEY]))
    with pytest.raises(ModelFileError) as err:
        proplab.load(path)
    assert str(err.value).startswith(f"{path}: {message}")


def test_a_stack_record_with_the_wrong_number_of_streams_is_refused(tmp_path: Path) -> None:
    model = mlp(2, 4, 1, dropout=0.5, seeds=[0, 1], replicas=2)
    path = proplab.save(model, tmp_path / "m.npz", optimizer=SGD(model.parameters()))
    _rewrite_header(path, lambda h: h[STREAMS_KEY]["dropout"][0]["rngs"].pop())
    with pytest.raises(ModelFileError) as err:
        proplab.load(path)
    assert str(err.value) == f"{path}: Dropout layer 0 has replicas (2,) but 1 saved streams"
