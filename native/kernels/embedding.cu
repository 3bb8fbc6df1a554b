// Embedding gathers fused with the sine positional encoding (one pass over the output instead of three).
#include <math.h>

#include "common.cuh"

using namespace valle;

namespace {

// The positional term of column c at position p; the angle is computed in fp32 exactly like torch's table.
// coef = (float)-(ln(10000) / dim), hoisted by the callers (double math once per thread, not per element).
__device__ __forceinline__ float sine_pe(int p, int c, float coef, const float* inv_freq) {
  int i = c >> 1;
  float w = inv_freq ? inv_freq[i] : expf((float)(2 * i) * coef);
  float angle = (float)p * w;
  return (c & 1) ? cosf(angle) : sinf(angle);
}

// One block per token row; threads stride over the columns (coalesced reads of the table row).
template <typename T>
__global__ void embed_pos_kernel(const T* __restrict__ table, int vocab, const int32_t* __restrict__ tokens,
                                 int dim, float x_scale, float alpha, int use_pe, const float* __restrict__ inv_freq,
                                 int pos0, const int32_t* __restrict__ d_pos0, float* out, int out_stride) {
  int t = blockIdx.x;
  int token = tokens[t];
  int pos = pos0 + (d_pos0 ? *d_pos0 : 0) + t;
  bool ok = token >= 0 && token < vocab;
  const T* row = table + (int64_t)(ok ? token : 0) * dim;
  float* o = out + (int64_t)t * out_stride;
  const float coef = (float)(-(log(10000.0) / (double)dim));
  for (int c = threadIdx.x; c < dim; c += blockDim.x) {
    float v = ok ? to_f32(row[c]) * x_scale : NAN;
    if (use_pe) v += alpha * sine_pe(pos, c, coef, inv_freq);
    o[c] = v;
  }
}

template <typename T>
__global__ void embed_sum_pos_kernel(const T* const* __restrict__ tables, const int32_t* __restrict__ vocabs,
                                     int n_books, const int32_t* __restrict__ codes, int code_stride, int dim,
                                     float x_scale, float alpha, int use_pe, const float* __restrict__ inv_freq,
                                     int pos0, float* out, int out_stride) {
  int t = blockIdx.x;
  float* o = out + (int64_t)t * out_stride;
  const float coef = (float)(-(log(10000.0) / (double)dim));
  for (int c = threadIdx.x; c < dim; c += blockDim.x) {
    float acc = 0.f;
    // Books are summed in order 0, 1, ... as upstream's `y_emb += embedding_layer(...)` does.
    for (int b = 0; b < n_books; b++) {
      int code = codes[(int64_t)t * code_stride + b];
      acc += (code >= 0 && code < vocabs[b]) ? to_f32(tables[b][(int64_t)code * dim + c]) : NAN;
    }
    float v = acc * x_scale;
    if (use_pe) v += alpha * sine_pe(pos0 + t, c, coef, inv_freq);
    o[c] = v;
  }
}

// x[r, c] += alpha * pe(pos(r), c), pos(r) = d_positions ? d_positions[r] : pos0 + r: the positional term alone,
// added to rows an earlier op produced (the backend's AddPositions). One block per row.
__global__ void add_positions_kernel(float* x, int dim, int x_stride, float alpha, const float* __restrict__ inv_freq,
                                     int pos0, const int32_t* __restrict__ d_positions) {
  int r = blockIdx.x;
  int pos = d_positions ? d_positions[r] : pos0 + r;
  float* row = x + (int64_t)r * x_stride;
  const float coef = (float)(-(log(10000.0) / (double)dim));
  for (int c = threadIdx.x; c < dim; c += blockDim.x) row[c] += alpha * sine_pe(pos, c, coef, inv_freq);
}

int threads_for(int dim) { return dim >= 256 ? 256 : ((dim + 31) / 32) * 32; }

}  // namespace

VALLE_API int valle_embed_pos(int table_dtype, const void* table, int vocab, const int32_t* tokens, int n_tokens,
                              int dim, float x_scale, float alpha, int use_pe, const float* inv_freq, int pos0,
                              const int32_t* d_pos0, float* out, int out_stride, void* stream) {
  if (n_tokens < 0 || dim <= 0 || vocab <= 0 || out_stride < dim || !table || !out) return VALLE_ERR_INVALID_VALUE;
  if (n_tokens == 0) return 0;
  return dispatch_dtype(table_dtype, [&](auto t) {
    using T = decltype(t);
    embed_pos_kernel<T><<<n_tokens, threads_for(dim), 0, as_stream(stream)>>>(
        static_cast<const T*>(table), vocab, tokens, dim, x_scale, alpha, use_pe, inv_freq, pos0, d_pos0, out,
        out_stride);
    return launch_status();
  });
}

VALLE_API int valle_embed_sum_pos(int table_dtype, const void* const* tables, const int32_t* vocabs, int n_books,
                                  const int32_t* codes, int code_stride, int n_tokens, int dim, float x_scale,
                                  float alpha, int use_pe, const float* inv_freq, int pos0, float* out,
                                  int out_stride, void* stream) {
  if (n_tokens < 0 || dim <= 0 || n_books < 0 || code_stride < n_books || out_stride < dim || !out)
    return VALLE_ERR_INVALID_VALUE;
  if (n_tokens == 0) return 0;
  return dispatch_dtype(table_dtype, [&](auto t) {
    using T = decltype(t);
    embed_sum_pos_kernel<T><<<n_tokens, threads_for(dim), 0, as_stream(stream)>>>(
        reinterpret_cast<const T* const*>(tables), vocabs, n_books, codes, code_stride, dim, x_scale, alpha, use_pe,
        inv_freq, pos0, out, out_stride);
    return launch_status();
  });
}

VALLE_API int valle_add_positions(float* x, int rows, int dim, int x_stride, float alpha, const float* inv_freq,
                                  int pos0, const int32_t* d_positions, void* stream) {
  if (rows < 0 || dim <= 0 || x_stride < dim || !x) return VALLE_ERR_INVALID_VALUE;
  if (rows == 0) return 0;
  add_positions_kernel<<<rows, threads_for(dim), 0, as_stream(stream)>>>(x, dim, x_stride, alpha, inv_freq, pos0,
                                                                          d_positions);
  return launch_status();
}
