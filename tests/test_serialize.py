"""Model files: weights + architecture in .npz, loaded without pickle, clear errors otherwise."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import proplab
from proplab import serialize
from proplab.core import Module, Parameter, Sequential
from proplab.layers import Flatten, Linear
from proplab.models import mlp
from proplab.serialize import ModelFileError


def _same_weights(a: Module, b: Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for name in sa:
        assert sa[name].dtype == sb[name].dtype, name
        np.testing.assert_array_equal(sa[name], sb[name], err_msg=name)


def test_round_trip_lab_model_predicts_the_same(tmp_path: Path, rng: np.random.Generator) -> None:
    model = mlp(2, 10, 1, rng=rng)
    x = rng.uniform(size=(7, 2))
    path = proplab.save(model, tmp_path / "model.npz")
    loaded = proplab.load(path)
    _same_weights(model, loaded)
    # same structure, layer by layer
    assert [type(m).__name__ for m in loaded.layers] == [
        "Linear",
        "Sigmoid",
        "Linear",
        "Sigmoid",
        "Linear",
        "Sigmoid",
    ]
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"activation": "tanh", "output_activation": None},
        {"activation": "relu", "output_activation": "identity", "bias": False},
        {"activation": "leaky_relu", "hidden": (5, 4, 3)},
    ],
)
def test_round_trip_other_architectures(tmp_path: Path, rng: np.random.Generator, kwargs) -> None:
    kwargs = {"hidden": 6, **kwargs}
    model = mlp(3, kwargs.pop("hidden"), 2, rng=rng, **kwargs)
    x = rng.normal(size=(5, 3))
    loaded = proplab.load(proplab.save(model, tmp_path / "m.npz"))
    _same_weights(model, loaded)
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))


def test_leaky_relu_slope_and_flatten_axis_survive(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    model = Sequential(Flatten(-3), Linear(6, 2, rng=rng), proplab.LeakyReLU(0.2))
    loaded = proplab.load(proplab.save(model, tmp_path / "m.npz"))
    assert loaded.layers[0].sample_axis == -3
    assert loaded.layers[2].negative_slope == 0.2
    x = rng.normal(size=(4, 2, 3))  # (n, C, L) -> flattened to (n, 6)
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))


def test_replica_stack_round_trip(tmp_path: Path, rng: np.random.Generator) -> None:
    stack = mlp(2, 4, 1, seeds=[3, 1, 4])
    loaded = proplab.load(proplab.save(stack, tmp_path / "stack.npz"))
    assert loaded.layers[0].weight.data.shape == (3, 2, 4)
    assert loaded.layers[0].weight.replica_ndim == 1
    _same_weights(stack, loaded)
    shared = rng.uniform(size=(6, 2))
    per_replica = rng.uniform(size=(3, 6, 2))
    np.testing.assert_array_equal(loaded.forward(shared), stack.forward(shared))
    np.testing.assert_array_equal(loaded.forward(per_replica), stack.forward(per_replica))
    # replica k still equals the single model built with seed k
    single = mlp(2, 4, 1, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(loaded.forward(shared)[2], single.forward(shared))


def test_float32_dtype_is_kept(tmp_path: Path, rng: np.random.Generator) -> None:
    model = mlp(2, 3, 1, rng=rng, dtype=np.float32)
    loaded = proplab.load(proplab.save(model, tmp_path / "m.npz"))
    assert loaded.layers[0].weight.data.dtype == np.float32
    _same_weights(model, loaded)


def test_file_is_plain_npz_without_pickle(tmp_path: Path, rng: np.random.Generator) -> None:
    model = mlp(2, 10, 1, rng=rng)
    path = proplab.save(model, tmp_path / "model")  # no extension added behind our back
    assert path == tmp_path / "model" and path.is_file()
    with np.load(path, allow_pickle=False) as z:
        assert sorted(z.files) == sorted(
            ["architecture"] + [f"param.{name}" for name, _ in model.named_parameters()]
        )
        header = json.loads(str(z["architecture"][()]))
        np.testing.assert_array_equal(z["param.2.weight"], model.layers[2].weight.data)
    assert header["format"] == "proplab-model" and header["version"] == 1
    assert header["architecture"]["layers"][0] == {
        "type": "Linear",
        "in_features": 2,
        "out_features": 10,
        "bias": True,
        "replicas": [],
        "dtype": "float64",
    }
    # every entry is a plain .npy, none is a pickle
    with zipfile.ZipFile(path) as zf:
        assert all(name.endswith(".npy") for name in zf.namelist())


def test_files_are_written_as_numpy_2_0_writes_them(tmp_path: Path, rng, monkeypatch) -> None:
    # NumPy 2.0 (the oldest release proplab accepts) has no allow_pickle keyword in savez:
    # it saved one as an array named "allow_pickle", which load then took for a parameter
    from proplab import runio

    seen: list[str] = []

    def savez_2_0(file, *args, **kwds):  # every keyword is an array name
        seen.extend(kwds)
        return savez(file, *args, **kwds)

    savez = np.savez
    monkeypatch.setattr(np, "savez", savez_2_0)
    model = mlp(2, 3, 1, rng=rng)
    proplab.save(model, tmp_path / "m.npz")
    runio.write_npz(tmp_path / "w.npz", {"a": np.ones(2)})
    assert seen == ["architecture", *(f"param.{n}" for n, _ in model.named_parameters()), "a"]


def test_metadata_is_stored(tmp_path: Path, rng: np.random.Generator) -> None:
    path = proplab.save(mlp(2, 2, 1, rng=rng), tmp_path / "m.npz", metadata={"seed": 7})
    assert serialize.read_header(path)["metadata"] == {"seed": 7}


def test_register_a_new_module_type(tmp_path: Path, rng: np.random.Generator) -> None:
    """The extension point other layers (Conv1d) use: constructor args out, module back."""

    class Scale(Module):
        def __init__(self, size: int) -> None:
            super().__init__()
            self.size = size
            self.params = {"gain": Parameter(np.ones(size), name="gain")}

        def forward(self, x: np.ndarray) -> np.ndarray:
            return x * self.params["gain"].data

    with pytest.raises(
        TypeError, match="cannot save a Scale: not a supported module type; register it"
    ):
        proplab.save(Sequential(Scale(2)), tmp_path / "m.npz")
    serialize.register_module_type(
        Scale,
        to_spec=lambda m, describe: {"size": m.size},
        from_spec=lambda spec, build: Scale(spec["size"]),
    )
    try:
        model = Sequential(Linear(2, 2, rng=rng), Scale(2))
        model.layers[1].params["gain"].data = np.array([2.0, -3.0])
        loaded = proplab.load(proplab.save(model, tmp_path / "m.npz"))
        np.testing.assert_array_equal(loaded.layers[1].params["gain"].data, [2.0, -3.0])
        x = rng.normal(size=(3, 2))
        np.testing.assert_array_equal(loaded.forward(x), model.forward(x))
    finally:
        del serialize.MODULE_TYPES["Scale"]


# --- bad files: one clear error naming the file -----------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no model file"):
        proplab.load(tmp_path / "absent.npz")


def test_garbage_file(tmp_path: Path) -> None:
    path = tmp_path / "junk.npz"
    path.write_bytes(b"this is not a zip file at all")
    with pytest.raises(ModelFileError, match="junk.npz: not a readable proplab model file") as err:
        proplab.load(path)
    # not NumPy's advice to load it as a pickle (allow_pickle), no help for a stray file
    assert "not a .npz archive" in str(err.value) and "pickle" not in str(err.value)


def test_truncated_file(tmp_path: Path, rng: np.random.Generator) -> None:
    path = proplab.save(mlp(2, 10, 1, rng=rng), tmp_path / "m.npz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="m.npz"):
        proplab.load(path)


def _patch_central_directory(data: bytes, offset: int, value: int) -> bytes:
    """Overwrite a 2-byte field of every zip central-directory entry."""
    patched = bytearray(data)
    at = patched.find(b"PK\x01\x02")
    while at != -1:
        patched[at + offset : at + offset + 2] = value.to_bytes(2, "little")
        at = patched.find(b"PK\x01\x02", at + 4)
    return bytes(patched)


@pytest.mark.parametrize(
    ("offset", "value"),
    [(8, 0x0001), (10, 99), (8, 0x0020)],
    ids=["encrypted flag", "unknown compression", "patched-data flag"],
)
def test_damaged_zip_headers(tmp_path: Path, rng: np.random.Generator, offset, value) -> None:
    """zipfile raises RuntimeError or NotImplementedError on these, not BadZipFile."""
    path = proplab.save(mlp(2, 4, 1, rng=rng), tmp_path / "m.npz")
    path.write_bytes(_patch_central_directory(path.read_bytes(), offset, value))
    with pytest.raises(ModelFileError, match="m.npz: not a readable proplab model file"):
        proplab.load(path)


def test_absurd_architectures(tmp_path: Path, rng: np.random.Generator) -> None:
    """Well-formed JSON that no model fits: an infinite width, a nesting deeper than Python's stack."""
    path = proplab.save(mlp(2, 4, 1, rng=rng), tmp_path / "m.npz")
    header = serialize.read_header(path)
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    header["architecture"]["layers"][0]["in_features"] = float("inf")
    np.savez(tmp_path / "inf.npz", **{**arrays, "architecture": np.array(json.dumps(header))})
    with pytest.raises(ModelFileError, match="inf.npz: architecture does not describe a model"):
        proplab.load(tmp_path / "inf.npz")
    deep = '{"type": "Sequential", "layers": [' * 2000 + "]}" * 2000
    header["architecture"] = "DEEP"
    text = json.dumps(header).replace('"DEEP"', deep)
    np.savez(tmp_path / "deep.npz", **{**arrays, "architecture": np.array(text)})
    with pytest.raises(ModelFileError, match="deep.npz: "):
        proplab.load(tmp_path / "deep.npz")


def test_npz_without_architecture(tmp_path: Path) -> None:
    path = tmp_path / "plain.npz"
    np.savez(path, w=np.ones(3))
    with pytest.raises(ModelFileError, match="not a proplab model file .no 'architecture'"):
        proplab.load(path)


def test_pickled_object_array_is_refused(tmp_path: Path, rng: np.random.Generator) -> None:
    path = tmp_path / "evil.npz"
    header = serialize.read_header(proplab.save(mlp(2, 2, 1, rng=rng), tmp_path / "ok.npz"))
    np.savez(path, architecture=np.array(json.dumps(header)), **{"param.0.weight": np.array([{}])})
    with pytest.raises(ModelFileError, match="evil.npz: not a readable"):
        proplab.load(path)


def test_weights_that_do_not_fit_the_architecture(tmp_path: Path, rng: np.random.Generator) -> None:
    path = proplab.save(mlp(2, 10, 1, rng=rng), tmp_path / "m.npz")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["param.2.weight"] = np.ones((10, 3))  # a (10, 10) layer in the architecture
    np.savez(path, **arrays)
    with pytest.raises(ModelFileError, match=r"parameter '2.weight': model has shape \(10, 10\)"):
        proplab.load(path)
    del arrays["param.2.weight"]
    np.savez(path, **arrays)
    with pytest.raises(ModelFileError, match=r"missing \['2.weight'\]"):
        proplab.load(path)


def _rewrite_header(path: Path, change) -> None:
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(str(arrays["architecture"][()]))
    change(header)
    arrays["architecture"] = np.array(json.dumps(header))
    np.savez(path, **arrays)


def test_unknown_module_type_and_version(tmp_path: Path, rng: np.random.Generator) -> None:
    path = proplab.save(mlp(2, 2, 1, rng=rng), tmp_path / "m.npz")
    _rewrite_header(path, lambda h: h["architecture"]["layers"][1].update(type="Swish"))
    with pytest.raises(ModelFileError, match="unknown module type 'Swish'"):
        proplab.load(path)
    path = proplab.save(mlp(2, 2, 1, rng=rng), tmp_path / "v.npz")
    _rewrite_header(path, lambda h: h.update(version=99))
    with pytest.raises(ModelFileError, match="version 99 is not supported"):
        proplab.load(path)


def test_a_stack_with_per_replica_activations_round_trips(tmp_path: Path) -> None:
    # "cannot save a PerReplica: register it ...": the sweep's own mixed stacks could not
    # be saved, and registering a library class is not the user's job
    from proplab.activations import LeakyReLU, Sigmoid, Tanh
    from proplab.per_replica import PerReplica

    stack = mlp(2, 4, 1, seeds=range(4))
    stack.layers[1] = PerReplica([(2, Sigmoid()), (1, Tanh()), (1, LeakyReLU(0.3))])
    loaded = proplab.load(proplab.save(stack, tmp_path / "stack.npz"))
    blocks = [(b.start, b.stop, type(m).__name__) for b, m in loaded.layers[1].blocks]
    assert blocks == [(0, 2, "Sigmoid"), (2, 3, "Tanh"), (3, 4, "LeakyReLU")]
    assert loaded.layers[1].blocks[2][1].negative_slope == 0.3
    _same_weights(stack, loaded)
    x = np.random.default_rng(0).normal(size=(5, 2))
    np.testing.assert_array_equal(loaded.forward(x), stack.forward(x))


def test_what_cannot_be_saved_is_named(tmp_path: Path, rng: np.random.Generator) -> None:
    from proplab.activations import Sigmoid

    class MySigmoid(Sigmoid):
        pass

    model = mlp(2, 4, 1, rng=rng)
    model.layers[1] = MySigmoid()
    with pytest.raises(TypeError, match=r"cannot save a MySigmoid \(a subclass of Sigmoid"):
        proplab.save(model, tmp_path / "m.npz")
    with pytest.raises(TypeError, match=r"save takes a proplab Module, got str"):
        proplab.save("model", tmp_path / "m.npz")  # was "cannot save a str: register it"
    with pytest.raises(IsADirectoryError, match=r"is a folder: save takes a file path"):
        proplab.save(mlp(2, 4, 1, rng=rng), tmp_path)
    assert not list(tmp_path.iterdir())


def test_registering_without_from_spec_a_module_that_takes_arguments_is_refused() -> None:
    # it registered, saved, and the file could never be loaded ("missing 1 required
    # positional argument" from load)
    class Scaled(Module):
        def __init__(self, k: float) -> None:
            super().__init__()
            self.k = k

    with pytest.raises(TypeError, match=r"Scaled takes arguments \(k\): register it with"):
        serialize.register_module_type(Scaled)
    assert "Scaled" not in serialize.MODULE_TYPES
    with pytest.raises(TypeError, match="takes a Module subclass"):
        serialize.register_module_type(len)


def test_metadata_with_numpy_values_is_stored_as_plain_json(tmp_path: Path, rng) -> None:
    path = proplab.save(
        mlp(2, 4, 1, rng=rng), tmp_path / "m.npz", metadata={"seed": np.int64(3), "lr": np.nan}
    )
    assert serialize.read_header(path)["metadata"] == {"seed": 3, "lr": None}
    with pytest.raises(TypeError, match="metadata must be JSON values"):
        proplab.save(mlp(2, 4, 1, rng=rng), tmp_path / "n.npz", metadata={"s": {1, 2}})
    assert not (tmp_path / "n.npz").exists()


def test_a_stacks_grad_masks_are_saved_and_keep_masked_biases_at_zero(tmp_path):
    # a stack of runs with and without biases holds the latter's biases at 0 by grad_mask
    from proplab import SGD, MSELoss, fit
    from proplab.config import RunConfig
    from proplab.data import generate_xor_easy
    from proplab.stacking import build_stack_model

    cfgs = [RunConfig(seed=0), RunConfig(seed=1, bias=False), RunConfig(seed=2)]
    stack = build_stack_model(cfgs, 2, 1)
    masked = {n: p.grad_mask for n, p in stack.named_parameters() if p.grad_mask is not None}
    assert set(masked) == {"0.bias", "2.bias", "4.bias"}
    again = proplab.load(proplab.save(stack, tmp_path / "stack.npz"))
    for name, p in again.named_parameters():
        if name in masked:
            np.testing.assert_array_equal(p.grad_mask, masked[name])
            assert p.grad_mask.dtype == p.data.dtype
        else:
            assert p.grad_mask is None
    # training the loaded stack on: replica 1 still has no bias
    x, y = generate_xor_easy()
    fit(again, MSELoss(), SGD(again.parameters(), lr=1.0), x, y, 20)
    for name in masked:
        bias = dict(again.named_parameters())[name].data
        assert np.all(bias[1] == 0) and np.any(bias[0] != 0)


def test_a_grad_mask_that_fits_no_parameter_is_refused(tmp_path):
    model = proplab.mlp(2, 3, 1, rng=np.random.default_rng(0))
    path = proplab.save(model, tmp_path / "m.npz")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["grad_mask.0.bias"] = np.ones((4, 4))
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(proplab.serialize.ModelFileError, match=r"grad_mask '0.bias' of shape"):
        proplab.load(tmp_path / "bad.npz")


# --- mutation-testing gaps: conv geometry, bias flags and the version --------------------


def test_a_strided_unpadded_conv_net_without_biases_round_trips(tmp_path: Path) -> None:
    from proplab.models import conv_net

    model = conv_net(5, 3, 4, 1, kernel_size=2, stride=2, padding=0, bias=False,
                     rng=np.random.default_rng(1))  # fmt: skip
    assert [name for name, _ in model.named_parameters()] == [
        "1.weight",
        "4.weight",
        "6.weight",
    ]
    assert model.layers[1].output_length(5) == 2  # (5 - 2) // 2 + 1 positions
    x = np.random.default_rng(2).normal(size=(6, 5))
    loaded = proplab.load(proplab.save(model, tmp_path / "conv.npz"))
    _same_weights(model, loaded)
    conv = loaded.layers[1]
    assert (conv.stride, conv.padding, conv.kernel_size, conv.bias) == (2, 0, 2, None)
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))


def test_a_file_of_an_older_or_unstated_version_is_refused(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    path = proplab.save(mlp(2, 2, 1, rng=rng), tmp_path / "v.npz")
    _rewrite_header(path, lambda h: h.update(version=0))
    with pytest.raises(ModelFileError, match="version 0 is not supported"):
        proplab.load(path)
    _rewrite_header(path, lambda h: h.pop("version"))
    with pytest.raises(ModelFileError, match="version None is not supported"):
        proplab.load(path)


def test_save_into_a_file_posing_as_a_folder_and_load_of_a_missing_file_say_so(tmp_path):
    # mutation testing: a folder that is a file is named as such; a missing model file gets
    # no hint about a run folder it is not
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(NotADirectoryError) as err:
        proplab.save(
            mlp(2, 3, 1, rng=np.random.default_rng(0)), tmp_path / "notes.txt" / "model.npz"
        )
    assert str(err.value) == (
        f"cannot save {tmp_path / 'notes.txt' / 'model.npz'}: {tmp_path / 'notes.txt'} is a "
        "file, not a folder"
    )
    with pytest.raises(FileNotFoundError) as err:
        proplab.load(tmp_path / "none.npz")
    assert str(err.value) == f"no model file at {tmp_path / 'none.npz'}"


@pytest.mark.parametrize(
    ("make_optimizer", "exact"),
    [
        (lambda params: proplab.SGD(params, lr=0.5), True),
        (lambda params: proplab.SGD(params, lr=0.5, momentum=0.9), False),
        (lambda params: proplab.Adam(params, lr=0.01), False),
    ],
    ids=["sgd", "sgd-momentum", "adam"],
)
def test_training_on_after_load_without_the_optimizer_restarts_its_state(
    tmp_path: Path, make_optimizer, exact: bool
) -> None:
    # save's docstring and README: saved without optimizer=, the optimizer's state is not
    # in the file, so 100 epochs, save, load, 100 more with a new optimizer is the 200-epoch
    # run for plain SGD only (with optimizer= and load_optimizer, for every rule:
    # test_optimizer_state.py)
    x, y = proplab.generate_xor_easy()
    loss = proplab.MSELoss()
    whole = mlp(2, 6, 1, rng=np.random.default_rng(3))
    proplab.fit(whole, loss, make_optimizer(whole.parameters()), x, y, epochs=200)
    first = mlp(2, 6, 1, rng=np.random.default_rng(3))
    proplab.fit(first, loss, make_optimizer(first.parameters()), x, y, epochs=100)
    proplab.save(first, tmp_path / "half.npz")
    resumed = proplab.load(tmp_path / "half.npz")
    proplab.fit(resumed, loss, make_optimizer(resumed.parameters()), x, y, epochs=100)
    gap = np.abs(resumed(x) - whole(x)).max()
    if exact:
        assert gap == 0.0
    else:  # momentum or moments started afresh at epoch 100: another trajectory
        assert gap > 1e-6  # far beyond rounding (0 for SGD: the same arithmetic)


def test_save_and_load_name_a_path_they_cannot_use(tmp_path: Path, monkeypatch) -> None:
    """api21 L3: save(m, '') said "' is a folder ... e.g. /model.npz", save(m, b'...') gave
    pathlib's TypeError, load of a folder without model.npz did not say it is a folder."""
    model = mlp(2, 3, 1, rng=np.random.default_rng(0))
    for call, name in ((lambda p: proplab.save(model, p), "save"), (proplab.load, "load")):
        with pytest.raises(
            ValueError, match=rf"^{name} takes a file path, got an empty one \(''\)$"
        ):
            call("")
        with pytest.raises(TypeError) as err:
            call(b"m.npz")
        assert str(err.value) == (
            f"{name} takes a file path as a str or pathlib.Path, got bytes b'm.npz' "
            "(os.fsdecode(path) gives the str)"
        )
    with pytest.raises(FileNotFoundError) as err:
        proplab.load(tmp_path)
    assert (
        str(err.value)
        == f"no model file at {tmp_path} ({tmp_path} is a folder, with no model.npz in it)"
    )
    with pytest.raises(TypeError, match=r"^load_optimizer takes a file path .*got None$"):
        proplab.load_optimizer(None, model)
    assert not list(tmp_path.iterdir())


def test_save_and_load_expand_a_home_folder(tmp_path: Path, monkeypatch) -> None:
    """save(m, '~/m.npz') said "no folder ~" (api21 L3)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    model = mlp(2, 3, 1, rng=np.random.default_rng(0))
    assert proplab.save(model, "~/m.npz") == tmp_path / "m.npz"
    loaded = proplab.load("~/m.npz")
    np.testing.assert_array_equal(loaded[0].weight.data, model[0].weight.data)


@pytest.mark.parametrize("metadata", [[1], "run 3", 5])
def test_save_refuses_metadata_that_is_no_dict(tmp_path: Path, metadata) -> None:
    """metadata=[1] was stored although the docstring says a dict (api21 L8)."""
    with pytest.raises(TypeError) as err:
        proplab.save(mlp(2, 3, 1, rng=np.random.default_rng(0)), tmp_path / "m.npz", metadata)
    assert (
        str(err.value) == f"save's metadata must be a dict of JSON values or None, got {metadata!r}"
    )
    assert not list(tmp_path.iterdir())
