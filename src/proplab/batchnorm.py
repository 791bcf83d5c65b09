"""BatchNorm1d (Ioffe & Szegedy 2015) with PyTorch's semantics, and its naive twin.

For a batch ``x`` of ``n`` samples ``(n, F)``, in training mode, feature by feature:

    mu = mean_i x_i                       (the batch mean)
    var = mean_i (x_i - mu)^2             (the *biased* batch variance)
    xhat = (x - mu) / sqrt(var + eps)
    y = gamma * xhat + beta               (gamma = weight, beta = bias: learnable)

and the running statistics move toward the batch's, as ``torch.nn.BatchNorm1d``:
``running_mean = (1 - momentum) running_mean + momentum mu`` and
``running_var = (1 - momentum) running_var + momentum var * n / (n - 1)`` (the
*unbiased* variance). In evaluation mode (``model.eval()``) ``mu`` and ``var`` are
the running statistics instead, so a prediction no longer depends on the other
samples of its batch.

Two implementations of that one computation live here:

* :class:`BatchNorm1d` backpropagates in closed form, ``dx = (1/n) inv_std (n dxhat -
  sum(dxhat) - xhat sum(dxhat xhat))``: every sample's gradient also flows through
  the batch mean and variance, which those two sums carry.
* :func:`batchnorm_naive_forward` / :func:`batchnorm_naive_backward` (and the module
  :class:`BatchNorm1dNaive`) are the readable version: the forward as a chain of
  small steps, with the sums as loops over samples, and the backward through each step
  in reverse (through the mean and the variance one node at a time), as the graph
  is drawn in CS231n's notes. Slow; they exist to be read and to check the fast one.

Shapes carry optional leading replica axes ``R``: a stack normalises each replica
over its own samples (``axis=-2``) and keeps per-replica running statistics
``(*R, F)``; weight and bias are ``(*R, F)`` as a Linear's bias is.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from proplab import init as initializers
from proplab.checks import check_int, short_repr
from proplab.core import Module
from proplab.module_errors import forward_first
from proplab.parameter import Parameter

# ----------------------------------------------------------------------------
# The readable version: one model's (n, F) batch, step by step.
# ----------------------------------------------------------------------------


def batchnorm_naive_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Training-mode forward by the definition: ``(out (n, F), cache)``.

    x ``(n, F)``, gamma and beta ``(F,)``. ``cache`` holds every intermediate step
    (and ``var_unbiased``, what the running variance takes).
    """
    n = x.shape[0]
    total = np.zeros(x.shape[1:], dtype=x.dtype)
    for i in range(n):  # the batch mean, sample by sample
        total = total + x[i]
    mu = total / n
    xc = x - mu  # centred
    sq = xc**2
    total = np.zeros(x.shape[1:], dtype=x.dtype)
    for i in range(n):
        total = total + sq[i]
    var = total / n  # biased: the normalisation PyTorch (and the paper) use in training
    std = np.sqrt(var + eps)
    inv_std = 1.0 / std
    xhat = xc * inv_std
    out = gamma * xhat + beta
    cache = {"xc": xc, "var": var, "std": std, "inv_std": inv_std, "xhat": xhat, "gamma": gamma}
    cache["mu"], cache["var_unbiased"] = mu, total / (n - 1)
    return out, cache


def batchnorm_naive_backward(
    grad_out: np.ndarray, cache: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dx, dgamma, dbeta)`` through each step of :func:`batchnorm_naive_forward`, in
    reverse: every node passes dL/d(its output) times its local derivative to its inputs,
    and a node used twice (xc) adds the gradients of both uses."""
    xc, std, inv_std, xhat, gamma = (cache[k] for k in ("xc", "std", "inv_std", "xhat", "gamma"))
    n = grad_out.shape[0]
    dbeta = np.zeros(grad_out.shape[1:], dtype=grad_out.dtype)
    dgamma = np.zeros_like(dbeta)
    for i in range(n):  # out = gamma * xhat + beta: every sample used the same gamma, beta
        dbeta = dbeta + grad_out[i]
        dgamma = dgamma + grad_out[i] * xhat[i]
    dxhat = grad_out * gamma
    # xhat = xc * inv_std: to xc (first use) and to inv_std (summed over the samples it scaled)
    dxc = dxhat * inv_std
    dinv_std = np.zeros_like(dbeta)
    for i in range(n):
        dinv_std = dinv_std + dxhat[i] * xc[i]
    dstd = -dinv_std / std**2  # inv_std = 1 / std
    dvar = dstd / (2.0 * std)  # std = sqrt(var + eps)
    dsq = np.ones_like(xc) * dvar / n  # var = (1/n) sum_i sq_i
    dxc = dxc + 2.0 * xc * dsq  # sq = xc^2: the second use of xc
    dmu = np.zeros_like(dbeta)
    for i in range(n):  # xc = x - mu: mu was subtracted from every sample
        dmu = dmu - dxc[i]
    dx = dxc + dmu / n  # mu = (1/n) sum_i x_i: each sample gets 1/n of dL/dmu
    return dx, dgamma, dbeta


# ----------------------------------------------------------------------------
# The module.
# ----------------------------------------------------------------------------


class BatchNorm1d(Module):
    """Normalise each feature over the batch, then scale and shift it (learnably).

    Args:
        num_features: ``F``, the size of the last axis (the Linear layer's ``out``).
        eps: added to the variance before the square root (PyTorch's 1e-5).
        momentum: how far each training batch moves the running statistics, in
            [0, 1] (PyTorch's 0.1; its ``None``, a cumulative average, is not offered).
        replicas: leading replica shape, e.g. ``(K,)`` for a stack of K models.
        dtype: the parameters' and running statistics' dtype (default float64).

    Shape:
        x ``(*R, n, F)`` or shared ``(n, F)`` -> ``(*R, n, F)``; ``weight`` (gamma,
        ones at first) and ``bias`` (beta, zeros) are Parameters ``(*R, F)``;
        ``running_mean`` (zeros) and ``running_var`` (ones) are buffers ``(*R, F)``,
        saved with the model and put back by ``load_state_dict``, not trained.

    Training mode needs at least 2 samples per batch (one has no variance; PyTorch
    refuses it too). Every sample's output depends on the whole batch, so in training
    mode a module check (``proplab.gradcheck``) sees samples coupled: perturbing one
    sample's input moves every sample's output.

    Example:
        >>> bn = BatchNorm1d(2)
        >>> bn(np.array([[1.0, 10.0], [3.0, 30.0]]))  # mean 2 and 20, variance 1 and 100
        array([[-0.999995  , -0.99999995],
               [ 0.999995  ,  0.99999995]])
        >>> bn.running_mean, bn.running_var  # 0.9 * (0, 1) + 0.1 * (mean, unbiased var)
        (array([0.2, 2. ]), array([ 1.1, 20.9]))
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        *,
        replicas: tuple[int, ...] | int = (),
        dtype: type = np.float64,
    ) -> None:
        super().__init__()
        self.num_features = check_int(num_features, "BatchNorm1d num_features")
        if not _real(eps) or not (math.isfinite(eps) and eps > 0):
            raise ValueError(f"BatchNorm1d: eps must be a finite number > 0, got {short_repr(eps)}")
        if momentum is None or not _real(momentum) or not 0.0 <= momentum <= 1.0:
            raise ValueError(
                "BatchNorm1d: momentum must be a number in [0, 1] (the share of each batch's "
                "statistics in the running ones; PyTorch's None, a cumulative average, is not "
                f"offered), got {short_repr(momentum)}"
            )
        self.eps, self.momentum = float(eps), float(momentum)
        self.replicas = initializers.replica_shape(replicas, "BatchNorm1d")
        shape = self.replicas + (self.num_features,)
        r = len(self.replicas)
        self.weight = Parameter(np.ones(shape, dtype), r, "weight")
        self.bias = Parameter(np.zeros(shape, dtype), r, "bias")
        self.params = {"weight": self.weight, "bias": self.bias}
        self.running_mean: np.ndarray = np.zeros(shape, dtype)
        self.running_var: np.ndarray = np.ones(shape, dtype)
        self.buffers = {"running_mean": self.running_mean, "running_var": self.running_var}

    def _check_input(self, x: object) -> np.ndarray:
        """``x`` if it is an array this layer takes (in the promoted dtype of ``x`` and the
        parameters), else a clear error."""
        if not isinstance(x, np.ndarray):
            raise TypeError(
                f"BatchNorm1d takes a NumPy array (n, {self.num_features}), got "
                f"{type(x).__name__}; pass np.asarray(...)"
            )
        expected = f"(*R, n, {self.num_features})" if self.replicas else f"(n, {self.num_features})"
        if x.ndim < 2 or x.shape[-1] != self.num_features:
            raise ValueError(
                f"BatchNorm1d({self.num_features}) expects inputs {expected}, got shape {x.shape}"
            )
        # the parameters' dtype (read from a buffer: a plain attribute, where .data is a
        # property): x of that dtype, the usual case, passes with this one comparison
        dtype = self.running_mean.dtype
        if x.dtype is not dtype:
            if x.dtype.kind not in "biuf":
                raise TypeError(f"BatchNorm1d takes real numbers, got an array of dtype {x.dtype}")
            # float32 x, float64 parameters: the statistics in float64 too, cast once here
            # (Linear's matmul promotes the same way); they were summed in float32
            promoted = np.promote_types(x.dtype, dtype)
            if x.dtype != promoted:
                x = x.astype(promoted)
        lead = x.shape[:-2]
        if lead and lead != self.replicas:
            hint = (
                f"; for a stack of {lead} models build it with replicas={lead}"
                if not self.replicas
                else ""
            )
            raise ValueError(
                f"BatchNorm1d: input replica axes {lead} (shape {x.shape}) do not match the "
                f"layer's replicas {self.replicas}{hint}"
            )
        if self.training and x.shape[-2] < 2:
            raise ValueError(
                f"BatchNorm1d in training mode needs at least 2 samples per batch to measure a "
                f"variance, got {x.shape[-2]} (shape {x.shape}); predict single samples in "
                "eval mode (model.eval(), or proplab.eval_mode(model)), and choose a batch "
                "size that leaves no batch of one sample"
            )
        return x

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``gamma * (x - mu) / sqrt(var + eps) + beta``: ``(*R, n, F)`` or shared ``(n, F)``
        -> ``(*R, n, F)``. Training mode: the batch's statistics (and the running ones
        updated); eval mode: the running statistics. Keeps ``xhat`` and ``1 / sqrt(var +
        eps)`` for :meth:`backward`."""
        x = self._check_input(x)
        if self.training:
            n = x.shape[-2]
            # (*R, 1, F): one mean per replica and feature. add.reduce and / n is np.mean's
            # own arithmetic (the same bits) without its ~2 us of Python per call
            mean = np.add.reduce(x, axis=-2, keepdims=True) / n
            xc = x - mean
            var = np.add.reduce(xc * xc, axis=-2, keepdims=True) / n  # biased, as PyTorch's
            inv_std = 1.0 / np.sqrt(var + self.eps)
            xhat = xc * inv_std
            # the running statistics, in place (the buffers are these very arrays); the
            # variance unbiased, n / (n - 1), as torch.nn.BatchNorm1d keeps it
            m = self.momentum
            self.running_mean *= 1.0 - m
            self.running_mean += m * mean[..., 0, :]
            self.running_var *= 1.0 - m
            self.running_var += (m * n / (n - 1)) * var[..., 0, :]
        else:
            inv_std = (1.0 / np.sqrt(self.running_var + self.eps))[..., None, :]
            xhat = (x - self.running_mean[..., None, :]) * inv_std
        self.xhat, self.inv_std = xhat, inv_std
        self.used_batch_stats, self.in_ndim = self.training, x.ndim  # which backward; shared x?
        return xhat * self.weight.data[..., None, :] + self.bias.data[..., None, :]

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Chain rule for y = gamma xhat + beta, with ``grad_out`` = dL/dy ``(*R, n, F)``.

        Adds dL/dgamma = sum over samples of ``grad_out * xhat`` and dL/dbeta = sum of
        ``grad_out`` (each ``(*R, F)``) into the parameters' grads. Returns dL/dx with
        ``x``'s shape (summed over replicas for shared ``x``), or None when
        ``need_input_grad`` is False. After a training-mode forward, dL/dx also carries
        each sample's effect through the batch mean and variance (the closed form in the
        module docstring); after an eval-mode one it is ``gamma * grad_out / sqrt(var + eps)``.
        """
        try:
            xhat, inv_std = self.xhat, self.inv_std
        except AttributeError:
            raise forward_first(self, "xhat") from None
        # every sample used the same gamma and beta: their gradients sum over the samples
        dgamma = np.add.reduce(grad_out * xhat, axis=-2)  # (*R, F)
        dbeta = np.add.reduce(grad_out, axis=-2)
        self.weight.accumulate(dgamma)
        self.bias.accumulate(dbeta)
        if not need_input_grad:
            return None
        scale = self.weight.data[..., None, :] * inv_std  # gamma / sqrt(var + eps)
        if self.used_batch_stats:
            # xhat_i = (x_i - mu) inv_std, and mu, var depend on every x_j:
            # dL/dx_i = inv_std / n * (n dxhat_i - sum_j dxhat_j - xhat_i sum_j dxhat_j xhat_j)
            # with dxhat = gamma g, the two sums are gamma dbeta and gamma dgamma, just computed:
            # dL/dx_i = gamma inv_std / n * (n g_i - dbeta - xhat_i dgamma)
            n = grad_out.shape[-2]
            grad_in = n * grad_out
            grad_in -= dbeta[..., None, :]
            grad_in -= xhat * dgamma[..., None, :]
            grad_in *= scale / n
        else:  # fixed statistics: an affine map per feature
            grad_in = grad_out * scale
        if grad_in.ndim > self.in_ndim:  # shared data fed every replica: their gradients add
            grad_in = grad_in.sum(axis=tuple(range(grad_in.ndim - self.in_ndim)))
        return grad_in

    def extra_repr(self) -> str:
        parts = [str(self.num_features)]
        if self.eps != 1e-5:
            parts.append(f"eps={self.eps:g}")
        if self.momentum != 0.1:
            parts.append(f"momentum={self.momentum:g}")
        if self.replicas:
            parts.append(f"replicas={self.replicas}")
        return ", ".join(parts)


class BatchNorm1dNaive(BatchNorm1d):
    """:class:`BatchNorm1d` computed by :func:`batchnorm_naive_forward` and
    :func:`batchnorm_naive_backward`, replica by replica.

    Same constructor, parameters, buffers, shapes and errors as BatchNorm1d; only the
    arithmetic is the slow, obviously-correct one. Tests use it as the twin.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        """As :meth:`BatchNorm1d.forward`, step by step per replica."""
        x = self._check_input(x)
        gamma, beta = self.weight.data, self.bias.data
        out = np.zeros(self.replicas + x.shape[-2:], dtype=np.result_type(x, gamma))
        self.caches: dict[tuple[int, ...], dict[str, np.ndarray]] = {}
        m = self.momentum
        for r in np.ndindex(self.replicas):
            xr = x[r] if x.ndim > 2 else x
            if self.training:
                out[r], cache = batchnorm_naive_forward(xr, gamma[r], beta[r], self.eps)
                self.caches[r] = cache
                self.running_mean[r] = (1 - m) * self.running_mean[r] + m * cache["mu"]
                self.running_var[r] = (1 - m) * self.running_var[r] + m * cache["var_unbiased"]
            else:
                std = np.sqrt(self.running_var[r] + self.eps)
                xhat = (xr - self.running_mean[r]) / std
                out[r] = gamma[r] * xhat + beta[r]
                self.caches[r] = {"xhat": xhat, "std": std}
        self.used_batch_stats, self.x = self.training, x
        return out

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """As :meth:`BatchNorm1d.backward`, through each step per replica."""
        try:
            x, caches = self.x, self.caches
        except AttributeError:
            raise forward_first(self, "caches") from None
        gamma = self.weight.data
        dgamma, dbeta = np.zeros_like(gamma), np.zeros_like(gamma)
        dx = np.zeros(x.shape, dtype=np.result_type(x, grad_out))
        for r in np.ndindex(self.replicas):
            cache, g = caches[r], grad_out[r]
            if self.used_batch_stats:
                dxr, dgamma[r], dbeta[r] = batchnorm_naive_backward(g, cache)
            else:  # y = gamma (x - running_mean) / std + beta, the statistics fixed
                dxr = g * gamma[r] / cache["std"]
                dgamma[r], dbeta[r] = (g * cache["xhat"]).sum(axis=-2), g.sum(axis=-2)
            if x.ndim > 2:
                dx[r] = dxr
            else:
                dx += dxr  # shared input: sum over replicas
        self.weight.accumulate(dgamma)
        self.bias.accumulate(dbeta)
        return dx if need_input_grad else None


def _real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)
