"""Barriers, warp ops (against a NumPy model of PTX shfl.sync) and atomics."""
import numpy as np
import pytest

SEEDS = [0, 1, 2, 3, 4, 5, 6, 7]


@pytest.mark.parametrize("seed", SEEDS)
def test_tree_reduction_with_barrier_is_right_for_every_seed(load, monkeypatch, seed):
    monkeypatch.setenv("GPUFLOW_SIM_SEED", str(seed))
    x = np.random.default_rng(seed).integers(-100, 100, 8 * 256).astype(np.int32)
    out = np.zeros(8, np.int32)
    load("reduce.cu").get_function("block_sum")(8, 256, (x, out))
    np.testing.assert_array_equal(out, x.reshape(8, 256).sum(1))


def test_missing_barrier_is_caught_by_some_seed(load, monkeypatch):
    """Planted bug 1: the tree reduction without its inner __syncthreads()."""
    x = np.random.default_rng(1).integers(-100, 100, 4 * 128).astype(np.int32)
    wrong = 0
    for seed in SEEDS:
        monkeypatch.setenv("GPUFLOW_SIM_SEED", str(seed))
        out = np.zeros(4, np.int32)
        load("reduce.cu").get_function("block_sum_missing_barrier")(4, 128, (x, out))
        wrong += not np.array_equal(out, x.reshape(4, 128).sum(1))
    assert wrong > 0


def test_barrier_votes(load):
    pred = (np.arange(96) % 3 == 0).astype(np.int32)
    out = np.zeros(3, np.int32)
    f = load("reduce.cu").get_function("barrier_votes")
    f(1, 96, (pred, out))
    assert list(out) == [32, 0, 1]
    f(1, 96, (np.ones(96, np.int32), out))
    assert list(out) == [96, 1, 1]
    f(1, 96, (np.zeros(96, np.int32), out))
    assert list(out) == [0, 0, 0]


@pytest.mark.parametrize("block", [(32, 4), (16, 6)])
def test_warp_shuffle_block_reduction(load, block):
    n = block[0] * block[1]
    x = np.random.default_rng(3).integers(-8, 8, 5 * n).astype(np.float32)
    out = np.zeros(5, np.float32)
    load("reduce.cu").get_function("warp_block_sum")(5, block, (x, out), shared_mem=4 * ((n + 31) // 32))
    np.testing.assert_array_equal(out, x.reshape(5, n).sum(1))


# ---- warp ops vs a NumPy model of PTX shfl.sync
SHFL, UP, DOWN, XOR, BALLOT, ANY, ALL, SYNCWARP, MATCH_ANY = range(9)


def model_shfl(op, vals, args, width):
    out = vals.copy()
    for lane in range(32):
        seg = (32 - width) & 31
        min_lane = lane & seg
        max_lane = min_lane | (31 & ~seg)
        b = int(args[lane])
        if op == SHFL:
            j = min_lane | (b & 31 & ~seg); ok = j <= max_lane
        elif op == UP:
            j = lane - b; ok = j >= min_lane
        elif op == DOWN:
            j = lane + b; ok = j <= max_lane
        else:
            j = lane ^ (b & 31); ok = j <= max_lane
        out[lane] = vals[j] if ok else vals[lane]
    return out


def run_warp(load, op, vals, args, mask, width, nthreads=32):
    out = np.zeros(nthreads, np.int32)
    load("warp.cu").get_function("warp_ops")(1, nthreads, (vals, args, out, np.int32(op), np.uint32(mask),
                                                            np.int32(width)))
    return out


@pytest.mark.parametrize("width", [32, 16, 8, 4, 2, 1])
@pytest.mark.parametrize("op", [SHFL, UP, DOWN, XOR])
def test_shuffles_full_mask(load, op, width):
    rng = np.random.default_rng(op * 100 + width)
    vals = rng.integers(0, 1000, 32).astype(np.int32)
    args = rng.integers(0, 32, 32).astype(np.int32) if op == SHFL else np.full(32, rng.integers(1, 8), np.int32)
    if op == XOR:
        args[:] = rng.integers(1, 32)
    got = run_warp(load, op, vals, args, 0xFFFFFFFF, width)
    np.testing.assert_array_equal(got, model_shfl(op, vals, args, width))


@pytest.mark.parametrize("mask,width", [(0x0000FFFF, 16), (0xFFFF0000, 16), (0x00FF00FF, 8)])
@pytest.mark.parametrize("op", [SHFL, UP, DOWN, XOR])
def test_shuffles_partial_mask(load, op, mask, width):
    rng = np.random.default_rng(7)
    vals = rng.integers(0, 1000, 32).astype(np.int32)
    args = rng.integers(0, width, 32).astype(np.int32) if op in (SHFL, XOR) else np.full(32, 3, np.int32)
    if op == XOR:
        args[:] = 5 % width
    got = run_warp(load, op, vals, args, mask, width)
    lanes = [l for l in range(32) if mask >> l & 1]
    np.testing.assert_array_equal(got[lanes], model_shfl(op, vals, args, width)[lanes])
    assert (got[[l for l in range(32) if not mask >> l & 1]] == -1).all()


@pytest.mark.parametrize("mask", [0xFFFFFFFF, 0x0F0F0F0F, 0x00000001])
def test_votes(load, mask):
    rng = np.random.default_rng(mask & 0xFF)
    for trial in range(3):
        vals = rng.integers(0, 2, 32).astype(np.int32) if trial else np.ones(32, np.int32)
        lanes = [l for l in range(32) if mask >> l & 1]
        ballot = sum(1 << l for l in lanes if vals[l] & 1)
        z = np.zeros(32, np.int32)
        assert (run_warp(load, BALLOT, vals, z, mask, 32)[lanes].view(np.uint32) == ballot).all()
        assert (run_warp(load, ANY, vals, z, mask, 32)[lanes] == int(ballot != 0)).all()
        assert (run_warp(load, ALL, vals, z, mask, 32)[lanes] == int(ballot == mask)).all()


def test_syncwarp_activemask_and_match(load):
    vals = (np.arange(64) % 3).astype(np.int32)
    z = np.zeros(64, np.int32)
    got = run_warp(load, SYNCWARP, vals, z, 0xFFFFFFFF, 32, nthreads=48)  # partial second warp
    assert (got[:32].view(np.uint32) == 0xFFFFFFFF).all() and (got[32:48] == 0xFFFF).all()
    got = run_warp(load, MATCH_ANY, vals[:32], z[:32], 0xFFFFFFFF, 32)
    for lane in range(32):
        assert got.view(np.uint32)[lane] == sum(1 << l for l in range(32) if vals[l] == vals[lane])


def test_shuffle_of_wide_and_narrow_types(load):
    d = np.arange(32, dtype=np.float64) + 0.5
    h = np.arange(32, dtype=np.float16)
    od, oh = np.zeros_like(d), np.zeros_like(h)
    load("warp.cu").get_function("shfl_types")(1, 32, (d, h, od, oh))
    np.testing.assert_array_equal(od, d[np.arange(32) ^ 1])
    np.testing.assert_array_equal(oh, h[::-1])


def test_atomics(load):
    m = load("atomics.cu")
    x = np.random.default_rng(0).integers(-50, 50, 5000).astype(np.float32)
    total = np.zeros(1, np.float32)
    m.get_function("atomic_sum")(8, 128, (x, total, np.int32(x.size)))
    assert total[0] == x.sum()
    xi = np.random.default_rng(1).integers(-10**6, 10**6, 5000).astype(np.int32)
    mx = np.array([-2**31], np.int32)
    m.get_function("atomic_max")(8, 128, (xi, mx, np.int32(xi.size)))
    assert mx[0] == xi.max()
    xd = np.random.default_rng(2).random(3000)
    td = np.zeros(1)
    m.get_function("cas_sum")(4, 64, (xd, td, np.int32(xd.size)))
    assert td[0] == pytest.approx(xd.sum(), rel=1e-12)
    c = np.array([100, 0, 0], np.int32)
    u = np.array([0xFFFFFFFF, 0, 0, 0, 0], np.uint32)
    ull = np.zeros(1, np.uint64)
    m.get_function("atomic_misc")(1, 64, (c, u, ull))
    assert list(c) == [36, -63, 7]
    assert list(u) == [0, 0xFFFFFFFF, 0, 64 % 10, (0 - 64) % 10]
    assert ull[0] == 64 << 33


def test_spin_lock_makes_progress(load):
    lock, counter, log = np.zeros(1, np.int32), np.zeros(1, np.int32), np.zeros(64, np.int32)
    load("atomics.cu").get_function("spin_lock")(1, 64, (lock, counter, log))
    assert counter[0] == 64 and sorted(log) == list(range(64))
