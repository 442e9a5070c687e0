"""Weight initializers, drawn on the host.

Random numbers come from a seeded :class:`numpy.random.Generator` in float64,
are cast to the working dtype and only then moved to the device: one seed
gives the same starting weights on NumPy, CuPy, PyTorch or any other backend.
Biases always start at zero.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["INITIALIZERS", "check_random_state", "init_weights"]


def check_random_state(random_state) -> np.random.Generator:
    """A :class:`numpy.random.Generator` from ``None``, an int seed or a Generator.

    A legacy :class:`numpy.random.RandomState` is used as it is (its
    ``standard_normal`` draws are the course's ``np.random.randn`` after
    ``np.random.seed``), so the course's initial weights can be reproduced.

    Examples
    --------
    >>> int(check_random_state(0).integers(10))
    8
    """
    if random_state is None or isinstance(random_state, np.random.Generator):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.RandomState):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative integer, got {random_state}")
        return np.random.default_rng(int(random_state))
    raise TypeError(
        f"random_state must be None, a non-negative int, a numpy.random.Generator or RandomState, "
        f"got {type(random_state).__name__}"
    )


def _zeros(rng, fan_in, fan_out, scale):
    return np.zeros((fan_in, fan_out))


def _normal(rng, fan_in, fan_out, scale):
    # The course's ``np.random.randn(n_h, n_x) * 0.01``, in our (in, out) layout.
    return rng.standard_normal((fan_in, fan_out)) * scale


def _xavier(rng, fan_in, fan_out, scale):
    # Glorot & Bengio (2010), normal variant: variance 2 / (fan_in + fan_out).
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / (fan_in + fan_out))


def _lecun(rng, fan_in, fan_out, scale):
    # The course's deep initializer, ``np.random.randn(n_l, n_(l-1)) / np.sqrt(n_(l-1))``: drawn in
    # the course's (out, in) shape and transposed, so the same generator gives the course's weights.
    return rng.standard_normal((fan_out, fan_in)).T / np.sqrt(fan_in)


def _he(rng, fan_in, fan_out, scale):
    # He et al. (2015), for relu layers: variance 2 / fan_in.
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)


#: Initializers by name; ``"glorot"`` is an alias of ``"xavier"``. ``"lecun"`` (variance 1 / fan_in)
#: is the course's deep-network initializer; ``"he"`` (variance 2 / fan_in) suits relu layers best.
INITIALIZERS = {"zeros": _zeros, "normal": _normal, "xavier": _xavier, "glorot": _xavier, "he": _he, "lecun": _lecun}


def init_weights(name: str, fan_in: int, fan_out: int, rng: np.random.Generator, *, scale: float = 0.01):
    """A float64 host matrix of shape ``(fan_in, fan_out)`` drawn by initializer ``name``.

    ``scale`` is used by ``"normal"`` only (standard deviation).

    Examples
    --------
    >>> init_weights("zeros", 2, 1, check_random_state(0)).shape
    (2, 1)
    """
    try:
        draw = INITIALIZERS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown init {name!r}; valid names: {', '.join(INITIALIZERS)}") from None
    return draw(rng, fan_in, fan_out, scale)
