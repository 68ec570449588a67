"""A running step's remaining time per sample, conditioned on its elapsed time e: the work every
refresh does for every running step (docs/forecast.md has the model; issue #11 the budget).

With the shared bias k, a sample's step has run x = e/k of its own time: its finish is drawn from
the step's distribution beyond x, u' = F(x) + u (1 - F(x)), remaining = k F⁻¹(u') - e. A
triangular step past its likely estimate also keeps an exponential tail (TAIL_SHARE of the
overrun so far), so a step past its pessimistic estimate never "finishes now".

The forecaster keeps its samples in descending order of k (see ``Forecaster``), so x = e/k is
ascending along the samples and a triangular step's samples fall in three runs: x <= a, where
F(x) = 0 and the finish is the step's own sampled length k·d; x >= b, where F(x) = 1 and the
finish is k·b; and the samples in between, the only ones that need the distribution's
arithmetic. Those shortcuts are what the full arithmetic gives there, bit for bit (0 and 1 are exact
there, and u' becomes u or 1; in between x is its own clip and each side of the triangle is one
contiguous run); ``tests/test_forecast_running.py`` holds them to it.
"""

from __future__ import annotations

import numpy as np

from runbook.forecast.dists import _tri_row, ll_cdf, ll_ppf, tri_cdf

TAIL_SHARE = 0.5  # a triangular step past its likely estimate: remaining >= Exp(mean = TAIL_SHARE * overrun)
U_MAX = np.float32(1 - 2**-23)  # the largest float32 below 1: keeps a conditioned draw finite


def draws(u: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What a running step keeps while it runs: its uniforms, its sampled lengths, its tail
    draws TAIL_SHARE·Exp(1)."""
    return u, d, (TAIL_SHARE * -np.log1p(-u)).astype(np.float32)


def log_logistic(elapsed: float, k: np.ndarray, u: np.ndarray, m: float, lo: float,
                 hi: float, zeros: np.ndarray) -> np.ndarray:
    """A single estimate (log-logistic): no lower bound; its own tail grows with e."""
    e = np.float32(elapsed)
    fx = ll_cdf(e / k, m, lo, hi)
    t = 1 - fx
    t *= u
    fx += t
    np.minimum(fx, U_MAX, out=fx)
    finish = ll_ppf(fx, m, lo, hi)
    finish *= k
    finish -= e
    return np.maximum(finish, zeros, out=finish)


def triangular(elapsed: float, k: np.ndarray, k_min: float, runs: bool,
               kept: tuple[np.ndarray, np.ndarray, np.ndarray], a: float, m: float, b: float,
               zeros: np.ndarray) -> np.ndarray:
    """A three-point estimate: the sampled length beyond e, with a tail past the likely one.
    ``runs``: k is descending, the kept lengths were drawn with these very a, m, b, and
    :func:`exact_runs` holds for them, so the samples past either end take the shortcuts."""
    u, d, tail = kept
    e = np.float32(elapsed)
    if elapsed <= a * k_min:
        # Not past the optimistic estimate in any sample: F(e/k) = 0, the sampled length holds.
        return k * d - e
    x = e / k
    m32 = np.float32(m)
    if runs:
        finish = _in_runs(x, k, u, d, a, m, b)
    else:
        fx = tri_cdf(x, a, m, b)
        t = 1 - fx
        t *= u
        fx += t
        finish = _tri_row(fx, a, m, b)
        finish *= k
    if elapsed > m * k_min:  # past its likely estimate in some samples: keep a tail
        over = k * m32
        np.subtract(e, over, out=over)
        np.maximum(over, zeros, out=over)
        over *= tail
        over += e
        np.maximum(finish, over, out=finish)
    finish -= e
    return np.maximum(finish, zeros, out=finish)


def exact_runs(a: float, m: float, b: float) -> bool:
    """Do the shortcuts of :func:`_in_runs` give exactly what the full arithmetic gives for
    this estimate? (Not for a degenerate one, nor where a coefficient overflows float32.)"""
    a32, m32, b32 = np.float32(a), np.float32(m), np.float32(b)
    width = b - a
    if not (width > 0 and m > a and b > m and a32 < m32 < b32):
        return False
    with np.errstate(over="ignore"):
        coefficients = np.array([1 / (width * (m - a)), 1 / (width * (b - m)), width * (m - a),
                                 width * (b - m), (m - a) / width], dtype=np.float32)
    return bool(np.isfinite(coefficients).all())


def _in_runs(x: np.ndarray, k: np.ndarray, u: np.ndarray, d: np.ndarray, a: float, m: float,
             b: float) -> np.ndarray:
    """k · F⁻¹(F(x) + u (1 - F(x))) for x ascending, by runs of samples:

    * x <= a: F(x) = 0, u' = u, F⁻¹(u) = d (the step's own draw): k·d;
    * a < x <= m: F(x) = (x - a)²/(w (m - a)) (x is its own clip), then the inverse in full;
    * m < x < b: F(x) = 1 - (b - x)²/(w (b - m)); u' >= F(x), on the right side of the triangle
      (checked: where a rounding puts one below the mode's share, the inverse runs in full);
    * x >= b: F(x) = 1, u' = 1, F⁻¹(1) = b: k·b.
    """
    a32, m32, b32 = np.float32(a), np.float32(m), np.float32(b)
    width = b - a
    low = int(x.searchsorted(a32, side="right"))
    mode = int(x.searchsorted(m32, side="right"))
    high = int(x.searchsorted(b32, side="left"))
    finish = np.empty_like(x)
    np.multiply(k[:low], d[:low], out=finish[:low])
    np.multiply(k[high:], b32, out=finish[high:])
    if mode > low:  # left of the mode: the same expressions as tri_cdf's left side
        fx = x[low:mode] - a32
        fx *= fx
        fx *= np.float32(1 / (width * (m - a)))
        _beyond(fx, u[low:mode])
        left = _tri_row(fx, a, m, b)
        np.multiply(left, k[low:mode], out=finish[low:mode])
    if high > mode:  # right of it: tri_cdf's right side
        hi = np.subtract(b32, x[mode:high])
        hi *= hi
        hi *= np.float32(1 / (width * (b - m)))
        fx = np.subtract(1, hi, out=hi)
        _beyond(fx, u[mode:high])
        if fx.min() >= np.float32((m - a) / width):  # _tri_row's right side, alone
            t = np.subtract(1, fx, out=fx)
            t *= np.float32(width * (b - m))
            np.sqrt(t, out=t)
            right = np.subtract(b32, t, out=t)
        else:
            right = _tri_row(fx, a, m, b)
        np.multiply(right, k[mode:high], out=finish[mode:high])
    return finish


def _beyond(fx: np.ndarray, u: np.ndarray) -> None:
    """fx += u (1 - fx): a draw from beyond F(x)."""
    t = 1 - fx
    t *= u
    fx += t
