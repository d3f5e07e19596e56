"""The sort-based median and quantile give numpy's numbers, bit for bit."""
import numpy as np
import pytest

from ecgad.data import order_stats


@pytest.mark.parametrize("shape,axis", [((257,), -1), ((256,), 0), ((7, 256), 1), ((256, 7), 0),
                                        ((3, 140, 128), -1), ((5, 2), 1), ((1,), 0), ((4, 1), 1)])
def test_median_equals_numpy(shape, axis):
    rng = np.random.default_rng(sum(shape))
    for a in (rng.normal(size=shape), rng.integers(0, 5, size=shape).astype(float),
              rng.normal(size=shape).astype(np.float32)):
        got, want = order_stats.median(a, axis), np.median(a, axis=axis)
        assert got.dtype == want.dtype
        assert np.array_equal(got, want)


def test_median_of_a_slice_with_nan_is_nan():
    a = np.arange(12.0).reshape(3, 4)
    a[1, 2] = np.nan
    assert np.array_equal(order_stats.median(a, 1), np.median(a, axis=1), equal_nan=True)
    assert np.isnan(order_stats.median(a[1])) and order_stats.median(a[0]) == 1.5


@pytest.mark.parametrize("q", [0.5, 0.01, 0.99, 0.0, 1.0, 0.8, [0.01, 0.99], [0.05, 0.5, 0.95]])
@pytest.mark.parametrize("n", [1, 2, 3, 128, 255, 256, 1800])
def test_quantile_equals_numpy(q, n):
    rng = np.random.default_rng(n)
    for a in (rng.normal(size=(6, n)), rng.integers(0, 3, size=(6, n)).astype(float), rng.exponential(size=(6, n))):
        got, want = order_stats.quantile(a, q, axis=1), np.quantile(a, q, axis=1)
        assert got.shape == want.shape and got.dtype == want.dtype
        assert np.array_equal(got, want)
        assert np.array_equal(order_stats.quantile(a[0], q), np.quantile(a[0], q))


def test_empty_is_refused():
    with pytest.raises(ValueError, match="empty slice"):
        order_stats.median(np.zeros(0))
    with pytest.raises(ValueError, match="empty slice"):
        order_stats.quantile(np.zeros(0), 0.5)


def test_kept_values_only_as_numpy_on_the_subset():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(5, 40, 9))
    keep = rng.random((5, 40, 1)) < 0.5
    keep[0] = True
    got_m, got_q = order_stats.median(a, 1, keep), order_stats.quantile(a, 0.5, 1, keep)
    for b in range(5):
        rows = a[b][keep[b, :, 0]]
        assert np.array_equal(got_m[b], np.median(rows, axis=0))
        assert np.array_equal(got_q[b], np.quantile(rows, 0.5, axis=0))
    none = np.zeros((2, 4), bool)
    assert np.isnan(order_stats.median(np.ones((2, 4)), 1, none)).all()
    assert np.isnan(order_stats.quantile(np.ones((2, 4)), 0.5, 1, none)).all()
