"""Optimizer.apply's per-parameter precomputation (slots, weight decay) follows every change of the
settings it was computed from. Zero gradients isolate the decay: Adam's step is then 0, so
p_new = p - lr * weight_decay * p exactly as the kernels compute it."""
import numpy as np

import gpuflow as gf

keras = gf.keras


def params():
    with gf.device("cpu"):
        return [gf.Variable(np.full(3, 2.0, "float32"), name="dense/kernel:0"),
                gf.Variable(np.full(3, 2.0, "float32"), name="dense/bias:0")]


def step(opt, variables):
    with gf.device("cpu"):
        before = [v.numpy().copy() for v in variables]
        opt.apply([gf.zeros_like(v) for v in variables], variables)
    return [bool(np.any(v.numpy() != b)) for v, b in zip(variables, before)]  # decayed?


def test_decay_follows_the_exclusions_added_after_steps():
    vs = params()
    opt = keras.optimizers.AdamW(0.1, weight_decay=0.1)
    assert step(opt, vs) == [True, True]
    opt.exclude_from_weight_decay(var_names=["bias"])
    assert step(opt, vs) == [True, False]
    opt.exclude_from_weight_decay(var_list=[vs[0]])
    assert step(opt, vs) == [False, False]


def test_decay_follows_weight_decay_and_names():
    vs = params()
    opt = keras.optimizers.Adam(0.1)
    opt.exclude_from_weight_decay(var_names=["bias"])
    assert step(opt, vs) == [False, False]
    opt.weight_decay = 0.5
    with gf.device("cpu"):
        expect = vs[0].numpy() - np.float32(0.1) * np.float32(0.5) * vs[0].numpy()
    assert step(opt, vs) == [True, False]
    np.testing.assert_array_equal(vs[0].numpy(), expect)
    vs[1].name = "dense/kernel_2:0"  # renamed: the name match is made again
    vs[0].name = "dense/bias_2:0"
    assert step(opt, vs) == [False, True]
    opt.weight_decay = None
    assert step(opt, vs) == [False, False]


def test_slots_follow_the_variable_list_and_rate_changes():
    vs = params()
    with gf.device("cpu"):
        extra = gf.Variable(np.ones(2, "float32"), name="extra")
        opt = keras.optimizers.Adam(0.5)
        opt.apply([gf.ones(3), gf.ones(3)], vs)
        opt.apply([gf.ones(2)], [extra])  # a new parameter later: its own slots
        m = {s: opt._slots[id(extra)][s].numpy() for s in ("m", "v")}
        np.testing.assert_allclose(m["m"], 0.1, rtol=1e-6)  # (1 - beta_1) * g on its first update
        np.testing.assert_allclose(m["v"], 0.001, rtol=1e-4)  # 1 - beta_2 rounded in float32
        np.testing.assert_allclose(opt._slots[id(vs[0])]["m"].numpy(), 0.1, rtol=1e-6)
        # the rate set between steps is the one used (plain SGD: a gradient of 1 moves by exactly lr)
        sgd = keras.optimizers.SGD(0.5)
        sgd.apply([gf.ones(2)], [extra])
        for set_rate, rate in [(lambda: setattr(sgd, "learning_rate", 0.25), 0.25),
                               (lambda: sgd.learning_rate.assign(0.125), 0.125)]:
            set_rate()
            before = extra.numpy().copy()
            sgd.apply([gf.ones(2)], [extra])
            np.testing.assert_allclose(before - extra.numpy(), rate, rtol=1e-6)
