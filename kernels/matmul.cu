// matmul.cu: what GEMM needs around the library call.
//
// The GEMM itself is cuBLAS through CuPy's matmul (NumPy on the sim device). float16 and
// bfloat16 operands are widened to float32 first and the float32 product rounded once
// at the end, exactly as the cpu reference does, so every device agrees to one rounding.
//
// Contract:
//   convert<S, D>   out[i] = (D) in[i] for n elements, through float for half/bfloat16
//                   (round to nearest even on the way down). C-contiguous; grid-stride
//                   loop, 256 threads, any grid size.
// Napkin math: n * (sizeof(S) + sizeof(D)) bytes, no FLOPs; next to an (m, k) @ (k, n)
// GEMM's 2mnk FLOPs the widening costs 6 bytes per operand element, one pass each.
#include "common.cuh"

template <typename S, typename D>
__global__ void convert(const S* __restrict__ in, D* __restrict__ out, gf::index_t n) {
  GF_GRID_STRIDE_LOOP(i, n) { out[i] = gf::store<D>((gf::acc_t<D>)gf::load(in[i])); }
}
