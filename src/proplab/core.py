"""Parameter, Module and Sequential: the skeleton every layer hangs on.

Backprop in proplab is explicit and local. A module's ``forward(x)`` keeps what
its backward needs; ``backward(grad_out)`` *adds* the gradient of the loss into
its parameters' ``.grad`` and returns the gradient with respect to its input.

Every array may carry leading *replica* axes: a stack of ``K`` independent
models is one model whose weights are ``(K, in, out)`` instead of ``(in, out)``.
"""

from __future__ import annotations

import difflib
import gc
import numbers
from collections.abc import Iterable, Iterator

import numpy as np

_ONES_ROWS: dict[tuple[int, np.dtype], np.ndarray] = {}


def _ones_row(n: int, dtype: np.dtype) -> np.ndarray:
    """A cached read-only ``(1, n)`` row of ones (sums over the sample axis as a matmul)."""
    key = (n, dtype)
    row = _ONES_ROWS.get(key)
    if row is None:
        if len(_ONES_ROWS) > 64:
            _ONES_ROWS.clear()
        row = np.ones((1, n), dtype=dtype)
        row.flags.writeable = False
        _ONES_ROWS[key] = row
    return row


def check_int(value: object, label: str, low: int = 1) -> int:
    """``value`` as an int if it is a whole number >= ``low``, else a ValueError naming it.

    ``label`` names the argument in the message (e.g. ``"Linear in_features"``).
    Whole floats such as ``2.0`` pass; bools, strings, None, NaN, inf and
    fractions do not.
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)
    if ok:
        try:
            ok = int(value) == value and value >= low
        except (OverflowError, ValueError):  # inf, nan
            ok = False
    if not ok:
        kind = "a positive integer" if low == 1 else f"an integer >= {low}"
        raise ValueError(f"{label} must be {kind}, got {short_repr(value)}")
    return int(value)  # type: ignore[call-overload]


def did_you_mean(name: object, choices: Iterable[str]) -> str:
    """``"; did you mean 'epochs'?"`` for the accepted name nearest a misspelt one (as
    difflib judges close), or ``""``: the end of an "unknown name" error message."""
    key = str(name).strip().lower()
    close = difflib.get_close_matches(key, [str(c) for c in choices], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def short_repr(value: object, limit: int = 80) -> str:
    """``repr(value)`` cut to about ``limit`` characters: an error message naming a bad
    value should not print a whole weight matrix passed by mistake."""
    text = " ".join(repr(value).split())  # an array's repr spans lines
    if len(text) <= limit:
        return text
    shape = f" (shape {value.shape})" if isinstance(value, np.ndarray) else ""
    return f"{text[:limit].rstrip()} ...{shape}"


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ b`` (written into ``out`` if given), as ``np.matmul`` computes it.

    Shapes: ``(*R, n, k) @ (*R, k, m) -> (*R, n, m)``. Two contiguous (or
    transposed) matrices go through ``np.dot``, which calls the same BLAS
    ``gemm`` with less dispatch: 0.6-1.0 us instead of 1.2-1.7 us on the lab's
    ``(21, 10)`` layers, where a model makes ~11 products per epoch. The bits
    are the same as ``np.matmul``'s, 2-D or batched (tests/test_core.py); a
    strided view may differ (NumPy's matmul then skips BLAS), so it and every
    replica stack keep ``np.matmul``.
    """
    # flags.forc: C- or Fortran-contiguous (a transposed matrix is). The method
    # a.dot is np.dot without its __array_function__ dispatcher (~0.07 us less)
    if a.ndim == 2 and b.ndim == 2 and a.flags.forc and b.flags.forc:
        try:
            return a.dot(b, out=out)
        except ValueError:  # out not C-contiguous or not of the result's dtype
            pass
    return np.matmul(a, b, out=out)


class Parameter:
    """A trainable array and the gradient of the loss with respect to it.

    ``data`` and ``grad`` have the same shape. ``replica_ndim`` counts the
    leading replica axes (0 for a single model), so optimizers can broadcast
    per-replica hyperparameters such as the learning rate.

    Gradients accumulate (``+=``) until ``zero_grad()``. Clearing is lazy: the
    next accumulation overwrites instead of adding, which saves one NumPy call
    per parameter per step; reading ``.grad`` always shows the true value.

    ``grad_mask`` (default ``None``): an array of 0s and 1s broadcastable to
    ``data``; optimizers multiply the gradient by it before every update, so
    entries where it is 0 keep their value, if the mask is set before the first
    step (momentum or Adam state built up earlier still moves them) and, with
    weight decay or l1, only while that value is 0. A stack uses it to hold a bias
    at zero for the replicas of models that have none.
    """

    __slots__ = (
        "_data",
        "_grad",
        "_grad_is_zero",
        "_grad_row",
        "_ones",
        "replica_ndim",
        "name",
        "grad_mask",
    )

    def __init__(self, data: np.ndarray, replica_ndim: int = 0, name: str = "") -> None:
        data = np.array(data)
        if data.dtype.kind not in "biuf":  # None, strings, objects, complex: no silent cast
            raise TypeError(
                f"Parameter {name!r} needs real numbers (a float array; bool or int arrays "
                f"are cast to float64), got dtype {data.dtype}"
            )
        if not np.issubdtype(data.dtype, np.floating):
            data = data.astype(np.float64)
        if (
            isinstance(replica_ndim, bool)
            or not isinstance(replica_ndim, int | np.integer)
            or not 0 <= replica_ndim <= data.ndim
        ):
            raise ValueError(f"replica_ndim={replica_ndim!r} must be an integer in 0..{data.ndim}")
        self._data = data
        self._grad = np.zeros_like(data)
        self._grad_is_zero = True
        self._grad_row: np.ndarray | None = None
        self._ones: np.ndarray | None = None  # the (1, n) row of ones accumulate_sum last used
        self.replica_ndim = replica_ndim
        self.name = name
        self.grad_mask: np.ndarray | None = None

    def __getstate__(self) -> dict:
        """For pickle and ``copy.deepcopy``: the slots, without ``_grad_row``, a view of
        ``_grad`` that a copy would detach from it (accumulate_sum would then write a bias
        gradient into the stale copy, not into ``.grad``); it is remade on first use."""
        state = {name: getattr(self, name) for name in self.__slots__ if hasattr(self, name)}
        state["_grad_row"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        for name, value in state.items():
            setattr(self, name, value)

    @property
    def data(self) -> np.ndarray:
        """The parameter's values."""
        return self._data

    @data.setter
    def data(self, value: np.ndarray) -> None:
        # Assign in place: an optimizer may have packed this array into its
        # flat buffer, and rebinding would silently detach it from training.
        value = np.asarray(value)
        if value.shape != self._data.shape:
            raise ValueError(
                f"cannot assign shape {value.shape} to parameter {self.name!r} of shape "
                f"{self._data.shape}; build a new layer instead"
            )
        self._data[...] = value

    def _rebind(self, data: np.ndarray, grad: np.ndarray) -> None:
        """Move values and gradient into given views (optimizers pack parameters this way)."""
        data[...] = self._data
        if not self._grad_is_zero:
            grad[...] = self._grad
        self._data, self._grad = data, grad
        self._grad_row = None

    def materialize_grad(self) -> None:
        """Make the stored gradient array hold its true value (zeros after zero_grad)."""
        if self._grad_is_zero:
            self._grad.fill(0.0)
            self._grad_is_zero = False

    @property
    def grad(self) -> np.ndarray:
        """The accumulated gradient, same shape as ``data``."""
        self.materialize_grad()
        return self._grad

    @grad.setter
    def grad(self, value: np.ndarray) -> None:
        self._grad[...] = value
        self._grad_is_zero = False

    @property
    def shape(self) -> tuple[int, ...]:
        """``data.shape``, replica axes included: ``(in, out)`` or ``(K, in, out)`` for a
        Linear weight."""
        return self.data.shape

    @property
    def replica_shape(self) -> tuple[int, ...]:
        """The leading replica axes, ``()`` for a single model."""
        return self.data.shape[: self.replica_ndim]

    def zero_grad(self) -> None:
        """Set the gradient to zero (lazily: no NumPy call until it is used)."""
        self._grad_is_zero = True

    def accumulate(self, value: np.ndarray) -> None:
        """``grad += value`` (``value`` broadcastable to ``grad``'s shape)."""
        try:
            if self._grad_is_zero:
                np.copyto(self._grad, value)
                self._grad_is_zero = False
            else:
                self._grad += value
        except ValueError as exc:  # only on the error path: no cost otherwise
            try:
                fits = np.broadcast_shapes(np.shape(value), self.shape) == self.shape
            except ValueError:
                fits = False
            if fits:  # not a shape problem: the error as NumPy says it
                raise
            raise ValueError(
                f"parameter {self.name or '(unnamed)'!r} has shape {self.shape}; its gradient "
                f"must have that shape too, got {np.shape(value)}"
            ) from exc

    def accumulate_matmul(self, a: np.ndarray, b: np.ndarray) -> None:
        """``grad += a @ b`` without a temporary on the first accumulation."""
        if self._grad_is_zero:
            matmul(a, b, out=self._grad)
            self._grad_is_zero = False
        else:
            self._grad += matmul(a, b)

    def accumulate_sum(self, a: np.ndarray, axis: int) -> None:
        """``grad += a.sum(axis)`` without a temporary on the first accumulation.

        The sum over the sample axis (``axis=-2``) is written as ``ones(1, n) @ a``:
        for a replica stack ``(K, n, out)`` NumPy's reduction over a middle axis
        is several times slower than this one matrix product (3.5-5.8x for 10-85
        replicas, 1.5x for one model, measured).
        """
        if axis == -2 and a.ndim >= 2:
            ones = self._ones
            if ones is None or ones.shape[1] != a.shape[-2] or ones.dtype is not a.dtype:
                ones = self._ones = _ones_row(a.shape[-2], a.dtype)
            out = self._grad_row
            if out is None:  # a view (*R, 1, out) of grad (*R, out), made once
                out = self._grad_row = self._grad[..., None, :]
            if self._grad_is_zero:
                matmul(ones, a, out=out)
                self._grad_is_zero = False
            else:
                out += matmul(ones, a)
            return
        if self._grad_is_zero:
            np.add.reduce(a, axis=axis, out=self._grad)
            self._grad_is_zero = False
        else:
            self._grad += np.add.reduce(a, axis=axis)

    def __repr__(self) -> str:
        label = f"{self.name} " if self.name else ""
        return f"Parameter({label}shape={self.data.shape}, dtype={self.data.dtype})"


def forward_first(owner: object, name: str) -> AttributeError:
    """The error for a backward pass run before any forward: ``name`` is what forward saves.

    Raised from each backward's ``except AttributeError`` (free when nothing is raised):
    a ``__getattr__`` on Module would say the same, but it stops Python from
    specialising every attribute load of every module, ~1.5 us of a 30 us lab epoch.
    """
    return AttributeError(
        f"{type(owner).__name__}.backward needs {name!r}, which forward saves: "
        "run forward (or compute the loss) before backward"
    )


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
        raise NotImplementedError

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Add dLoss/dParam into each parameter's grad; return dLoss/dInput.

        ``grad_out`` is dLoss/doutput for the last :meth:`forward`, with the output's
        shape; the result has that forward input's shape (shared data ``(n, in)`` feeding
        a stack gets the sum over replicas). Gradients accumulate: zero them between
        steps. ``need_input_grad=False`` lets the first layer skip the input gradient
        (nobody uses it during training); it may then return ``None``.
        """
        raise NotImplementedError

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
            stray = _unregistered_parameter(module, registered)
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


def _unregistered_parameter(module: Module, registered: set[int]) -> str | None:
    """The attribute name of a Parameter ``module`` holds that is not in ``registered``
    (ids), else None.

    Reads the attributes through ``gc.get_referents``, not ``vars()``: on CPython 3.11+
    ``vars(module)`` turns its attribute storage into a real dict for good, after which
    every ``self.x`` in its forward and backward is slower (1.3 us per epoch on the lab
    model: 29.5 -> 30.8 us).
    """
    for value in gc.get_referents(module):
        held = value.values() if isinstance(value, dict) else (value,)
        for v in held:
            if isinstance(v, Parameter) and id(v) not in registered:
                # found: the name for the message (vars() is harmless now, we raise)
                return next((k for k, w in vars(module).items() if w is v), "<a dict entry>")
    return None


def returned_no_array(
    who: str, got: object, shape: tuple[int, ...] | None = None, loss: bool = False
) -> TypeError:
    """The error for a backward that returned ``got``, not an array (``return`` forgotten);
    ``loss``: a loss's backward, which returns dL/dpred."""
    what = "None" if got is None else f"a {type(got).__name__}"
    hint = " (did you forget `return`?)" if got is None else ""
    of = "" if shape is None else f" {shape}"
    must = (
        f"a loss's backward must return dL/dpred, a NumPy array of pred's shape{of}"
        if loss
        else f"it must return dL/dx, a NumPy array of its input's shape{of}"
    )
    return TypeError(f"{who}.backward returned {what}{hint}: {must}")


class NoInputGradFlagError(TypeError):
    """A module's backward takes no ``need_input_grad``, where a Sequential passes it;
    ``module_name`` is the module's class name."""

    def __init__(self, message: str, module_name: str) -> None:
        super().__init__(message)
        self.module_name = module_name


def _backward_failure(
    layers: list[Module], failed: Module | None, grad: object, exc: Exception, flagged: bool
) -> Exception | None:
    """What to raise when ``failed.backward(grad)`` raised ``exc`` inside a Sequential: a
    TypeError when the layer above returned no array; else None (raise ``exc`` as it is),
    after noting on a shape error which layers and gradient it came from. An error gets
    one such word, from the innermost Sequential. ``flagged``: the layer was called as
    ``backward(grad, need_input_grad)`` (the first one backprop reaches)."""
    if getattr(exc, "_proplab_noted", False):
        return None
    # a layer is at one place only (Sequential refuses one object at two)
    at = next((i for i, layer in enumerate(layers) if layer is failed), None)
    if at is None:
        pass
    elif at + 1 < len(layers) and not isinstance(grad, np.ndarray):
        above = layers[at + 1]
        new = returned_no_array(f"layer {at + 1} ({type(above).__name__})", grad)
        new._proplab_noted = True  # type: ignore[attr-defined]
        return new
    elif grad is None:  # fit passes what the loss's backward returned
        new = TypeError(
            "Sequential.backward was given None for dL/d(output): it takes an array of the "
            "output's shape (a loss's backward that forgot `return`?)"
        )
        new._proplab_noted = True  # type: ignore[attr-defined]
        return new
    elif isinstance(exc, ValueError) and isinstance(grad, np.ndarray):
        exc.add_note(_shape_note(layers, at, grad.shape))
    elif isinstance(exc, TypeError) and flagged and not _takes_need_input_grad(failed):
        name = type(failed).__name__
        new = NoInputGradFlagError(
            f"layer {at} ({name}).backward takes no need_input_grad: write it as def "
            "backward(self, grad_out, need_input_grad=True) (fit and Sequential pass "
            "need_input_grad=False to a model's first layer, which then need not compute "
            "dL/dx)",
            name,
        )
        new._proplab_noted = True  # type: ignore[attr-defined]
        return new
    exc._proplab_noted = True  # type: ignore[attr-defined]
    return None


def is_proplabs(cls: type) -> bool:
    """True for a class of proplab's own (a module of it gradient-checked), not the user's."""
    return cls.__module__ == "proplab" or cls.__module__.startswith("proplab.")


def _shape_note(layers: list[Module], at: int, shape: tuple[int, ...]) -> str:
    """The note on a shape error in ``layers[at].backward``, given a gradient of ``shape``.

    Which layer is wrong is not known (the forward's shapes are not kept: that would
    cost every epoch), but proplab's own layers are checked: when the gradient came
    from one of them into a layer of the user's, the user's layer is at fault; when it
    came from the user's into proplab's, the user's; otherwise either may be.
    """
    where = f"in layer {at} ({type(layers[at]).__name__}).backward"
    if at + 1 == len(layers):
        return (
            f"{where}, on a gradient of shape {shape} given to the Sequential (dL/d(output) "
            "has the output's shape)"
        )
    above = layers[at + 1]
    source = f"from layer {at + 1} ({type(above).__name__}).backward"
    if is_proplabs(type(above)) and not is_proplabs(type(layers[at])):
        return (
            f"{where}, given a gradient of shape {shape} {source} (proplab's, the shape of "
            f"layer {at}'s output): the error is in layer {at}'s own backward (each parameter's "
            "gradient has that parameter's shape, a bias's summed over the samples; dL/dx "
            "has the input's)"
        )
    if is_proplabs(type(layers[at])) and not is_proplabs(type(above)):
        return (
            f"{where}, on a gradient of shape {shape} {source} (a backward returns dL/dx with "
            "its input's shape)"
        )
    return (
        f"{where}, given a gradient of shape {shape} {source}: either that backward is wrong "
        f"(a backward returns dL/dx with its input's shape) or layer {at}'s own (a "
        "parameter's gradient has the parameter's shape)"
    )


def _takes_need_input_grad(module: Module | None) -> bool:
    """Whether ``module.backward`` can be called as ``backward(grad, need_input_grad)``."""
    import inspect

    try:
        inspect.signature(module.backward).bind(None, False)  # type: ignore[union-attr]
    except TypeError:
        return False
    except ValueError:  # no signature to read (a builtin): assume it does
        return True
    return True


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


class Sequential(Module):
    """Modules applied in order; backward runs them in reverse.

    Shape: whatever the first module takes to whatever the last returns.
    """

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], list | tuple):
            layers = tuple(layers[0])
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential takes Modules, got {type(layer).__name__}")
            first = next(j for j, other in enumerate(layers) if other is layer)
            if first < i:  # its backward would use the values of its later forward
                name = type(layer).__name__
                raise ValueError(
                    f"Sequential: layer {i} is the same {name} object as layer {first}: a "
                    "module keeps its forward's values for its backward, so each place needs "
                    f"one of its own ({name}(...) again)"
                )
        self.layers: list[Module] = list(layers)

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
                grad_out = layer.backward(grad_out)
            layer = layers[first]
            # the flag only when False: a parameterless layer of the user's may not take it
            grad_in = (
                layer.backward(grad_out) if need_input_grad else layer.backward(grad_out, False)
            )
        except Exception as exc:  # a layer of the user's own went wrong: say which
            flagged = layer is layers[first] and not need_input_grad
            failure = _backward_failure(layers, layer, grad_out, exc, flagged)
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
