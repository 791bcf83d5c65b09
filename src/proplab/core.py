"""Module and Sequential: the skeleton every layer hangs on, and the train/eval modes.

Backprop in proplab is explicit and local. A module's ``forward(x)`` keeps what
its backward needs; ``backward(grad_out)`` *adds* the gradient of the loss into
its parameters' ``.grad`` and returns the gradient with respect to its input.

Every array may carry leading *replica* axes: a stack of ``K`` independent
models is one model whose weights are ``(K, in, out)`` instead of ``(in, out)``.

:class:`Parameter` and :func:`matmul` live in :mod:`proplab.parameter`, the argument
checks in :mod:`proplab.checks` and the errors a failing module raises in
:mod:`proplab.module_errors`; they are imported here too (``proplab.core.Parameter``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

# re-exported: proplab.core.X keeps working for the names that lived here
from proplab.checks import check_int, did_you_mean, short_repr  # noqa: F401
from proplab.module_errors import (  # noqa: F401  (re-exported)
    NoInputGradFlagError,
    backward_failure,
    forward_first,
    is_proplabs,
    returned_no_array,
    unregistered_parameter,
)
from proplab.parameter import Parameter, matmul  # noqa: F401  (re-exported)


class Module:
    """Base class: ``forward`` stores what ``backward`` needs; ``backward`` applies the chain rule.

    Shape contract: ``forward(x)`` takes one model's ``x`` ``(n, features)``
    (samples first), or, for a replica stack of K models, ``(K, n, features)`` or
    shared data ``(n, features)``; it returns ``(n, out)`` or ``(K, n, out)``
    (more replica axes ``R`` work the same way; Conv1d's ``(n, C, L)`` arrays put
    theirs in front too). ``backward(grad_out)`` takes dL/doutput with the output's
    shape, *adds* dL/dparam into each parameter's ``.grad`` and returns dL/dx with
    ``x``'s shape, or ``None`` when called with ``need_input_grad=False`` (the
    model's first layer; parameterless modules may still return it).

    Subclasses set ``self.params`` (a dict name -> Parameter) for their own
    parameters, and ``self.buffers`` (a dict name -> array) for state that is saved
    with the model but not trained (BatchNorm1d's running statistics); containers
    override :meth:`children`.

    ``training`` is True (the default) in training mode and False in evaluation
    mode; :meth:`train` and :meth:`eval` set it on a module and every module below
    it. Only layers that behave differently when predicting read it (Dropout,
    BatchNorm1d); ``fit`` trains in training mode, ``evaluate`` scores in eval mode.

    Overflow: a direct call (``layer(x)``, ``layer.backward(g)``) runs under NumPy's error
    settings, so inputs near the float limits may give inf or NaN with NumPy's
    RuntimeWarnings (overflow, invalid value), as the same arithmetic in NumPy would (the
    sigmoid alone clamps, silent for any finite input). ``fit`` and ``evaluate`` turn those
    warnings off and record the run as diverged. The losses behave the same
    (:class:`~proplab.Loss`).
    """

    params: dict[str, Parameter]
    buffers: dict[str, np.ndarray]
    training: bool
    # True for modules whose forward and backward also take ``out=`` (an array
    # of the result's shape to write into), as NumPy's ufuncs do
    supports_out: bool = False

    def __init__(self) -> None:
        self.params = {}
        self.buffers = {}
        self.training = True

    def train(self, mode: bool = True) -> Module:
        """Put this module and every module below it in training mode (``mode=False``:
        evaluation mode); returns the module, as PyTorch's does, so
        ``model.train()(x)`` and ``proplab.mlp(...).eval()`` read naturally."""
        if not isinstance(mode, bool | np.bool_):
            raise TypeError(f"train(mode) takes True or False, got {short_repr(mode)}")
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode for this module and every module below it (``train(False)``):
        Dropout passes its input through, BatchNorm1d normalises with its running
        statistics. Returns the module."""
        return self.train(False)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The module's output for input ``x`` (shapes in the class docstring).

        Also keeps what :meth:`backward` needs (the input, an activation's output...),
        replacing what the previous call kept.
        """
        raise NotImplementedError(
            f"{type(self).__name__} has no forward: write forward(self, x), which returns the "
            "output and keeps on self what backward needs (docs/own_layer.md)"
        )

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Add dLoss/dParam into each parameter's grad; return dLoss/dInput.

        ``grad_out`` is dLoss/doutput for the last :meth:`forward`, with the output's
        shape; the result has that forward input's shape (shared data ``(n, in)`` feeding
        a stack gets the sum over replicas). Gradients accumulate: zero them between
        steps. ``need_input_grad=False`` lets the first layer skip the input gradient
        (nobody uses it during training); it may then return ``None``.
        """
        raise NotImplementedError(
            f"{type(self).__name__} has no backward: write backward(self, grad_out, "
            "need_input_grad=True), which adds dL/dparam into each parameter's grad and "
            "returns dL/dx (docs/own_layer.md)"
        )

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Same as :meth:`forward`."""
        return self.forward(x)

    def children(self) -> list[Module]:
        """The direct sub-modules, in order (``[]`` for a layer; a Sequential's layers)."""
        return []

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Yield ``(dotted_name, parameter)`` for this module, then its children.

        A child's names are prefixed with its index: ``"0.weight"``, ``"2.bias"``.
        """
        try:
            params = self.params
        except AttributeError:
            raise TypeError(
                f"{type(self).__name__} has no params: its __init__ must call "
                "super().__init__() first (Module.__init__ creates self.params)"
            ) from None
        for name, p in params.items():
            yield prefix + name, p
        for i, child in enumerate(self.children()):
            yield from child.named_parameters(f"{prefix}{i}.")

    def parameters(self) -> list[Parameter]:
        """Every Parameter of this module and its children, in :meth:`named_parameters` order
        (what an optimizer takes).

        Raises ValueError for a Parameter kept as an attribute of a module in the tree but
        in no module's ``params``: no optimizer would ever update it.
        """
        found = [p for _, p in self.named_parameters()]
        registered = {id(p) for p in found}
        for module in self.modules():
            stray = unregistered_parameter(module, registered)
            if stray is not None:
                name = type(module).__name__
                raise ValueError(
                    f"{name}.{stray} is a Parameter but not in {name}.params, so no "
                    f"optimizer would update it: add it in __init__, e.g. "
                    f"self.params[{stray!r}] = self.{stray}"
                )
        return found

    def modules(self) -> Iterator[Module]:
        """This module, then every module below it, depth first."""
        yield self
        for child in self.children():
            yield from child.modules()

    def has_parameters(self) -> bool:
        """True if this module or any child has a Parameter (stops at the first found)."""
        return bool(self.params) or any(True for _ in self.named_parameters())

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zero (lazily, see :class:`Parameter`)."""
        for p in self.parameters():
            p.zero_grad()

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        """Yield ``(dotted_name, array)`` for every buffer (state saved with the model but
        not trained, such as ``"1.running_mean"``), this module's first, as
        :meth:`named_parameters` names parameters."""
        for name, array in getattr(self, "buffers", {}).items():
            yield prefix + name, array
        for i, child in enumerate(self.children()):
            yield from child.named_buffers(f"{prefix}{i}.")

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter array and every buffer, keyed by dotted name (as
        PyTorch's: ``"0.weight"``, ``"1.running_mean"``)."""
        state = {name: p.data.copy() for name, p in self.named_parameters()}
        state.update((name, b.copy()) for name, b in self.named_buffers())
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy arrays into the parameters and buffers in place; names and shapes must match.

        Everything is checked before anything is copied: on a ValueError the
        model keeps every value it had.
        """
        if not hasattr(state, "keys") or not hasattr(state, "__getitem__"):
            raise TypeError(
                f"load_state_dict takes a dict of arrays (from state_dict()), got "
                f"{type(state).__name__}"
            )
        # a buffer is written into in place too: the module holds that very array
        own = {name: p.data for name, p in self.named_parameters()}
        kinds = dict.fromkeys(own, "parameter")
        for name, b in self.named_buffers():
            own[name], kinds[name] = b, "buffer"
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own), key=str)
        if missing or unexpected:
            raise ValueError(
                f"state does not fit the model: missing {missing}, unexpected {unexpected}"
            )
        values = {}
        for name, target in own.items():
            value = np.asarray(state[name])
            if value.shape != target.shape:
                raise ValueError(
                    f"{kinds[name]} {name!r}: model has shape {target.shape}, state has "
                    f"{value.shape}"
                )
            if value.dtype.kind not in "biuf":
                raise ValueError(
                    f"{kinds[name]} {name!r}: state holds dtype {value.dtype}; accepted: "
                    "real numbers"
                )
            values[name] = value
        for name, target in own.items():
            target[...] = values[name]

    def extra_repr(self) -> str:
        """What the repr shows between the parentheses (a layer's sizes); ``""`` here."""
        return ""

    def __repr__(self) -> str:
        kids = self.children()
        if not kids:
            return f"{type(self).__name__}({self.extra_repr()})"
        inner = "\n".join(f"  ({i}): " + repr(k).replace("\n", "\n  ") for i, k in enumerate(kids))
        return f"{type(self).__name__}(\n{inner}\n)"


def eval_mode(module: Module) -> ModeSwitch:
    """Run a block with ``module`` in evaluation mode (see :meth:`Module.eval`), then put
    every module below it back in the mode it had (a frozen layer kept in eval mode stays
    so). ``evaluate``, the figures and ``predict`` score this way::

        with proplab.eval_mode(model):
            pred = model(x)  # dropout off, batchnorm's running statistics
    """
    return ModeSwitch(module, False)


def train_mode(module: Module) -> ModeSwitch:
    """Run a block with ``module`` in training mode, then put every module below it back
    in the mode it had (``fit`` trains this way)."""
    return ModeSwitch(module, True)


class ModeSwitch:
    """The context manager of :func:`eval_mode` and :func:`train_mode`: on entry, every
    module below ``module`` whose mode differs from ``training`` is switched (and
    remembered); on exit those are switched back. A plain class, not a
    ``@contextmanager`` generator: ``fit`` and ``evaluate`` enter one per call, and
    ``callbacks.train`` calls both every epoch (4.5 -> 2.7 us each on the lab model)."""

    __slots__ = ("module", "training", "switched")

    def __init__(self, module: Module, training: bool) -> None:
        self.module, self.training = module, training
        self.switched: list[Module] = []

    def __enter__(self) -> Module:
        training = self.training
        # each module's own flag, not only the top one's: a model may mix modes on
        # purpose; getattr: a module of the user's whose __init__ skipped Module's has
        # none yet; not a Module at all (a duck-typed model): nothing to switch
        if isinstance(self.module, Module):
            for m in self.module.modules():
                if getattr(m, "training", True) != training:
                    m.training = training
                    self.switched.append(m)
        return self.module

    def __exit__(self, *exc: object) -> None:
        for m in self.switched:
            m.training = not self.training
        self.switched = []


def _module_paths(module: Module, path: str) -> Iterator[tuple[str, Module]]:
    """``(path, module)`` for ``module`` and every module below it: ``"1"``, ``"1.0"``, ..."""
    yield path, module
    for j, child in enumerate(module.children()):
        yield from _module_paths(child, f"{path}.{j}")


class Sequential(Module):
    """Modules applied in order; backward runs them in reverse.

    Shape: whatever the first module takes to whatever the last returns.
    """

    def __init__(self, *layers: Module | Sequence[Module]) -> None:
        """``Sequential(a, b, c)``, or one list or tuple of them: ``Sequential([a, b, c])``."""
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], list | tuple):
            layers = tuple(layers[0])
        modules: list[Module] = []
        for layer in layers:
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential takes Modules, got {type(layer).__name__}")
            modules.append(layer)
        # one module object in two places, here or inside a block: its backward would use
        # the values of its later forward (a ReLU shared by two blocks trained on wrong
        # gradients, and gradcheck crashed on it; types18)
        seen: dict[int, str] = {}
        for i, layer in enumerate(modules):
            for path, module in _module_paths(layer, str(i)):
                if id(module) in seen:
                    name = type(module).__name__
                    raise ValueError(
                        f"Sequential: layer {path} is the same {name} object as layer "
                        f"{seen[id(module)]}: a module keeps its forward's values for its "
                        f"backward, so each place needs one of its own ({name}(...) again)"
                    )
                seen[id(module)] = path
        self.layers: list[Module] = modules

    def children(self) -> list[Module]:
        return self.layers

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Each layer's forward in order, each taking the previous one's output."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Each layer's backward in reverse order; returns dL/dx with the input's shape.

        With ``need_input_grad=False`` it returns ``None`` and stops at the first layer
        that has parameters (layers below it have nothing to learn).
        """
        # The chain rule, plainly:
        #     for layer in reversed(self.layers):
        #         grad_out = layer.backward(grad_out)
        # The code below is that loop. It only stops early, at the first layer with
        # parameters, when nobody needs dL/dx (fit: x is data), tells that layer so, and
        # names the layer whose backward failed.
        layers = self.layers
        if not layers:  # an empty Sequential is the identity
            return grad_out if need_input_grad else None
        # Without an input gradient, backprop stops at the first layer that has
        # parameters: nothing below it (a reshape, say) needs a gradient.
        # (the usual first layer has its own parameters: no search then)
        first = 0 if need_input_grad or layers[0].params else self._first_with_parameters()
        if first < 0:
            return None
        layer = None
        try:
            # every layer above `first`, from the last one down (the chain rule runs
            # from the output to the input)
            for layer in layers[:first:-1]:
                # need_input_grad defaults to True: an array, never None (not expressible
                # in Module.backward's one signature)
                grad_out = layer.backward(grad_out)  # type: ignore[assignment]
            layer = layers[first]
            # the flag only when False: a parameterless layer of the user's may not take it
            grad_in = (
                layer.backward(grad_out) if need_input_grad else layer.backward(grad_out, False)
            )
        except Exception as exc:  # a layer of the user's own went wrong: say which
            flagged = layer is layers[first] and not need_input_grad
            failure = backward_failure(layers, layer, grad_out, exc, flagged)
            if failure is None:
                raise
            raise failure from exc
        return grad_in if need_input_grad else None

    def _first_with_parameters(self) -> int:
        for i, layer in enumerate(self.layers):
            if layer.has_parameters():
                return i
        return -1

    def __getitem__(self, i: int) -> Module:
        """Layer ``i`` (``model[0]`` is the first Linear of an :func:`~proplab.mlp`)."""
        return self.layers[i]

    def __len__(self) -> int:
        """The number of layers (activations count as layers)."""
        return len(self.layers)
