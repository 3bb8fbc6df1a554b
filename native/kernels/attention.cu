// Attention kernels: tiled prefill with an online softmax and the VALL-E mask, split-KV decode over the cache
// (flash-decoding: partial softmax per chunk, then a combine kernel), and the KV-cache append.
#include "common.cuh"

using namespace valle;

namespace {

constexpr int kMaxHeadDim = 128;
constexpr int kPerLane = kMaxHeadDim / 32;  // output dims one lane owns (d = lane + 32 * e)
constexpr int kWarps = 4;
constexpr int kRowsPerWarp = 4;
constexpr int kQTile = kWarps * kRowsPerWarp;  // query rows per prefill block
constexpr int kKTile = 32;                     // keys per shared-memory tile: one per lane

// Key j is visible to the query at absolute position p (see valle_kernels.h for the VALL-E mask).
__device__ __forceinline__ bool visible(int j, int p, int n_text, int causal) {
  return !causal || j < n_text || j <= p;
}

// ---- prefill ------------------------------------------------------------------------------------------------
// Grid (ceil(n_q / kQTile), n_heads, batch), kWarps warps. Each warp owns kRowsPerWarp query rows and keeps their
// running max m, normaliser l and unnormalised output o in registers; K/V tiles are staged in shared memory as fp32
// (K rows padded by one float so that lane-per-key reads hit distinct banks).
template <typename T>
__global__ void __launch_bounds__(kWarps * 32)
    attention_prefill_kernel(const T* __restrict__ q, int q_stride, int64_t q_bstride, const T* __restrict__ k,
                             const T* __restrict__ v, int kv_stride, int64_t kv_bstride, T* __restrict__ out,
                             int out_stride, int64_t out_bstride, int n_q, int n_kv, int head_dim, int q_pos0,
                             int n_text, int causal, float scale) {
  __shared__ float qs[kQTile][kMaxHeadDim];
  __shared__ float ks[kKTile][kMaxHeadDim + 1];
  __shared__ float vs[kKTile][kMaxHeadDim];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int h = blockIdx.y, b = blockIdx.z;
  const int row0 = blockIdx.x * kQTile;
  const int hoff = h * head_dim;
  q += b * q_bstride + hoff;
  k += b * kv_bstride + hoff;
  v += b * kv_bstride + hoff;
  out += b * out_bstride + hoff;

  for (int idx = threadIdx.x; idx < kQTile * head_dim; idx += blockDim.x) {
    int r = idx / head_dim, d = idx % head_dim;
    int i = row0 + r;
    qs[r][d] = i < n_q ? to_f32(q[(int64_t)i * q_stride + d]) * scale : 0.f;
  }

  float m[kRowsPerWarp], l[kRowsPerWarp], o[kRowsPerWarp][kPerLane];
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; r++) {
    m[r] = -INFINITY;
    l[r] = 0.f;
#pragma unroll
    for (int e = 0; e < kPerLane; e++) o[r][e] = 0.f;
  }

  // Keys past kv_end are invisible to every row of this block: text rows see only text, audio rows stop at their
  // own position.
  int last_row = min(n_q, row0 + kQTile) - 1;
  int kv_end = causal ? max(min(n_text, n_kv), min(n_kv, q_pos0 + last_row + 1)) : n_kv;

  for (int kt = 0; kt < kv_end; kt += kKTile) {
    __syncthreads();  // the previous tile is no longer read (and, on the first pass, qs is complete)
    for (int idx = threadIdx.x; idx < kKTile * head_dim; idx += blockDim.x) {
      int jj = idx / head_dim, d = idx % head_dim;
      int j = kt + jj;
      bool in = j < n_kv;
      ks[jj][d] = in ? to_f32(k[(int64_t)j * kv_stride + d]) : 0.f;
      vs[jj][d] = in ? to_f32(v[(int64_t)j * kv_stride + d]) : 0.f;
    }
    __syncthreads();
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; r++) {
      int lr = warp * kRowsPerWarp + r;
      int i = row0 + lr;
      if (i >= n_q) break;  // uniform across the warp
      int p = q_pos0 + i;
      int j = kt + lane;
      float s = -INFINITY;
      if (j < n_kv && visible(j, p, n_text, causal)) {
        float dot = 0.f;
        for (int d = 0; d < head_dim; d++) dot += qs[lr][d] * ks[lane][d];
        s = dot;
      }
      float m_new = fmaxf(m[r], warp_max(s));
      if (m_new == -INFINITY) continue;  // nothing visible yet for this row
      float pj = __expf(s - m_new);
      float corr = __expf(m[r] - m_new);
      l[r] = l[r] * corr + warp_sum(pj);
      m[r] = m_new;
#pragma unroll
      for (int e = 0; e < kPerLane; e++) o[r][e] *= corr;
      for (int jj = 0; jj < kKTile; jj++) {
        float pb = __shfl_sync(0xffffffffu, pj, jj);
#pragma unroll
        for (int e = 0; e < kPerLane; e++) {
          int d = lane + 32 * e;
          if (d < head_dim) o[r][e] += pb * vs[jj][d];
        }
      }
    }
  }

#pragma unroll
  for (int r = 0; r < kRowsPerWarp; r++) {
    int i = row0 + warp * kRowsPerWarp + r;
    if (i >= n_q) break;
    float inv = l[r] > 0.f ? 1.f / l[r] : 0.f;
#pragma unroll
    for (int e = 0; e < kPerLane; e++) {
      int d = lane + 32 * e;
      if (d < head_dim) out[(int64_t)i * out_stride + d] = from_f32<T>(o[r][e] * inv);
    }
  }
}

// ---- decode -------------------------------------------------------------------------------------------------
// Grid (n_chunks, n_heads, batch), kWarps warps. A warp walks its share of the chunk one key at a time: lanes split
// the head dims, so K and V rows are read coalesced; the dot product is a warp reduction.
template <typename T, typename TC>
__global__ void __launch_bounds__(kWarps * 32)
    attention_decode_kernel(const T* __restrict__ q, int q_stride, const TC* __restrict__ kc,
                            const TC* __restrict__ vc, int kv_capacity, int n_kv, const int32_t* __restrict__ d_kv_len,
                            int dim, int head_dim, int n_chunks, float scale, float* __restrict__ partials) {
  __shared__ float wm[kWarps], wl[kWarps];
  __shared__ float wo[kWarps][kMaxHeadDim];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int chunk = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
  int len = d_kv_len ? d_kv_len[b] : n_kv;
  len = min(len, kv_capacity);
  int start = chunk * VALLE_DECODE_CHUNK;
  if (start >= len) return;  // whole block: the combine kernel reads only the active chunks
  int end = min(len, start + VALLE_DECODE_CHUNK);

  float qv[kPerLane];
#pragma unroll
  for (int e = 0; e < kPerLane; e++) {
    int d = lane + 32 * e;
    qv[e] = d < head_dim ? to_f32(q[(int64_t)b * q_stride + h * head_dim + d]) * scale : 0.f;
  }
  const int64_t cache_base = (int64_t)b * kv_capacity * dim + h * head_dim;
  float m = -INFINITY, l = 0.f, o[kPerLane];
#pragma unroll
  for (int e = 0; e < kPerLane; e++) o[e] = 0.f;

  for (int j = start + warp; j < end; j += kWarps) {
    const TC* krow = kc + cache_base + (int64_t)j * dim;
    const TC* vrow = vc + cache_base + (int64_t)j * dim;
    float part = 0.f, vv[kPerLane];
#pragma unroll
    for (int e = 0; e < kPerLane; e++) {
      int d = lane + 32 * e;
      bool in = d < head_dim;
      part += in ? qv[e] * to_f32(krow[d]) : 0.f;
      vv[e] = in ? to_f32(vrow[d]) : 0.f;
    }
    float s = warp_sum(part);
    float m_new = fmaxf(m, s);
    float corr = __expf(m - m_new);
    float p = __expf(s - m_new);
    l = l * corr + p;
#pragma unroll
    for (int e = 0; e < kPerLane; e++) o[e] = o[e] * corr + p * vv[e];
    m = m_new;
  }

  if (lane == 0) {
    wm[warp] = m;
    wl[warp] = l;
  }
#pragma unroll
  for (int e = 0; e < kPerLane; e++) {
    int d = lane + 32 * e;
    if (d < head_dim) wo[warp][d] = o[e];
  }
  __syncthreads();
  // Merge the warps' partials into the block's partial: (M, L, O[hd]) with O unnormalised.
  float M = -INFINITY;
  for (int w = 0; w < kWarps; w++) M = fmaxf(M, wm[w]);
  float* dst = partials + (((int64_t)b * gridDim.y + h) * n_chunks + chunk) * (head_dim + 2);
  for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
    float acc = 0.f;
    for (int w = 0; w < kWarps; w++)
      if (wm[w] != -INFINITY) acc += wo[w][d] * __expf(wm[w] - M);
    dst[2 + d] = acc;
  }
  if (threadIdx.x == 0) {
    float L = 0.f;
    for (int w = 0; w < kWarps; w++)
      if (wm[w] != -INFINITY) L += wl[w] * __expf(wm[w] - M);
    dst[0] = M;
    dst[1] = L;
  }
}

// Grid (n_heads, batch), kMaxHeadDim threads: thread d merges dimension d over the active chunks.
template <typename T>
__global__ void attention_decode_combine_kernel(const float* __restrict__ partials, const int32_t* __restrict__ d_kv_len,
                                                int n_kv, int kv_capacity, int head_dim, int n_chunks,
                                                T* __restrict__ out, int out_stride) {
  const int h = blockIdx.x, b = blockIdx.y, d = threadIdx.x;
  int len = d_kv_len ? d_kv_len[b] : n_kv;
  len = min(len, kv_capacity);
  int active = (len + VALLE_DECODE_CHUNK - 1) / VALLE_DECODE_CHUNK;
  const float* src = partials + ((int64_t)b * gridDim.x + h) * n_chunks * (head_dim + 2);
  float M = -INFINITY;
  for (int c = 0; c < active; c++) M = fmaxf(M, src[c * (head_dim + 2)]);
  float L = 0.f, acc = 0.f;
  for (int c = 0; c < active; c++) {
    const float* part = src + c * (head_dim + 2);
    if (part[0] == -INFINITY) continue;
    float w = __expf(part[0] - M);
    L += part[1] * w;
    if (d < head_dim) acc += part[2 + d] * w;
  }
  if (d < head_dim) out[(int64_t)b * out_stride + h * head_dim + d] = from_f32<T>(L > 0.f ? acc / L : 0.f);
}

// ---- KV-cache append ----------------------------------------------------------------------------------------
template <typename TC>
__global__ void kv_append_kernel(const float* __restrict__ k, const float* __restrict__ v, int src_stride,
                                 int64_t src_bstride, TC* __restrict__ kc, TC* __restrict__ vc, int kv_capacity,
                                 int n_new, int dim, int pos0, const int32_t* __restrict__ d_pos, int64_t n) {
  for (int64_t idx = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; idx < n; idx += (int64_t)gridDim.x * blockDim.x) {
    int c = (int)(idx % dim);
    int64_t bt = idx / dim;
    int t = (int)(bt % n_new);
    int b = (int)(bt / n_new);
    int pos = pos0 + (d_pos ? d_pos[b] : 0) + t;
    if (pos < 0 || pos >= kv_capacity) continue;
    int64_t src = b * src_bstride + (int64_t)t * src_stride + c;
    int64_t dst = ((int64_t)b * kv_capacity + pos) * dim + c;
    kc[dst] = from_f32<TC>(k[src]);
    vc[dst] = from_f32<TC>(v[src]);
  }
}

int chunks_for(int kv_capacity) { return (kv_capacity + VALLE_DECODE_CHUNK - 1) / VALLE_DECODE_CHUNK; }

}  // namespace

VALLE_API int valle_attention_prefill(int dtype, const void* q, int q_stride, int64_t q_bstride, const void* k,
                                      const void* v, int kv_stride, int64_t kv_bstride, void* out, int out_stride,
                                      int64_t out_bstride, int batch, int n_q, int n_kv, int n_heads, int head_dim,
                                      int q_pos0, int n_text, int causal, float scale, void* stream) {
  if (batch < 0 || n_q < 0 || n_kv < 0 || n_heads <= 0 || head_dim <= 0 || head_dim > kMaxHeadDim || q_pos0 < 0 ||
      n_text < 0 || !q || !k || !v || !out)
    return VALLE_ERR_INVALID_VALUE;
  if (batch == 0 || n_q == 0) return 0;
  if (n_heads > 65535 || batch > 65535) return VALLE_ERR_INVALID_VALUE;
  dim3 grid((n_q + kQTile - 1) / kQTile, n_heads, batch);
  return dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    attention_prefill_kernel<T><<<grid, kWarps * 32, 0, as_stream(stream)>>>(
        static_cast<const T*>(q), q_stride, q_bstride, static_cast<const T*>(k), static_cast<const T*>(v), kv_stride,
        kv_bstride, static_cast<T*>(out), out_stride, out_bstride, n_q, n_kv, head_dim, q_pos0, n_text, causal,
        scale);
    return launch_status();
  });
}

VALLE_API int64_t valle_attention_decode_partials_floats(int batch, int n_heads, int head_dim, int kv_capacity) {
  if (batch <= 0 || n_heads <= 0 || head_dim <= 0 || kv_capacity <= 0) return 0;
  return (int64_t)batch * n_heads * chunks_for(kv_capacity) * (head_dim + 2);
}

VALLE_API int valle_attention_decode(int dtype, const void* q, int q_stride, int cache_dtype, const void* k_cache,
                                     const void* v_cache, int kv_capacity, int n_kv, const int32_t* d_kv_len,
                                     void* out, int out_stride, int batch, int n_heads, int head_dim, float scale,
                                     float* partials, void* stream) {
  if (batch < 0 || n_heads <= 0 || head_dim <= 0 || head_dim > kMaxHeadDim || kv_capacity <= 0 || n_kv < 0 ||
      !q || !k_cache || !v_cache || !out || !partials || n_heads > 65535 || batch > 65535)
    return VALLE_ERR_INVALID_VALUE;
  if (batch == 0) return 0;
  int dim = n_heads * head_dim;
  int n_chunks = chunks_for(kv_capacity);
  cudaStream_t s = as_stream(stream);
  return dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    return dispatch_dtype(cache_dtype, [&](auto tc) {
      using TC = decltype(tc);
      attention_decode_kernel<T, TC><<<dim3(n_chunks, n_heads, batch), kWarps * 32, 0, s>>>(
          static_cast<const T*>(q), q_stride, static_cast<const TC*>(k_cache), static_cast<const TC*>(v_cache),
          kv_capacity, n_kv, d_kv_len, dim, head_dim, n_chunks, scale, partials);
      int rc = launch_status();
      if (rc != 0) return rc;
      attention_decode_combine_kernel<T><<<dim3(n_heads, batch), kMaxHeadDim, 0, s>>>(
          partials, d_kv_len, n_kv, kv_capacity, head_dim, n_chunks, static_cast<T*>(out), out_stride);
      return launch_status();
    });
  });
}

VALLE_API int valle_kv_append(const float* k, const float* v, int src_stride, int64_t src_bstride, int cache_dtype,
                              void* k_cache, void* v_cache, int kv_capacity, int batch, int n_new, int dim, int pos0,
                              const int32_t* d_pos, void* stream) {
  if (batch < 0 || n_new < 0 || dim <= 0 || kv_capacity <= 0 || src_stride < dim || !k || !v || !k_cache ||
      !v_cache)
    return VALLE_ERR_INVALID_VALUE;
  int64_t n = (int64_t)batch * n_new * dim;
  if (n == 0) return 0;
  return dispatch_dtype(cache_dtype, [&](auto tc) {
    using TC = decltype(tc);
    kv_append_kernel<TC><<<grid_for(n, 256), 256, 0, as_stream(stream)>>>(
        k, v, src_stride, src_bstride, static_cast<TC*>(k_cache), static_cast<TC*>(v_cache), kv_capacity, n_new, dim,
        pos0, d_pos, n);
    return launch_status();
  });
}
