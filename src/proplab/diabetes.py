"""The diabetes data: 442 patients, 10 measurements, a disease-progression value to predict.

The data ships *inside* scikit-learn (``sklearn/datasets/data/diabetes_*.csv.gz``),
so loading it needs no download, only the optional dependency:
``pip install 'proplab[datasets]'`` (as for digits). It is a regression, and a
humbling one: a straight line explains about half of the variance, and a
network does not do much better (README's "Beyond the lab").

Scaling, fixed and stated (as digits divides its pixels by 16): the features
are scikit-learn's own (each column centred and scaled to unit norm over the
442 rows) times ``sqrt(442)``, so each has mean 0 and standard deviation 1;
the target (a progression score, 25-346) is centred and divided by its
standard deviation over the 442 rows, so an R² is the same as on the raw
score and a loss of 1 is "no better than the mean". Both use the whole set's
statistics, as scikit-learn's scaling of the features already does.
"""

from __future__ import annotations

import numpy as np

from proplab.digits import MissingDependencyError

N_SAMPLES = 442

MISSING_MESSAGE = (
    "the diabetes dataset comes with scikit-learn, which is not installed; "
    "install it with: pip install 'proplab[datasets]'"
)


def load_diabetes() -> tuple[np.ndarray, np.ndarray]:
    """All 442 rows: ``x (442, 10)`` and ``y (442, 1)`` float64, each column standardised.

    Raises :class:`~proplab.digits.MissingDependencyError` (an ImportError) naming
    ``pip install 'proplab[datasets]'`` when scikit-learn is not installed.
    """
    try:
        from sklearn.datasets import load_diabetes as sk_load_diabetes
    except ImportError:
        raise MissingDependencyError(MISSING_MESSAGE) from None
    bunch = sk_load_diabetes()
    x = np.asarray(bunch.data, dtype=np.float64) * np.sqrt(N_SAMPLES)
    target = np.asarray(bunch.target, dtype=np.float64)
    y = ((target - target.mean()) / target.std()).reshape(-1, 1)
    return x, y
