"""Shared by the streams tests: running a program under several seeded interleavings."""
from gpuflow.runtime.sim.queues import POLICIES, engine

# Enough seeds to meet every interleaving policy (seed % 3) twice, with different draws.
SCHEDULES = range(2 * len(POLICIES))


def each_schedule(program, seeds=SCHEDULES):
    """program() run once per seeded interleaving; the list of what it returned."""
    results = []
    for seed in seeds:
        engine().reset()
        engine().reseed(seed)
        results.append(program())
    return results
