// fused.cuh: what the graph compiler's generated kernels share (gpuflow/graph/fusion/codegen.py).
//
// A generated kernel is one extern "C" __global__ function per fused group of a traced graph: a chain of
// elementwise ops (elementwise_ops.cuh's functors, so each op computes exactly what its own kernel
// computes), optionally ending in one reduction whose result feeds more elementwise ops (the epilogue).
// Shapes are compile-time constants of the generated source: index arithmetic divides by constants.
//
//   map kernels      GF_GRID_STRIDE_LOOP over the N elements of the group's shape; any grid.
//   reduce kernels   gf::fused::reduce: a block per output element (blocks stride over outputs), the
//                    block's threads stride over its R reduced elements, block_reduce combines them in a
//                    fixed order (deterministic, no atomics), and thread 0 runs the epilogue for that
//                    output. blockDim.x a multiple of 32; any grid.
//   multi-tensor optimizer updates (optim.cuh's <rule>_element over several parameters): one grid-stride
//                    loop over the parameters' elements laid end to end, each element updated by the
//                    rule of its parameter.
#pragma once
#include "elementwise_ops.cuh"
#include "reduce.cuh"

namespace gf {
namespace fused {

// elem(o, k) -> the k-th reduced element of output o (as Op::in_t); epi(o, result) writes output o.
template <typename Op, typename Elem, typename Epi>
__device__ __forceinline__ void reduce(index_t out_n, index_t red_n, Elem elem, Epi epi) {
  for (index_t o = blockIdx.x; o < out_n; o += gridDim.x) {  // the same o for the whole block: all threads
    typename Op::State s = Op::identity();                     // reach block_reduce's barriers together
    for (index_t k = threadIdx.x; k < red_n; k += blockDim.x) s = Op::combine(s, Op::lift(elem(o, k), k));
    s = block_reduce<Op>(s);
    if (threadIdx.x == 0) epi(o, Op::finish(s));
  }
}

}  // namespace fused
}  // namespace gf
