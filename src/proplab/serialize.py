"""Save and load models as ``.npz`` files that load without pickle.

A model file holds one array per parameter (``param.<dotted name>``, e.g.
``param.0.weight``), one per buffer (``buffer.<dotted name>``: BatchNorm1d's
running statistics, ``buffer.1.running_mean``) and ``architecture``: a 0-d string
array with JSON that describes how to rebuild the module tree, e.g.::

    {"format": "proplab-model", "version": 1,
     "architecture": {"type": "Sequential", "layers": [
         {"type": "Linear", "in_features": 2, "out_features": 10, "bias": true,
          "replicas": [], "dtype": "float64"},
         {"type": "Sigmoid"}, ...]},
     "metadata": {...}}

:func:`load` rebuilds the modules from that description and copies the
weights in, reading with ``allow_pickle=False``: a model file cannot run code.
The header also records whether the model was in training or evaluation mode
(``"training"``), and :func:`load` gives it back in that mode (a run folder's
``model.npz`` is saved in evaluation mode, ready to predict). A Dropout's random
stream is saved only in a checkpoint (``optimizer=``, below); a model saved without one
draws its masks from ``default_rng(0)`` when loaded (give it another with
``layer.rng = np.random.default_rng(seed)`` to train it further).

``save(model, path, optimizer=opt)`` also stores the optimizer's ``state_dict()``: its
arrays (buffers, per-replica hyperparameters) as ``optim.<path in the dict>`` entries such
as ``optim.groups.0.state.exp_avg``, the rest under ``"optimizer"`` in the JSON header
(each array there as ``{"__array__": entry}``). :func:`load_optimizer` rebuilds it over a
model's parameters; :func:`load` ignores it, and files without it load as before. Such a
checkpoint also records where each Dropout layer's random stream stands
(:mod:`proplab.serialize_streams`), and :func:`load` gives the layers those streams back.

Module types are looked up in :data:`MODULE_TYPES` (name -> ``ModuleType``).
A new layer joins with :func:`register_module_type`, e.g. for Conv1d::

    register_module_type(
        Conv1d,
        to_spec=lambda m, describe: {"in_channels": m.in_channels, ...},
        from_spec=lambda spec, build: Conv1d(spec["in_channels"], ..., rng=DUMMY_RNG),
    )

``to_spec`` returns the constructor arguments (JSON values); ``from_spec``
builds a module with any weights (they are overwritten). Containers use the
``describe``/``build`` callables they are given to recurse into children.
"""

from __future__ import annotations

import inspect
import io
import json
import os
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from proplab import activations
from proplab.batchnorm import BatchNorm1d
from proplab.checks import short_repr
from proplab.conv import Conv1d, Unsqueeze
from proplab.core import Module, Sequential
from proplab.dropout import Dropout
from proplab.features import Features, Standardize
from proplab.layers import Flatten, Linear
from proplab.module_errors import is_proplabs
from proplab.optim import SGD, AdaGrad, Adam, RMSProp
from proplab.optim_base import Optimizer, layout_difference, layout_of
from proplab.parameter import Parameter
from proplab.per_replica import PerReplica, PerReplicaOptimizer
from proplab.runio import jsonable, write_bytes
from proplab.serialize_streams import STREAMS_KEY, restore_streams, streams_of

FORMAT = "proplab-model"
VERSION = 1
PARAM_PREFIX = "param."
MASK_PREFIX = "grad_mask."  # a parameter's grad_mask, when it has one (a stack's biases)
BUFFER_PREFIX = "buffer."  # state saved with the model, not trained (running statistics)
ARCH_KEY = "architecture"
OPTIM_PREFIX = (
    "optim."  # the optimizer's arrays (save(..., optimizer=)), e.g. optim.groups.0.state.exp_avg
)
OPTIM_PARAMS_KEY = "optimizer_params"  # the model's names of the parameters it updates
OPTIM_KEY = "optimizer"  # its state_dict in the header, arrays as {"__array__": entry name}
ARRAY_MARK = "__array__"

Spec = dict[str, Any]
Describe = Callable[[Module], Spec]
Build = Callable[[Spec], Module]


class ModelFileError(ValueError):
    """A model file is unreadable, corrupt or does not match its architecture."""


M = TypeVar("M", bound=Module)


@dataclass(frozen=True)
class ModuleType(Generic[M]):
    """How to turn one module class ``M`` into constructor arguments and back."""

    cls: type[M]
    to_spec: Callable[[M, Describe], Spec]
    from_spec: Callable[[Spec, Build], M]


# each entry's functions take and build its own class (describe picks it by type(module))
MODULE_TYPES: dict[str, ModuleType[Any]] = {}


def dummy_rng() -> np.random.Generator:
    """A Generator for constructors that insist on one; the weights it draws are overwritten."""
    return np.random.default_rng(0)


def register_module_type(
    cls: type[M],
    to_spec: Callable[[M, Describe], Spec] | None = None,
    from_spec: Callable[[Spec, Build], M] | None = None,
    name: str | None = None,
) -> None:
    """Make ``cls`` saveable. Without ``to_spec``/``from_spec`` it must take no arguments."""
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise TypeError(f"register_module_type takes a Module subclass, got {cls!r}")
    if from_spec is None:
        try:  # checked now: a file saved without its arguments could never be loaded
            signature = inspect.signature(cls)
            signature.bind()
        except TypeError:
            needed = [
                p.name
                for p in signature.parameters.values()
                if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            ]
            raise TypeError(
                f"{cls.__name__} takes arguments ({', '.join(needed)}): register it with "
                "to_spec (its arguments as JSON values) and from_spec (building it from them)"
            ) from None
        except ValueError:  # no signature to inspect (a builtin): trust the caller
            pass
    key = name or cls.__name__
    existing = MODULE_TYPES.get(key)
    if existing is not None and existing.cls is not cls and is_proplabs(existing.cls):
        # replacing it would leave proplab's own module unsaveable (and files unloadable)
        raise ValueError(
            f"register_module_type: {key!r} is proplab's own {existing.cls.__module__}."
            f"{existing.cls.__name__}; register {cls.__qualname__} under another name, "
            f"e.g. register_module_type({cls.__name__}, ..., name='My{key}')"
        )
    MODULE_TYPES[key] = ModuleType(
        cls,
        to_spec or (lambda m, describe: {}),
        from_spec or (lambda spec, build: cls()),
    )


def _linear_to_spec(m: Linear, describe: Describe) -> Spec:
    return {
        "in_features": m.in_features,
        "out_features": m.out_features,
        "bias": m.bias is not None,
        "replicas": list(m.replicas),
        "dtype": m.weight.data.dtype.name,
    }


def _linear_from_spec(spec: Spec, build: Build) -> Linear:
    return Linear(
        spec["in_features"],
        spec["out_features"],
        bool(spec["bias"]),
        rng=dummy_rng(),
        replicas=tuple(spec["replicas"]),
        dtype=np.dtype(spec["dtype"]).type,
    )


register_module_type(
    Sequential,
    lambda m, describe: {"layers": [describe(child) for child in m.layers]},
    lambda spec, build: Sequential([build(s) for s in spec["layers"]]),
)
register_module_type(Linear, _linear_to_spec, _linear_from_spec)
register_module_type(
    Flatten,
    lambda m, describe: {"sample_axis": m.sample_axis},
    lambda spec, build: Flatten(spec["sample_axis"]),
)
for _cls in (activations.Sigmoid, activations.Tanh, activations.ReLU, activations.Identity):
    register_module_type(_cls)
register_module_type(
    activations.LeakyReLU,
    lambda m, describe: {"negative_slope": m.negative_slope},
    lambda spec, build: activations.LeakyReLU(spec["negative_slope"]),
)
register_module_type(
    Conv1d,
    lambda m, describe: {
        "in_channels": m.in_channels,
        "out_channels": m.out_channels,
        "kernel_size": m.kernel_size,
        "stride": m.stride,
        "padding": m.padding,
        "dilation": m.dilation,
        "bias": m.bias is not None,
        "replicas": list(m.replicas),
        "dtype": m.weight.data.dtype.name,
    },
    lambda spec, build: Conv1d(
        spec["in_channels"],
        spec["out_channels"],
        spec["kernel_size"],
        spec["stride"],
        spec["padding"],
        spec["dilation"],
        bool(spec["bias"]),
        rng=dummy_rng(),
        replicas=tuple(spec["replicas"]),
        dtype=np.dtype(spec["dtype"]).type,
    ),
)
register_module_type(
    Unsqueeze, lambda m, describe: {"axis": m.axis}, lambda spec, build: Unsqueeze(spec["axis"])
)
register_module_type(
    Features,
    lambda m, describe: {"names": list(m.names)},
    lambda spec, build: Features(spec["names"]),
)
register_module_type(
    Dropout,
    lambda m, describe: {"p": m.p, "replicas": list(m.replicas)},
    # one stream for the whole stack: a replica's masks are no longer its seed's
    lambda spec, build: Dropout(spec["p"], rng=dummy_rng(), replicas=tuple(spec["replicas"])),
)
register_module_type(
    BatchNorm1d,
    lambda m, describe: {
        "num_features": m.num_features,
        "eps": m.eps,
        "momentum": m.momentum,
        "replicas": list(m.replicas),
        "dtype": m.weight.data.dtype.name,
    },
    lambda spec, build: BatchNorm1d(
        spec["num_features"],
        spec["eps"],
        spec["momentum"],
        replicas=tuple(spec["replicas"]),
        dtype=np.dtype(spec["dtype"]).type,
    ),
)
# its statistics are buffers (buffer.<i>.mean, .std): built with placeholders, then loaded
register_module_type(
    Standardize,
    lambda m, describe: {"num_features": m.num_features, "replicas": list(m.replicas)},
    lambda spec, build: Standardize(
        np.zeros((*spec["replicas"], spec["num_features"])),
        np.ones((*spec["replicas"], spec["num_features"])),
    ),
)
# a stack whose replicas differ in activations: each block's module, by its replica count
register_module_type(
    PerReplica,
    lambda m, describe: {"parts": [[b.stop - b.start, describe(mod)] for b, mod in m.blocks]},
    lambda spec, build: PerReplica([(count, build(s)) for count, s in spec["parts"]]),
)


def describe(module: Module) -> Spec:
    """The JSON description of ``module`` (recursively for containers)."""
    for name, mt in MODULE_TYPES.items():
        if type(module) is mt.cls:
            return {"type": name, **mt.to_spec(module, describe)}
    if not isinstance(module, Module):
        raise TypeError(f"save takes a proplab Module, got {type(module).__name__} {module!r:.80}")
    known = [mt.cls for mt in MODULE_TYPES.values() if isinstance(module, mt.cls)]
    kind = f" (a subclass of {known[0].__name__}, saved only if registered)" if known else ""
    raise TypeError(
        f"cannot save a {type(module).__name__}{kind}: not a supported module type; register "
        f"it with proplab.serialize.register_module_type (supported: {', '.join(MODULE_TYPES)})"
    )


def build(spec: Spec) -> Module:
    """A module rebuilt from :func:`describe`'s output (with placeholder weights)."""
    name = spec.get("type") if isinstance(spec, dict) else None
    if name not in MODULE_TYPES:
        raise ModelFileError(
            f"unknown module type {name!r} in the architecture (known: {', '.join(MODULE_TYPES)})"
        )
    return MODULE_TYPES[name].from_spec(spec, build)


def _split_arrays(value: Any, key: str, arrays: dict[str, np.ndarray]) -> Any:
    """``value`` (a state_dict) as JSON values, each array moved into ``arrays`` under a
    dotted key (``optim.groups.0.state.exp_avg``) and left as ``{"__array__": key}``."""
    if isinstance(value, np.ndarray):
        arrays[key] = value
        return {ARRAY_MARK: key}
    if isinstance(value, dict):
        return {k: _split_arrays(v, f"{key}.{k}", arrays) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_split_arrays(v, f"{key}.{i}", arrays) for i, v in enumerate(value)]
    return value


def _join_arrays(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """The inverse of :func:`_split_arrays` (a missing array raises KeyError)."""
    if isinstance(value, dict):
        if set(value) == {ARRAY_MARK}:
            return arrays[value[ARRAY_MARK]]
        return {k: _join_arrays(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_join_arrays(v, arrays) for v in value]
    return value


def save(
    model: Module,
    path: str | os.PathLike[str],
    metadata: dict[str, Any] | None = None,
    optimizer: Optimizer | None = None,
) -> Path:
    """Write ``model`` (weights + architecture, optional JSON ``metadata``) to ``path`` atomically.

    Works for replica stacks too: the replica axes are part of each Linear's
    description and of its weight arrays, and a parameter's ``grad_mask`` (the
    biases a stack holds at 0 for runs without them) is saved and loaded with it.

    With ``optimizer`` (one over this model's parameters), its :meth:`~Optimizer.state_dict`
    is saved too (SGD's momentum buffers, AdaGrad's and RMSProp's sums, Adam's moments,
    the step count and hyperparameters, a PerReplicaOptimizer's blocks): arrays as
    ``optim.*`` entries, the rest in the JSON header, with the model's names of the
    parameters it updates, and where each Dropout layer's random stream stands (layers that
    shared a Generator share one again once loaded). :func:`load_optimizer` rebuilds the
    optimizer, and training on continues exactly as if the run had never stopped, dropout
    masks included. Not saved: a learning-rate schedule's position (its ``state_dict()``),
    and the Generator ``fit`` shuffles mini-batches with (the caller's: pass it on). Without
    ``optimizer``, a new optimizer starts its state afresh (the same run for plain SGD only),
    and a loaded Dropout draws from ``default_rng(0)``.
    """
    path = file_path(path, "save")
    if metadata is not None and not isinstance(metadata, dict):  # [1] was stored as it was
        raise TypeError(
            f"save's metadata must be a dict of JSON values or None, got {short_repr(metadata)}"
        )
    if path.is_dir():
        raise IsADirectoryError(
            f"{path} is a folder: save takes a file path, e.g. {path / 'model.npz'}"
        )
    folder = Path(path).parent
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"cannot save {path}: {folder} is a file, not a folder")
    if not folder.is_dir():  # else the error names the hidden temporary file
        raise FileNotFoundError(
            f"cannot save {path}: no folder {folder} (create it first, e.g. "
            f"Path({str(folder)!r}).mkdir(parents=True))"
        )
    optim_arrays: dict[str, np.ndarray] = {}
    optim_header = None
    if optimizer is not None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"save's optimizer must be a proplab Optimizer (SGD, Adam, ...), got "
                f"{type(optimizer).__name__}"
            )
        mine = {id(p) for p in model.parameters()}
        if not all(id(p) in mine for p in optimizer.params):
            # its state would be loaded onto this model's parameters, which it never saw
            raise ValueError(
                f"cannot save {path}: the optimizer updates parameters that are not this "
                "model's (build it over model.parameters())"
            )
        optim_header = _split_arrays(optimizer.state_dict(), OPTIM_PREFIX[:-1], optim_arrays)
        # which of the model's parameters it updates, in its order (a subset: a frozen
        # layer), so load_optimizer picks them by name, not by shape alone
        names = {id(p): name for name, p in model.named_parameters()}
        optim_params = [names[id(p)] for p in optimizer.params]
    header = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": describe(model),
        "training": bool(getattr(model, "training", True)),
        # NumPy scalars and arrays as plain numbers and lists (a config's np.int64 seed
        # used to fail here, after training), NaN/inf as null, as in every run file
        "metadata": jsonable(metadata or {}),
    }
    if optim_header is not None:
        header[OPTIM_KEY] = optim_header
        header[OPTIM_PARAMS_KEY] = optim_params
        # a checkpoint to train on from: where Dropout's mask streams stand goes too
        streams = streams_of(model)
        if streams is not None:
            header[STREAMS_KEY] = streams
    try:
        text = json.dumps(header, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"cannot save {path}: the metadata must be JSON values (numbers, strings, "
            f"lists, dicts, None) ({exc})"
        ) from None
    arrays: dict[str, np.ndarray] = {ARCH_KEY: np.array(text)}
    for name, p in model.named_parameters():
        arrays[PARAM_PREFIX + name] = p.data
        if p.grad_mask is not None:  # which entries an optimizer may move
            arrays[MASK_PREFIX + name] = np.asarray(p.grad_mask)
    for name, b in model.named_buffers():
        arrays[BUFFER_PREFIX + name] = b
    arrays.update(optim_arrays)
    buf = io.BytesIO()
    # no array needs pickle (every one is numbers; load refuses pickles). No
    # allow_pickle=False: NumPy 2.0 (the oldest proplab accepts) would save it as an array
    # of that name; the stubs see **arrays reaching that bool keyword
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return write_bytes(path, buf.getvalue())


def file_path(path: object, caller: str) -> Path:
    """``path`` as a Path with ``~`` expanded (NumPy and open() take it literally: "no
    folder ~"), or a clear error: an empty path (read as the current folder) is a
    ValueError; bytes (pathlib's own TypeError) and any other type a TypeError."""
    if isinstance(path, bytes):
        raise TypeError(
            f"{caller} takes a file path as a str or pathlib.Path, got bytes {short_repr(path)} "
            "(os.fsdecode(path) gives the str)"
        )
    if not isinstance(path, str | os.PathLike):
        raise TypeError(
            f"{caller} takes a file path as a str or pathlib.Path, got {short_repr(path)}"
        )
    if not os.fspath(path):
        raise ValueError(f"{caller} takes a file path, got an empty one ('')")
    return Path(path).expanduser()


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON header of a model file (format, version, architecture, metadata)."""
    return _read(path)[0]


def load(path: str | os.PathLike[str]) -> Module:
    """Rebuild the model saved at ``path`` (read with ``allow_pickle=False``).

    Raises :class:`ModelFileError` with the file name and the problem when the
    file is not a proplab model, is corrupt, or its weights do not fit its
    architecture. A missing file raises ``FileNotFoundError``. The model comes back in
    the mode it was saved in (training or evaluation; files without that record, in
    training mode, as a new model).
    """
    header, state, masks, _ = _read(path)
    try:
        model = build(header["architecture"])
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError, OverflowError, RecursionError) as exc:
        raise ModelFileError(f"{path}: architecture does not describe a model ({exc})") from None
    try:
        model.load_state_dict(state)
    except ValueError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    params = dict(model.named_parameters())
    for name, mask in masks.items():
        p = params.get(name)
        try:
            fits = (
                p is not None
                and mask.dtype.kind in "biuf"
                and np.broadcast_shapes(mask.shape, p.data.shape) == p.data.shape
            )
        except ValueError:
            fits = False
        if p is None or not fits:
            raise ModelFileError(
                f"{path}: grad_mask {name!r} of shape {mask.shape} fits no parameter "
                f"of the architecture"
            )
        p.grad_mask = mask.astype(p.data.dtype)
    if STREAMS_KEY in header:
        try:
            restore_streams(model, header[STREAMS_KEY])
        except ValueError as exc:
            raise ModelFileError(f"{path}: {exc}") from None
    training = header.get("training", True)
    if not isinstance(training, bool):
        raise ModelFileError(f"{path}: 'training' must be true or false, got {training!r}")
    return model.train(training)


OPTIMIZER_TYPES: dict[str, type[Optimizer]] = {
    cls.__name__: cls for cls in (SGD, AdaGrad, RMSProp, Adam, PerReplicaOptimizer)
}


def optimizer_from_state(params: list[Parameter], state: dict[str, Any]) -> Optimizer:
    """An optimizer of the type ``state`` (a :meth:`~Optimizer.state_dict`) names, built over
    ``params`` with its hyperparameters, then given its steps and buffers.

    Raises ValueError naming what differs when ``params`` are not shaped as the ones the
    state was saved for (checked before anything is built)."""
    name = state.get("type") if isinstance(state, dict) else None
    # a hand-edited file may hold any JSON there: a list is unhashable for the look-up
    if not isinstance(name, str) or name not in OPTIMIZER_TYPES:
        raise ValueError(f"unknown optimizer type {name!r} (known: {', '.join(OPTIMIZER_TYPES)})")
    difference = layout_difference(state.get("groups", []), layout_of(params), "these parameters")
    if difference:
        raise ValueError(f"the saved {name} does not fit these parameters: {difference}")
    try:
        if name == PerReplicaOptimizer.__name__:
            parts = [
                (block["replicas"], partial(_rule_from_state, block["optimizer"]))
                for block in state["blocks"]
            ]
            optimizer: Optimizer = PerReplicaOptimizer(params, parts)
        else:
            optimizer = _rule_from_state(state, params)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"the {name} state is incomplete or malformed ({exc!r})") from None
    optimizer.load_state_dict(state)
    return optimizer


def _rule_from_state(state: dict[str, Any], params: list[Parameter]) -> Optimizer:
    """One rule (SGD, Adam...) built from its saved state: the optimizer itself, or a
    PerReplicaOptimizer block's (no nesting)."""
    kind = state.get("type")
    cls = OPTIMIZER_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None or cls is PerReplicaOptimizer:
        raise ValueError(f"a PerReplicaOptimizer block cannot be a {state.get('type')!r}")
    return cls(params, **cls.init_args(state["hyper"], state["options"]))


def load_optimizer(path: str | os.PathLike[str], params: Module | Iterable[Parameter]) -> Optimizer:
    """The optimizer saved with ``proplab.save(model, path, optimizer=opt)``, rebuilt (same
    type, hyperparameters, step count and buffers) over ``params``: the loaded model
    (``proplab.load(path)``), whose parameters it updated are picked by name, or a list
    of parameters in the saved optimizer's order. Training on continues exactly where
    it stopped.

    Raises :class:`ModelFileError` when the file holds no optimizer state (saved without
    ``optimizer=``) or a broken one, TypeError for anything but a model or Parameters, and
    ValueError naming what differs when ``params`` are not shaped as the saved ones (other
    layers, dtype or replica count), or are not as many as it updated.
    """
    header, _, _, arrays = _read(path, with_optimizer=True)
    saved_names = header.get(OPTIM_PARAMS_KEY)
    if isinstance(params, Module):
        own = dict(params.named_parameters())
        if saved_names is None:  # a file written before the names were recorded
            params = list(own.values())
        else:
            unknown = [n for n in saved_names if n not in own]
            if unknown:
                raise ValueError(
                    f"{path}: the saved optimizer updated parameters {', '.join(unknown)}, "
                    "which this model does not have"
                )
            params = [own[n] for n in saved_names]
    else:
        params = list(params) if isinstance(params, Iterable) else [params]
        bad = next((p for p in params if not isinstance(p, Parameter)), None)
        if bad is not None:
            raise TypeError(
                f"load_optimizer takes the model (proplab.load(path)) or its Parameters, got "
                f"a {type(bad).__name__} among them"
            )
        if saved_names is not None and len(saved_names) != len(params):
            raise ValueError(
                f"{path}: the saved optimizer updated {len(saved_names)} parameters "
                f"({', '.join(saved_names)}), not these {len(params)}: pass the model itself, "
                "load_optimizer(path, model), and it picks them by name"
            )
    if OPTIM_KEY not in header:
        raise ModelFileError(
            f"{path}: no optimizer state in this model file (save it with "
            "proplab.save(model, path, optimizer=opt))"
        )
    try:
        state = _join_arrays(header[OPTIM_KEY], arrays)
    except (KeyError, TypeError) as exc:
        raise ModelFileError(f"{path}: broken optimizer state (no array {exc})") from None
    try:
        return optimizer_from_state(params, state)
    except ValueError as exc:
        raise type(exc)(f"{path}: {exc}") from None


def _read(
    path: str | os.PathLike[str], with_optimizer: bool = False
) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``(header, parameter and buffer arrays, grad masks, optimizer arrays)`` of a model
    file, names without prefixes but the optimizer's (read only ``with_optimizer``)."""
    path = file_path(path, "load_optimizer" if with_optimizer else "load")
    if not path.is_file():
        inside = path / "model.npz"
        hint = (
            f" ({path} is a folder; its model is {inside})"
            if inside.is_file()
            else f" ({path} is a folder, with no model.npz in it)"
            if path.is_dir()
            else ""
        )
        raise FileNotFoundError(f"no model file at {path}{hint}")
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":  # np.load reads any other file as a pickle ...
            # ... and says to pass allow_pickle, which is no help for a text or image file
            raise ModelFileError(
                f"{path}: not a readable proplab model file (not a .npz archive, which "
                "proplab.save writes)"
            )
    try:
        # our own file object: np.load leaks its handle when the zip is corrupt
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as z:
            if ARCH_KEY not in z.files:
                raise ModelFileError(f"{path}: not a proplab model file (no '{ARCH_KEY}' entry)")
            header = json.loads(str(z[ARCH_KEY][()]))
            state = {
                k[len(prefix) :]: z[k]
                for prefix in (PARAM_PREFIX, BUFFER_PREFIX)
                for k in z.files
                if k.startswith(prefix)
            }
            masks = {k[len(MASK_PREFIX) :]: z[k] for k in z.files if k.startswith(MASK_PREFIX)}
            optim = (
                {k: z[k] for k in z.files if k.startswith(OPTIM_PREFIX)} if with_optimizer else {}
            )
    except ModelFileError:
        raise
    except (
        OSError,
        ValueError,
        EOFError,
        zipfile.BadZipFile,
        NotImplementedError,  # a damaged header claims an unknown compression method
        RuntimeError,  # ... or encryption (RecursionError too: absurdly nested JSON)
    ) as exc:
        # ValueError covers bad JSON, truncated arrays and pickled (object) arrays
        raise ModelFileError(f"{path}: not a readable proplab model file ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a proplab model file (format is not '{FORMAT}')")
    if header.get("version") != VERSION:
        raise ModelFileError(
            f"{path}: model file version {header.get('version')!r} is not supported "
            f"(this proplab reads version {VERSION})"
        )
    return header, state, masks, optim
