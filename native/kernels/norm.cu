// Residual add fused with LayerNorm / AdaptiveLayerNorm: the residual stream is read once, updated in place, and
// normalised from shared memory (one global read + one or two writes per element instead of three passes).
#include "common.cuh"

using namespace valle;

namespace {

constexpr int kNormThreads = 256;

template <typename TY>
__global__ void add_layernorm_kernel(float* x, const float* __restrict__ delta, const float* __restrict__ delta_bias,
                                     const float* __restrict__ gamma, const float* __restrict__ beta,
                                     const float* __restrict__ ada_scale, const float* __restrict__ ada_shift,
                                     float eps, TY* y, int dim) {
  extern __shared__ float row[];  // dim floats: the updated residual row
  __shared__ float scratch[32];
  int64_t base = (int64_t)blockIdx.x * dim;
  float sum = 0.f;
  for (int c = threadIdx.x; c < dim; c += blockDim.x) {
    float v = x[base + c];
    if (delta) {
      v += delta[base + c] + (delta_bias ? delta_bias[c] : 0.f);
      x[base + c] = v;
    }
    row[c] = v;
    sum += v;
  }
  float mean = block_sum(sum, scratch) / (float)dim;
  // Second pass over shared memory: the variance about the mean (no cancellation as in E[x^2] - E[x]^2).
  float sq = 0.f;
  for (int c = threadIdx.x; c < dim; c += blockDim.x) {
    float d = row[c] - mean;
    sq += d * d;
  }
  float var = block_sum(sq, scratch) / (float)dim;
  float rstd = rsqrtf(var + eps);
  for (int c = threadIdx.x; c < dim; c += blockDim.x) {
    float v = (row[c] - mean) * rstd;
    if (gamma) v *= gamma[c];
    if (beta) v += beta[c];
    if (ada_scale) v = ada_scale[c] * v + ada_shift[c];
    y[base + c] = from_f32<TY>(v);
  }
}

}  // namespace

VALLE_API int valle_add_layernorm(float* x, const float* delta, const float* delta_bias, const float* gamma,
                                  const float* beta, const float* ada_scale, const float* ada_shift, float eps,
                                  int y_dtype, void* y, int rows, int dim, void* stream) {
  if (rows < 0 || dim <= 0 || !x || !y || (ada_scale && !ada_shift)) return VALLE_ERR_INVALID_VALUE;
  if (delta && y == static_cast<void*>(x)) return VALLE_ERR_INVALID_VALUE;
  // The row lives in shared memory: 48 KiB (the default limit) holds 12288 floats, far above VALL-E's widths.
  if ((size_t)dim * sizeof(float) > 48 * 1024) return VALLE_ERR_INVALID_VALUE;
  if (rows == 0) return 0;
  return dispatch_dtype(y_dtype, [&](auto t) {
    using TY = decltype(t);
    add_layernorm_kernel<TY><<<rows, kNormThreads, dim * sizeof(float), as_stream(stream)>>>(
        x, delta, delta_bias, gamma, beta, ada_scale, ada_shift, eps, static_cast<TY*>(y), dim);
    return launch_status();
  });
}
