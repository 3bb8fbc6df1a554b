// Shared device helpers: dtype load/store (fp32 arithmetic everywhere), warp reductions, launch checks.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <float.h>
#include <stdint.h>

#include "valle_kernels.h"

namespace valle {

__device__ __forceinline__ float to_f32(float v) { return v; }
__device__ __forceinline__ float to_f32(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_f32(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T> __device__ __forceinline__ T from_f32(float v);
template <> __device__ __forceinline__ float from_f32<float>(float v) { return v; }
template <> __device__ __forceinline__ __half from_f32<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over a block whose size is a multiple of 32 (<= 1024). `scratch` holds >= 32 floats; every thread gets the
// total. The trailing barrier lets callers reuse `scratch` right away.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = warp_sum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : 0.f;
  v = warp_sum(v);
  __syncthreads();
  return v;
}

inline cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

inline bool valid_dtype(int d) { return d == VALLE_DTYPE_F32 || d == VALLE_DTYPE_F16 || d == VALLE_DTYPE_BF16; }

// Calls f(T{}) with T the C++ type of a dtype code; returns VALLE_ERR_INVALID_VALUE for an unknown code.
template <typename F> inline int dispatch_dtype(int dtype, F&& f) {
  switch (dtype) {
    case VALLE_DTYPE_F32: return f(float{});
    case VALLE_DTYPE_F16: return f(__half{});
    case VALLE_DTYPE_BF16: return f(__nv_bfloat16{});
    default: return VALLE_ERR_INVALID_VALUE;
  }
}

inline int launch_status() { return static_cast<int>(cudaGetLastError()); }

// Grid-stride launches: enough blocks to fill a large GPU, never more than the work needs.
inline int grid_for(int64_t n, int threads) {
  int64_t blocks = (n + threads - 1) / threads;
  if (blocks > 65535) blocks = 65535;
  return blocks < 1 ? 1 : static_cast<int>(blocks);
}

}  // namespace valle
