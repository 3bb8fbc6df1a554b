// Element-wise kernels: bias + activation.
#include <cuda_runtime.h>
#include "valle_kernels.h"

namespace {

__global__ void bias_relu_f32_kernel(const float* __restrict__ x, const float* __restrict__ bias,
                                     float* __restrict__ y, int64_t n, int cols) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    float v = x[i] + bias[i % cols];
    y[i] = v > 0.f ? v : 0.f;
  }
}

}  // namespace

VALLE_API int valle_kernels_abi_version(void) { return VALLE_KERNELS_ABI_VERSION; }

VALLE_API int valle_bias_relu_f32(const float* x, const float* bias, float* y, int rows, int cols, void* stream) {
  int64_t n = (int64_t)rows * cols;
  if (n == 0) return 0;
  int threads = 256;
  int blocks = (int)((n + threads - 1) / threads);
  if (blocks > 65535) blocks = 65535;
  bias_relu_f32_kernel<<<blocks, threads, 0, (cudaStream_t)stream>>>(x, bias, y, n, cols);
  return (int)cudaGetLastError();
}
