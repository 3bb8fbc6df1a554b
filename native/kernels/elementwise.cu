// Element-wise kernels: bias + activation, dtype conversion, residual add, device counters.
#include "common.cuh"

using namespace valle;

namespace {

template <typename T>
__global__ void bias_act_kernel(const T* __restrict__ x, const T* __restrict__ bias, T* y, int64_t n, int cols,
                                int act) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    float v = to_f32(x[i]);
    if (bias) v += to_f32(bias[i % cols]);
    if (act == VALLE_ACT_RELU) v = v > 0.f ? v : 0.f;
    y[i] = from_f32<T>(v);
  }
}

template <typename S, typename D>
__global__ void convert_kernel(const S* __restrict__ x, D* __restrict__ y, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    y[i] = from_f32<D>(to_f32(x[i]));
}

__global__ void add_residual_kernel(float* x, const float* __restrict__ delta, const float* __restrict__ bias,
                                    int64_t n, int cols) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    x[i] += delta[i] + (bias ? bias[i % cols] : 0.f);
}

__global__ void counter_add_kernel(int32_t* c, int n, int delta) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) c[i] += delta;
}

}  // namespace

VALLE_API int valle_kernels_abi_version(void) { return VALLE_KERNELS_ABI_VERSION; }

VALLE_API int valle_set_device(int device) { return static_cast<int>(cudaSetDevice(device)); }

VALLE_API int valle_bias_act(int dtype, const void* x, const void* bias, void* y, int rows, int cols, int act,
                             void* stream) {
  if (rows < 0 || cols <= 0 || (act != VALLE_ACT_NONE && act != VALLE_ACT_RELU)) return VALLE_ERR_INVALID_VALUE;
  int64_t n = (int64_t)rows * cols;
  if (n == 0) return 0;
  return dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    bias_act_kernel<T><<<grid_for(n, 256), 256, 0, as_stream(stream)>>>(
        static_cast<const T*>(x), static_cast<const T*>(bias), static_cast<T*>(y), n, cols, act);
    return launch_status();
  });
}

VALLE_API int valle_bias_relu_f32(const float* x, const float* bias, float* y, int rows, int cols, void* stream) {
  return valle_bias_act(VALLE_DTYPE_F32, x, bias, y, rows, cols, VALLE_ACT_RELU, stream);
}

VALLE_API int valle_convert(int src_dtype, const void* x, int dst_dtype, void* y, int64_t n, void* stream) {
  if (n < 0 || !valid_dtype(dst_dtype)) return VALLE_ERR_INVALID_VALUE;
  if (n == 0) return 0;
  return dispatch_dtype(src_dtype, [&](auto s) {
    using S = decltype(s);
    return dispatch_dtype(dst_dtype, [&](auto d) {
      using D = decltype(d);
      convert_kernel<S, D><<<grid_for(n, 256), 256, 0, as_stream(stream)>>>(static_cast<const S*>(x),
                                                                             static_cast<D*>(y), n);
      return launch_status();
    });
  });
}

VALLE_API int valle_add_residual(float* x, const float* delta, const float* bias, int rows, int dim, void* stream) {
  if (rows < 0 || dim <= 0 || !x || !delta) return VALLE_ERR_INVALID_VALUE;
  int64_t n = (int64_t)rows * dim;
  if (n == 0) return 0;
  add_residual_kernel<<<grid_for(n, 256), 256, 0, as_stream(stream)>>>(x, delta, bias, n, dim);
  return launch_status();
}

VALLE_API int valle_counter_add(int32_t* d_counter, int n, int delta, void* stream) {
  if (n < 0 || !d_counter) return VALLE_ERR_INVALID_VALUE;
  if (n == 0) return 0;
  counter_add_kernel<<<(n + 255) / 256, 256, 0, as_stream(stream)>>>(d_counter, n, delta);
  return launch_status();
}
