"""The errors a module's failing forward or backward raises, and the words they say.

A backward run before its forward (:func:`forward_first`), an input that is no array
(:func:`not_an_array`), a ``grad_out`` of another shape than the forward's output
(:func:`wrong_grad_shape`), a backward that returned no array (:func:`returned_no_array`), a Parameter kept outside a module's ``params``
(:func:`unregistered_parameter`), and what a Sequential adds when a layer's backward
fails (:func:`backward_failure`: which layer, which gradient came from where).
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Any

import numpy as np

from proplab.parameter import Parameter

if TYPE_CHECKING:
    from proplab.core import Module


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


def not_an_array(owner: object, x: object, expected: str) -> TypeError:
    """The error for a forward given ``x`` that is not a NumPy array of real numbers (a
    list, text): ``expected`` is the shape it takes, e.g. ``"(n, features)"``.

    Raised from a forward's ``except`` (free when nothing is raised), as Linear does.
    """
    name = type(owner).__name__
    if isinstance(x, np.ndarray):
        return TypeError(f"{name} takes real numbers, got an array of dtype {x.dtype}")
    return TypeError(
        f"{name} takes a NumPy array {expected}, got {type(x).__name__}; pass np.asarray(...)"
    )


def grad_not_an_array(owner: object, grad_out: object) -> TypeError:
    """The error for a backward given a ``grad_out`` that is not a NumPy array."""
    return TypeError(
        f"{type(owner).__name__}.backward takes grad_out as a NumPy array (the output's "
        f"shape), got {type(grad_out).__name__}; pass np.asarray(...)"
    )


def wrong_grad_shape(
    owner: object, grad_out: Any, out_shape: tuple[int, ...], exc: Exception
) -> Exception:
    """What a backward raises when ``exc`` (NumPy's error) came of ``grad_out``: an error
    naming its shape and ``out_shape``, the forward output's, when the two differ; else
    ``exc`` itself (something else failed). Called from a backward's ``except`` only."""
    try:
        shape = np.shape(grad_out)
    except ValueError:  # a ragged list: NumPy's own error says it
        return exc
    if shape == out_shape:
        return exc
    return ValueError(
        f"{type(owner).__name__}.backward: grad_out has shape {shape}, but the forward's "
        f"output had {out_shape} (dL/doutput has the output's shape)"
    )


def reshaped_back(
    owner: object, grad_out: Any, in_shape: tuple[int, ...], out_shape: tuple[int, ...]
) -> np.ndarray:
    """``grad_out`` (the forward output's ``out_shape``) reshaped to the input's
    ``in_shape``: the backward of a layer that only reshapes (Flatten, Unsqueeze), whose
    derivative is 1. A list, or an array of another size, gets the clear error."""
    try:
        return grad_out.reshape(in_shape)
    except (AttributeError, ValueError) as exc:  # a list, or a wrong size: name it
        if not isinstance(grad_out, np.ndarray):
            raise grad_not_an_array(owner, grad_out) from None
        raise wrong_grad_shape(owner, grad_out, out_shape, exc) from None


def unregistered_parameter(module: Module, registered: set[int]) -> str | None:
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


def backward_failure(
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
