// Token selection on the device: argmax and the full sampler (repetition penalty, temperature, top-k, top-p,
// min-p, Philox draw), one block per row, so logits never cross to the host and a decode step can be a graph.
#include <limits.h>

#include "common.cuh"
#include "philox.cuh"

using namespace valle;

namespace {

constexpr int kSampleThreads = 1024;
constexpr int kPerThread = VALLE_SAMPLE_MAX_VOCAB / kSampleThreads;  // scan granularity

// (value, index) order of the sort: larger value first, then the lower index (a total order, so the result does not
// depend on the sorting network).
__device__ __forceinline__ bool before(float va, int ia, float vb, int ib) { return va > vb || (va == vb && ia < ib); }

// Argmax over the 32 lanes of a warp (every lane ends with the result), first index on ties.
__device__ __forceinline__ void warp_argmax(float& v, int& i) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    float ov = __shfl_xor_sync(0xffffffffu, v, o);
    int oi = __shfl_xor_sync(0xffffffffu, i, o);
    if (before(ov, oi, v, i)) {
      v = ov;
      i = oi;
    }
  }
}

// Argmax over the block, first index on ties. NaN logits count as -inf.
__device__ void block_argmax(float v, int i, float* sv, int* si, float* out_v, int* out_i) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  warp_argmax(v, i);
  if (lane == 0) {
    sv[warp] = v;
    si[warp] = i;
  }
  __syncthreads();
  if (warp == 0) {
    int warps = blockDim.x >> 5;
    v = lane < warps ? sv[lane] : -INFINITY;
    i = lane < warps ? si[lane] : INT_MAX;
    warp_argmax(v, i);
    if (lane == 0) {
      *out_v = v;
      *out_i = i;
    }
  }
  __syncthreads();
}

template <typename T>
__global__ void argmax_kernel(const T* __restrict__ logits, int vocab, int stride, int32_t* out) {
  __shared__ float sv[32];
  __shared__ int si[32];
  __shared__ float best_v;
  __shared__ int best_i;
  const T* row = logits + (int64_t)blockIdx.x * stride;
  float v = -INFINITY;
  int idx = INT_MAX;
  for (int c = threadIdx.x; c < vocab; c += blockDim.x) {
    float x = to_f32(row[c]);
    if (x != x) x = -INFINITY;
    if (before(x, c, v, idx)) {
      v = x;
      idx = c;
    }
  }
  block_argmax(v, idx, sv, si, &best_v, &best_i);
  if (threadIdx.x == 0) out[blockIdx.x] = best_i == INT_MAX ? 0 : best_i;
}

// Inclusive prefix sum of vals[0 .. kSampleThreads * kPerThread) in place (each thread owns kPerThread neighbours).
__device__ void block_inclusive_scan(float* vals, float* warp_totals) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  float* mine = vals + threadIdx.x * kPerThread;
  float local[kPerThread];
  float run = 0.f;
#pragma unroll
  for (int e = 0; e < kPerThread; e++) {
    run += mine[e];
    local[e] = run;
  }
  float incl = run;
#pragma unroll
  for (int o = 1; o < 32; o <<= 1) {
    float up = __shfl_up_sync(0xffffffffu, incl, o);
    if (lane >= o) incl += up;
  }
  if (lane == 31) warp_totals[warp] = incl;
  __syncthreads();
  if (warp == 0) {
    float t = warp_totals[lane];
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
      float up = __shfl_up_sync(0xffffffffu, t, o);
      if (lane >= o) t += up;
    }
    warp_totals[lane] = t;  // inclusive over warps
  }
  __syncthreads();
  float offset = (incl - run) + (warp > 0 ? warp_totals[warp - 1] : 0.f);
#pragma unroll
  for (int e = 0; e < kPerThread; e++) mine[e] = local[e] + offset;
  __syncthreads();
}

template <typename T>
__global__ void __launch_bounds__(kSampleThreads)
    sample_kernel(const T* __restrict__ logits, int vocab, int stride, valle_sample_params params, int32_t* history,
                  int32_t* hist_len, uint64_t* rng_counter, int32_t* out_token, int32_t* out_argmax) {
  __shared__ float vals[VALLE_SAMPLE_MAX_VOCAB];
  __shared__ int idx[VALLE_SAMPLE_MAX_VOCAB];
  __shared__ unsigned char seen[VALLE_SAMPLE_MAX_VOCAB];
  __shared__ float sv[32];
  __shared__ int si[32];
  __shared__ float best_v;
  __shared__ int best_i, n_keep, pick;
  const int b = blockIdx.x;
  const T* row = logits + (int64_t)b * stride;

  // 1. raw logits in, argmax of the raw logits out.
  float v = -INFINITY;
  int vi = INT_MAX;
  for (int c = threadIdx.x; c < VALLE_SAMPLE_MAX_VOCAB; c += blockDim.x) {
    float x = c < vocab ? to_f32(row[c]) : -INFINITY;
    if (x != x) x = -INFINITY;
    vals[c] = x;
    idx[c] = c < vocab ? c : INT_MAX;
    seen[c] = 0;
    if (c < vocab && before(x, c, v, vi)) {
      v = x;
      vi = c;
    }
  }
  block_argmax(v, vi, sv, si, &best_v, &best_i);  // ends with a barrier: vals/idx/seen are complete
  const int argmax = best_i == INT_MAX ? 0 : best_i;
  int token = argmax;

  // 2. repetition penalty, once per distinct token in the window (greedy too: it picks the penalised argmax).
  int len = hist_len ? hist_len[b] : 0;
  int recorded = min(len, params.hist_capacity);
  bool penalised = history && params.repetition_penalty != 1.f && params.rep_window > 0 && recorded > 0;
  if (penalised) {
    int from = max(0, recorded - params.rep_window);
    const int32_t* h = history + (int64_t)b * params.hist_capacity;
    for (int t = from + threadIdx.x; t < recorded; t += blockDim.x) {
      int tok = h[t];
      if (tok >= 0 && tok < vocab) seen[tok] = 1;
    }
    __syncthreads();
    for (int c = threadIdx.x; c < vocab; c += blockDim.x)
      if (seen[c]) vals[c] = vals[c] > 0.f ? vals[c] / params.repetition_penalty : vals[c] * params.repetition_penalty;
    __syncthreads();
  }

  if (params.greedy && penalised) {
    v = -INFINITY;
    vi = INT_MAX;
    for (int c = threadIdx.x; c < vocab; c += blockDim.x)
      if (before(vals[c], c, v, vi)) {
        v = vals[c];
        vi = c;
      }
    block_argmax(v, vi, sv, si, &best_v, &best_i);
    token = best_i == INT_MAX ? argmax : best_i;
  }

  if (!params.greedy) {
    // 3. temperature.
    if (params.temperature != 1.f)
      for (int c = threadIdx.x; c < vocab; c += blockDim.x) vals[c] = vals[c] / params.temperature;
    __syncthreads();

    // 4. bitonic sort of (value, index), descending, over the next power of two >= vocab.
    int n = 32;
    while (n < vocab) n <<= 1;
    for (int size = 2; size <= n; size <<= 1) {
      for (int stride2 = size >> 1; stride2 > 0; stride2 >>= 1) {
        for (int t = threadIdx.x; t < n / 2; t += blockDim.x) {
          int lo = 2 * t - (t & (stride2 - 1));
          int hi = lo + stride2;
          bool descending = (lo & size) == 0;
          bool swap = descending ? before(vals[hi], idx[hi], vals[lo], idx[lo])
                                 : before(vals[lo], idx[lo], vals[hi], idx[hi]);
          if (swap) {
            float tv = vals[lo];
            vals[lo] = vals[hi];
            vals[hi] = tv;
            int ti = idx[lo];
            idx[lo] = idx[hi];
            idx[hi] = ti;
          }
        }
        __syncthreads();
      }
    }

    // top-k: every logit >= the k-th largest stays (ties included, as upstream's `logits < kth` removal).
    if (threadIdx.x == 0) n_keep = vocab;
    __syncthreads();
    if (params.top_k > 0 && params.top_k < vocab) {
      float kth = vals[params.top_k - 1];
      for (int c = threadIdx.x; c < vocab; c += blockDim.x)
        if (vals[c] >= kth && (c + 1 == vocab || vals[c + 1] < kth)) n_keep = c + 1;
      __syncthreads();
    }
    // 5. unnormalised softmax weights of the kept entries (the largest is exactly 1), then their prefix sums.
    const float vmax = vals[0];
    const int keep_k = n_keep;
    __syncthreads();
    for (int c = threadIdx.x; c < VALLE_SAMPLE_MAX_VOCAB; c += blockDim.x) {
      float e = (c < keep_k && vals[c] != -INFINITY) ? expf(vals[c] - vmax) : 0.f;
      idx[c] = c < keep_k ? idx[c] : INT_MAX;
      vals[c] = e;
    }
    __syncthreads();
    // min-p needs the weights before the scan overwrites them: count the prefix with e >= min_p (e_max = 1).
    if (params.min_p > 0.f) {
      for (int c = threadIdx.x; c < keep_k; c += blockDim.x)
        if (vals[c] >= params.min_p && (c + 1 == keep_k || vals[c + 1] < params.min_p)) atomicMin(&n_keep, c + 1);
      // e_0 = 1 >= min_p whenever min_p <= 1, so the first entry always stays; min_p > 1 keeps only it.
      if (threadIdx.x == 0 && params.min_p > 1.f) n_keep = 1;
    }
    block_inclusive_scan(vals, sv);
    // 5b. top-p on the top-k distribution: keep i when the mass before it is <= top_p (entry 0 always stays).
    if (params.top_p < 1.f) {
      float total_k = vals[keep_k - 1];
      for (int c = threadIdx.x; c < keep_k; c += blockDim.x) {
        float before_c = c > 0 ? vals[c - 1] / total_k : 0.f;
        if (before_c <= params.top_p && vals[c] / total_k > params.top_p) atomicMin(&n_keep, c + 1);
      }
      __syncthreads();
    }
    // 7. the draw: the first kept entry whose cumulative mass exceeds u * total.
    const int kept = max(1, n_keep);
    if (threadIdx.x == 0) pick = kept - 1;
    __syncthreads();
    uint64_t ctr = rng_counter ? rng_counter[b] : 0;
    philox_out r = philox4x32_10(params.seed, (uint32_t)ctr, (uint32_t)(ctr >> 32), (uint32_t)b, 0u);
    float target = (float)(r.x >> 8) * 0x1p-24f * vals[kept - 1];  // u in [0, 1), exact in fp32
    for (int c = threadIdx.x; c < kept; c += blockDim.x)
      if (vals[c] > target && (c == 0 || vals[c - 1] <= target)) atomicMin(&pick, c);
    __syncthreads();
    token = idx[pick];
    if (token == INT_MAX) token = argmax;  // unreachable: every kept entry has a real index
  }

  // 8. outputs and the device state a replayed graph advances.
  if (threadIdx.x == 0) {
    out_token[b] = token;
    if (out_argmax) out_argmax[b] = argmax;
    if (hist_len) {
      if (history && len < params.hist_capacity) history[(int64_t)b * params.hist_capacity + len] = token;
      hist_len[b] = len + 1;
    }
    if (rng_counter) rng_counter[b] += 1;
  }
}

}  // namespace

VALLE_API int valle_argmax(int dtype, const void* logits, int rows, int vocab, int logit_stride, int32_t* out,
                           void* stream) {
  if (rows < 0 || vocab <= 0 || logit_stride < vocab || !logits || !out) return VALLE_ERR_INVALID_VALUE;
  if (rows == 0) return 0;
  return dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    argmax_kernel<T><<<rows, 256, 0, as_stream(stream)>>>(static_cast<const T*>(logits), vocab, logit_stride, out);
    return launch_status();
  });
}

VALLE_API int valle_sample(int dtype, const void* logits, int rows, int vocab, int logit_stride,
                           const valle_sample_params* params, int32_t* history, int32_t* hist_len,
                           uint64_t* rng_counter, int32_t* out_token, int32_t* out_argmax, void* stream) {
  if (rows < 0 || vocab <= 0 || vocab > VALLE_SAMPLE_MAX_VOCAB || logit_stride < vocab || !logits || !params ||
      !out_token)
    return VALLE_ERR_INVALID_VALUE;
  valle_sample_params p = *params;
  if (!p.greedy && !(p.temperature > 0.f)) return VALLE_ERR_INVALID_VALUE;
  if (p.hist_capacity < 0 || (history && p.hist_capacity == 0)) return VALLE_ERR_INVALID_VALUE;
  if (rows == 0) return 0;
  return dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    sample_kernel<T><<<rows, kSampleThreads, 0, as_stream(stream)>>>(static_cast<const T*>(logits), vocab,
                                                                      logit_stride, p, history, hist_len, rng_counter,
                                                                      out_token, out_argmax);
    return launch_status();
  });
}

VALLE_API void valle_philox4x32_10(uint64_t key, uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t* out) {
  philox_out r = philox4x32_10(key, c0, c1, c2, c3);
  out[0] = r.x;
  out[1] = r.y;
  out[2] = r.z;
  out[3] = r.w;
}
