// The LLaMA-block ops of e-c-k-e-r/vall-e (RMSNorm, rotary embedding, exact-GELU gated MLP activation), fp32 math,
// matching the CPU engine's LlamaOps (src/VallE.Runtime/Cpu/LlamaOps.cs).
#include <math.h>

#include "common.cuh"

using namespace valle;

namespace {

constexpr int kRmsThreads = 256;

// One block per row. Sum of squares in fp32 per thread, then a block reduction (the CPU sums in double: the two
// agree to fp32 rounding of the mean, well inside the op tests' tolerance). y may be x: every thread reads its own
// elements of the row before the reduction's barrier and writes only the same elements after it.
__global__ void rms_norm_kernel(const float* x, int x_stride, const float* __restrict__ weight, float eps, float* y,
                                int y_stride, int dim) {
  __shared__ float scratch[32];
  const float* xr = x + (int64_t)blockIdx.x * x_stride;
  float* yr = y + (int64_t)blockIdx.x * y_stride;
  float sq = 0.f;
  for (int c = threadIdx.x; c < dim; c += blockDim.x) {
    float v = xr[c];
    sq += v * v;
  }
  float variance = block_sum(sq, scratch) / (float)dim;
  // 1 / sqrtf rather than rsqrtf (approximate): the CPU's 1f / MathF.Sqrt(variance + eps), correctly rounded.
  float scale = 1.f / sqrtf(variance + eps);
  for (int c = threadIdx.x; c < dim; c += blockDim.x) yr[c] = weight[c] * (xr[c] * scale);
}

// One block per row; thread t handles pair i = t % half of head h = t / half over the 2 * heads q and k heads.
// inv_freq: [half] table (NULL: theta^(-2i/hd) in double on the device, rounded to fp32 as the host table is).
__global__ void rope_kernel(float* qkv, int qkv_stride, int dim, int heads, int head_dim, float theta,
                            const float* __restrict__ inv_freq, const int32_t* __restrict__ positions,
                            int position_stride) {
  int r = blockIdx.x;
  int half = head_dim >> 1;
  int p = positions[(int64_t)r * position_stride];
  float* row = qkv + (int64_t)r * qkv_stride;
  int pairs = 2 * heads * half;  // q heads then k heads: the first 2 * dim columns
  for (int t = threadIdx.x; t < pairs; t += blockDim.x) {
    int h = t / half, i = t - h * half;
    float f = inv_freq ? inv_freq[i] : (float)(1.0 / pow((double)theta, 2.0 * i / head_dim));
    float angle = (float)p * f;  // the fp32 product, as torch's (position * inv_freq).float()
    float c = cosf(angle), s = sinf(angle);
    float* xh = row + (int64_t)h * head_dim;
    float a = xh[i], b = xh[i + half];
    xh[i] = a * c - b * s;
    xh[i + half] = b * c + a * s;
  }
}

// y[r, i] = gelu(g[r, i]) * g[r, f + i], exact GELU 0.5 * x * erfc(-x / sqrt 2) (torch's approximate='none').
__global__ void gated_gelu_kernel(const float* __restrict__ gate_up, int in_stride, float* __restrict__ y,
                                  int y_stride, int rows, int f) {
  int64_t n = (int64_t)rows * f;
  for (int64_t k = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += (int64_t)gridDim.x * blockDim.x) {
    int64_t r = k / f;
    int i = (int)(k - r * f);
    const float* g = gate_up + r * in_stride;
    float x = g[i];
    float gelu = 0.5f * x * erfcf(-x * 0.70710678118654752440f);
    y[r * y_stride + i] = gelu * g[f + i];
  }
}

}  // namespace

VALLE_API int valle_rms_norm(const float* x, int x_stride, const float* weight, float eps, float* y, int y_stride,
                             int rows, int dim, void* stream) {
  if (rows < 0 || dim <= 0 || !x || !weight || !y || x_stride < dim || y_stride < dim) return VALLE_ERR_INVALID_VALUE;
  if (x == y && x_stride != y_stride) return VALLE_ERR_INVALID_VALUE;  // in place needs one layout
  if (rows == 0) return 0;
  rms_norm_kernel<<<rows, kRmsThreads, 0, as_stream(stream)>>>(x, x_stride, weight, eps, y, y_stride, dim);
  return launch_status();
}

VALLE_API int valle_rope(float* qkv, int qkv_stride, int rows, int dim, int heads, float theta, const float* inv_freq,
                         const int32_t* d_positions, int position_stride, void* stream) {
  if (rows < 0 || dim <= 0 || heads <= 0 || dim % heads != 0 || !qkv || !d_positions || position_stride < 1)
    return VALLE_ERR_INVALID_VALUE;
  int head_dim = dim / heads;
  if (head_dim % 2 != 0 || qkv_stride < 2 * dim || !(theta > 0.f)) return VALLE_ERR_INVALID_VALUE;
  if (rows == 0) return 0;
  int pairs = dim;  // 2 * heads * head_dim / 2
  int threads = pairs >= 256 ? 256 : ((pairs + 31) / 32) * 32;
  rope_kernel<<<rows, threads, 0, as_stream(stream)>>>(qkv, qkv_stride, dim, heads, head_dim, theta, inv_freq,
                                                        d_positions, position_stride);
  return launch_status();
}

VALLE_API int valle_gated_gelu(const float* gate_up, int in_stride, float* y, int y_stride, int rows, int f,
                               void* stream) {
  if (rows < 0 || f <= 0 || !gate_up || !y || in_stride < 2 * f || y_stride < f) return VALLE_ERR_INVALID_VALUE;
  if (rows == 0) return 0;
  const int threads = 256;
  gated_gelu_kernel<<<grid_for((int64_t)rows * f, threads), threads, 0, as_stream(stream)>>>(gate_up, in_stride, y,
                                                                                          y_stride, rows, f);
  return launch_status();
}
