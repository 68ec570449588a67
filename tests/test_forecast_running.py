"""The running-step arithmetic is the same, to the last bit, however it is organised (issue #11).

The refresh conditions every running step on its elapsed time every second. To keep that within
its budget the forecaster picks a triangle's side by bits instead of ``np.where``, and, with its
samples in descending order of the bias factor, takes the samples before the optimistic estimate
and past the pessimistic one by shortcuts. Each test here holds one of those to the plain
arithmetic it replaces, written out as it was (``np.where``, every sample in full).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from runbook.forecast import running
from runbook.forecast.dists import _tri_row, mask, select, tri_cdf

SAMPLES = 3000


def tri_cdf_plain(x, a, m, b):
    width = b - a
    if width <= 0:
        return (x >= b).astype(x.dtype)
    lo = np.clip(x, a, m) - np.float32(a)
    lo *= lo
    lo *= np.float32(1 / (width * (m - a))) if m > a else np.float32(0)
    hi = np.float32(b) - np.clip(x, m, b)
    hi *= hi
    hi *= np.float32(1 / (width * (b - m))) if b > m else np.float32(0)
    return np.where(x <= m, lo, 1 - hi).astype(x.dtype, copy=False)


def tri_row_plain(u, a, m, b):
    width = b - a
    if width <= 0:
        return np.full(u.shape, a, dtype=np.float32)
    left = u < np.float32((m - a) / width)
    t = np.where(left, u * np.float32(width * (m - a)), (1 - u) * np.float32(width * (b - m)))
    np.sqrt(t, out=t)
    return np.where(left, np.float32(a) + t, np.float32(b) - t)


def triangular_plain(elapsed, k, k_min, u, d, tail, a, m, b):
    e = np.float32(elapsed)
    if elapsed <= a * k_min:
        return k * d - e
    fx = tri_cdf_plain(e / k, a, m, b)
    fx += u * (1 - fx)
    finish = k * tri_row_plain(fx, a, m, b)
    if elapsed > m * k_min:
        over = e - k * np.float32(m)
        np.maximum(over, 0, out=over)
        over *= tail
        over += e
        np.maximum(finish, over, out=finish)
    finish -= e
    return np.maximum(finish, 0, out=finish)


def same(got, want) -> bool:
    """Equal values (a zero's sign aside: -0 and 0 give the same figures), NaN where NaN."""
    return got.dtype == want.dtype and np.array_equal(got, want, equal_nan=True)


seconds = st.integers(1, 7200).map(float) | st.floats(0.5, 7200, allow_nan=False)


@st.composite
def estimates(draw):
    if draw(st.integers(0, 5)) == 0:  # any three, a side of zero width, a = m = b
        a, m, b = sorted(draw(st.lists(seconds, min_size=3, max_size=3)))
        return (a, draw(st.sampled_from([a, m, b])), b)
    a = draw(seconds)
    m = a + draw(seconds)
    return a, m, m + draw(seconds)


@settings(max_examples=300, deadline=None)
@given(est=estimates(), seed=st.integers(0, 2**32 - 1), dtype=st.sampled_from(["f4", "f8"]))
def test_picking_by_bits_equals_np_where(est, seed, dtype):
    rng = np.random.default_rng(seed)
    a, m, b = est
    u = rng.random(SAMPLES).astype(dtype)
    x = (a + (b - a) * rng.random(SAMPLES) * 1.2 - 0.1 * (b - a)).astype(dtype)
    assert same(_tri_row(u.copy(), a, m, b), tri_row_plain(u, a, m, b))
    assert same(tri_cdf(x.copy(), a, m, b), tri_cdf_plain(x, a, m, b))
    p, q = rng.random(SAMPLES).astype(dtype), rng.random(SAMPLES).astype(dtype)
    cond = p < q
    assert same(select(mask(cond, p.itemsize), p.copy(), q), np.where(cond, p, q))


@settings(max_examples=400, deadline=None)
@given(est=estimates(), seed=st.integers(0, 2**32 - 1), mu=st.floats(-1.5, 1.5),
       tau=st.floats(0.01, 0.6), times=st.floats(0.2, 8) | st.integers(0, 8).map(float))
def test_running_shortcuts_equal_the_full_arithmetic(est, seed, mu, tau, times):
    rng = np.random.default_rng(seed)
    a, m, b = est
    elapsed = times * m  # from not started to far past the pessimistic estimate
    z = np.sort(rng.standard_normal(SAMPLES).astype(np.float32))[::-1]
    k = np.exp(mu + tau * z).astype(np.float32)
    k_min = float(k.min())
    u = rng.random(SAMPLES, dtype=np.float32)
    kept = running.draws(u, _tri_row(u, a, m, b))
    runs = bool((k[:-1] >= k[1:]).all()) and running.exact_runs(a, m, b)
    zeros = np.zeros(SAMPLES, dtype=np.float32)
    got = running.triangular(elapsed, k, k_min, runs, kept, a, m, b, zeros)
    want = triangular_plain(elapsed, k, k_min, *kept, a, m, b)
    assert same(got, want)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**64 - 1) | st.integers(2**53 - 5, 2**53 + 5), n=st.integers(1, 3000))
def test_a_step_stream_is_that_of_a_fresh_philox_of_its_key(seed, n):
    """The forecaster resets one bit generator for each step's stream: the draws are those of
    Philox(key=(seed, crc32(step id))) made afresh, whichever step came before."""
    import zlib

    from runbook.forecast.core import Forecaster
    from tests.conftest import make_runbook

    loaded = make_runbook([{"id": "other"}, {"id": "step"}])
    f = Forecaster(loaded.plan, samples=100, seed=seed)
    f.uniforms(0, 7)  # a stream drawn before leaves nothing behind
    fresh = np.random.Generator(np.random.Philox(key=[seed, zlib.crc32(b"step")]))  # as it was
    assert np.array_equal(f.uniforms(1, n), fresh.random(n, dtype=np.float32))
