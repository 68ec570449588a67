"""The two duration distributions, vectorised for the forecast (float32 rows of samples).

* Triangular on (a, m, b): a three-point estimate as the planner wrote it.
* Two-sided log-logistic with median m: a single estimate. Its inverse CDF m · (u / (1 - u))^s and
  CDF 1 / (1 + (x / m)^(-1/s)) are closed-form, with s = ``lo`` below the median and ``hi`` above
  (from the P10 and P90 by :func:`ll_scales`), so a running step is cheap to condition.

The row functions run every second for every running step (issue #11): they pick between the two
sides of the triangle with :func:`select`, which copies bits, not ``np.where``, whose branch per
sample mispredicts on random samples (3-4x slower). The figures are the same bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

LOGIT_9 = math.log(9.0)  # logit(0.9): a log-logistic step's P90 sits at median x exp(s * ln 9)


def tri_ppf(u: np.ndarray, a, m, b) -> np.ndarray:
    """Inverse CDF of the triangular distribution; a = m = b allowed."""
    width = b - a
    c = np.where(width > 0, (m - a) / np.where(width > 0, width, 1), 0.5)
    left = a + np.sqrt(u * width * (m - a))
    right = b - np.sqrt((1 - u) * width * (b - m))
    return np.where(u < c, left, right)


def mask(cond: np.ndarray, itemsize: int = 4) -> np.ndarray:
    """``cond`` as integers of ``itemsize`` bytes with every bit set where it holds (for select)."""
    bits = cond.view(np.int8).astype(f"i{itemsize}")
    return np.negative(bits, out=bits)


def select(bits: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``np.where(cond, p, q)`` for arrays of one float type, bits = mask(cond): q ^ ((p ^ q) &
    bits), bit for bit the same values without a branch per element. Overwrites ``p``."""
    ints = f"i{p.itemsize}"
    pi, qi = p.view(ints), q.view(ints)
    np.bitwise_xor(pi, qi, out=pi)
    pi &= bits
    pi ^= qi
    return p


def _tri_row(u: np.ndarray, a: float, m: float, b: float) -> np.ndarray:
    """tri_ppf for one step's row, with scalar coefficients and few temporaries (the hot path at
    load and for running steps)."""
    width = b - a
    if width <= 0:
        return np.full(u.shape, a, dtype=np.float32)
    left = mask(u < np.float32((m - a) / width), u.itemsize)
    right = 1 - u
    right *= np.float32(width * (b - m))
    t = select(left, u * np.float32(width * (m - a)), right)
    np.sqrt(t, out=t)
    return select(left, np.float32(a) + t, np.subtract(np.float32(b), t, out=t))


def tri_cdf(x: np.ndarray, a: float, m: float, b: float) -> np.ndarray:
    """CDF of the triangular distribution at ``x`` (scalar a, m, b; a = m = b allowed)."""
    width = b - a
    if width <= 0:
        return (x >= b).astype(x.dtype)
    lo = np.clip(x, a, m)
    lo -= np.float32(a)
    lo *= lo
    lo *= np.float32(1 / (width * (m - a))) if m > a else np.float32(0)
    hi = np.clip(x, m, b)
    np.subtract(np.float32(b), hi, out=hi)
    hi *= hi
    hi *= np.float32(1 / (width * (b - m))) if b > m else np.float32(0)
    np.subtract(1, hi, out=hi)
    return select(mask(x <= m, lo.itemsize), lo, hi).astype(x.dtype, copy=False)


def ll_scales(m: float, p10: float, p90: float) -> tuple[float, float]:
    """The two log-scales of a log-logistic with median ``m``, P10 ``p10`` and P90 ``p90``."""
    lo = math.log(m / p10) / LOGIT_9 if 0 < p10 < m else 0.0
    hi = math.log(p90 / m) / LOGIT_9 if p90 > m > 0 else 0.0
    return lo, hi


def ll_ppf(u: np.ndarray, m: float, lo: float, hi: float) -> np.ndarray:
    """Inverse CDF of the two-sided log-logistic: m · (u / (1 - u))^s, s = lo below the median
    and hi above it (lo = hi: the ordinary log-logistic, a logistic in log space)."""
    u = np.asarray(u, dtype=np.float32)
    with np.errstate(divide="ignore"):
        z = np.log(u) - np.log1p(-u)  # logit(u); -inf at u = 0
    np.clip(z, -40, 40, out=z)
    z *= np.where(z < 0, np.float32(lo), np.float32(hi))
    np.exp(z, out=z)
    z *= np.float32(m)
    return z


def ll_cdf(x: np.ndarray, m: float, lo: float, hi: float) -> np.ndarray:
    """CDF of the two-sided log-logistic at ``x`` (a side with scale 0 is a step at m)."""
    x = np.asarray(x, dtype=np.float32)
    if m <= 0:
        return (x >= 0).astype(np.float32)
    with np.errstate(divide="ignore"):
        r = np.log(np.maximum(x, np.float32(0)) / np.float32(m))
    s = np.where(r < 0, np.float32(lo), np.float32(hi))
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        t = np.where(s > 0, r / np.where(s > 0, s, 1), np.where(r < 0, -np.inf, np.inf))
        return (1 / (1 + np.exp(-np.clip(t, -80, 80)))).astype(np.float32)
