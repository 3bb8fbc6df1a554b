// C ABI of libvalle_kernels: launchers that take device pointers, sizes and a CUDA stream (void*, 0 = legacy
// default stream). Every function only enqueues work and returns a cudaError_t as int (0 = success), so that C# can
// turn failures into exceptions. Nothing here allocates, synchronises or copies to the host: every launcher may be
// captured into a CUDA graph.
//
// Conventions
//  - Matrices are row-major; "rows x cols" with an explicit row stride (in elements) where a view into a wider
//    buffer is useful (e.g. q/k/v as column slices of the fused in_proj output).
//  - dtype codes (VALLE_DTYPE_*) select the storage type of the activations/tables a launcher reads or writes;
//    arithmetic is always fp32 (fp16/bf16 are converted on load and rounded on store).
//  - Values that change from one decode step to the next (the position, the KV length, the sampler's RNG counter)
//    are read from DEVICE memory ("d_" arguments) so that one captured graph can be replayed for every token.
//    Such a pointer may be NULL where documented; the host value is then used alone.
#pragma once
#include <stdint.h>

#if defined(_WIN32)
#define VALLE_API extern "C" __declspec(dllexport)
#else
#define VALLE_API extern "C" __attribute__((visibility("default")))
#endif

// ABI version: bumped whenever a signature changes; C# refuses a library whose version differs.
#define VALLE_KERNELS_ABI_VERSION 5
VALLE_API int valle_kernels_abi_version(void);

// The library links the CUDA runtime statically (so that one build runs under CUDA 11.8 to 13 drivers without a
// matching libcudart), which makes its "current device" separate from the host's libcudart: the host selects the
// GPU in both, on every thread that launches work. Pointers and streams are driver objects and are shared.
VALLE_API int valle_set_device(int device);

#define VALLE_DTYPE_F32 0
#define VALLE_DTYPE_F16 1
#define VALLE_DTYPE_BF16 2

// Returned for arguments the kernels cannot handle (equals cudaErrorInvalidValue).
#define VALLE_ERR_INVALID_VALUE 1

// ---- element-wise -------------------------------------------------------------------------------------------
// y[r, c] = act(x[r, c] + bias[c]); act 0 = identity, 1 = ReLU. bias may be NULL. In place (y == x) allowed.
#define VALLE_ACT_NONE 0
#define VALLE_ACT_RELU 1
VALLE_API int valle_bias_act(int dtype, const void* x, const void* bias, void* y, int rows, int cols, int act,
                             void* stream);
// Kept from ABI 1: valle_bias_act(F32, ..., VALLE_ACT_RELU).
VALLE_API int valle_bias_relu_f32(const float* x, const float* bias, float* y, int rows, int cols, void* stream);
// y[i] = (dtype)x[i] for n elements: f32 -> f32/f16/bf16 (dst_dtype) and back (src_dtype), e.g. to fill a cache.
VALLE_API int valle_convert(int src_dtype, const void* x, int dst_dtype, void* y, int64_t n, void* stream);

// ---- embeddings ---------------------------------------------------------------------------------------------
// Token embedding + sine positional encoding (lifeiteng SinePositionalEmbedding, reverse = false):
//   out[t, :] = table[tokens[t], :] * x_scale + alpha * pe(pos, :),   pos = pos0 + (d_pos0 ? *d_pos0 : 0) + t
//   pe(p, 2i) = sin(p * w_i), pe(p, 2i+1) = cos(p * w_i), w_i = exp(2i * -(ln(10000) / dim)) in fp32.
// inv_freq: DEVICE [ceil(dim / 2)] table of w_i computed on the host exactly as the CPU engine does (so both
// backends agree bit for bit on the angle); NULL computes w_i with the device expf (within 2 ulp).
// table: [vocab, dim] of table_dtype; out: f32 rows with stride out_stride (a slice of the [x ; y] buffer).
// A token outside [0, vocab) writes NaNs to its row (the host validates tokens; this keeps the kernel total).
// use_pe = 0 skips the positional term (plain embedding * x_scale).
VALLE_API int valle_embed_pos(int table_dtype, const void* table, int vocab, const int32_t* tokens, int n_tokens,
                              int dim, float x_scale, float alpha, int use_pe, const float* inv_freq, int pos0,
                              const int32_t* d_pos0, float* out, int out_stride, void* stream);
// Summed multi-codebook embedding of the NAR plus the positional encoding:
//   out[t, :] = x_scale * sum_{b < n_books} tables[b][codes[t * code_stride + b], :] + alpha * pe(pos0 + t, :)
// tables: DEVICE array of n_books pointers to [vocabs[b], dim] tables of table_dtype; vocabs: DEVICE int array.
VALLE_API int valle_embed_sum_pos(int table_dtype, const void* const* tables, const int32_t* vocabs, int n_books,
                                  const int32_t* codes, int code_stride, int n_tokens, int dim, float x_scale,
                                  float alpha, int use_pe, const float* inv_freq, int pos0, float* out,
                                  int out_stride, void* stream);
// The positional term alone, added in place (rows produced by another op, e.g. a summed embedding):
//   x[r, :] += alpha * pe(pos(r), :),   pos(r) = d_positions ? d_positions[r] : pos0 + r
// with pe and inv_freq exactly as valle_embed_pos (angle = p * w_i in fp32, sinf / cosf). x: f32 [rows, dim] with
// row stride x_stride; d_positions: DEVICE int32[rows] (one position per row, e.g. per sequence of a decode step)
// or NULL. Added in ABI 4.
VALLE_API int valle_add_positions(float* x, int rows, int dim, int x_stride, float alpha, const float* inv_freq,
                                  int pos0, const int32_t* d_positions, void* stream);

// ---- normalisation ------------------------------------------------------------------------------------------
// Fused residual add + LayerNorm (+ AdaLN), one row per block, fp32 statistics (two-pass mean / variance):
//   if delta:  x[r] += delta[r] (+ delta_bias)      (the residual stream x is updated in place)
//   y[r] = (x[r] - mean) / sqrt(var + eps) * gamma + beta                (gamma/beta may be NULL: 1 / 0)
//   if ada_scale: y[r] = ada_scale * y[r] + ada_shift                    (AdaptiveLayerNorm; both [dim])
// x, delta: f32 [rows, dim] (stride dim); y: y_dtype [rows, dim]. y may alias x only when delta is NULL.
VALLE_API int valle_add_layernorm(float* x, const float* delta, const float* delta_bias, const float* gamma,
                                  const float* beta, const float* ada_scale, const float* ada_shift, float eps,
                                  int y_dtype, void* y, int rows, int dim, void* stream);
// x[r] += delta[r] (+ bias): the residual add when no norm follows. x, delta: f32 [rows, dim].
VALLE_API int valle_add_residual(float* x, const float* delta, const float* bias, int rows, int dim, void* stream);

// ---- LLaMA-block ops (e-c-k-e-r/vall-e), added in ABI 5 ----------------------------------------------------
// fp32 throughout, the CPU engine's LlamaOps semantics (src/VallE.Runtime/Cpu/LlamaOps.cs).
// RMSNorm (HF LlamaRMSNorm in float32), one block per row:
//   y[r, c] = weight[c] * (x[r, c] * (1 / sqrt(mean_c(x[r, c]^2) + eps)))
// x, y: f32 [rows, dim] with row strides x_stride / y_stride; weight: f32 [dim]. y == x (in place) is allowed with
// equal strides; any other overlap is not.
VALLE_API int valle_rms_norm(const float* x, int x_stride, const float* weight, float eps, float* y, int y_stride,
                             int rows, int dim, void* stream);
// Rotary position embedding (HF rotate_half / NeoX form) in place on the q and k column blocks of packed q|k|v rows
// (qkv: f32 [rows, >= 2 * dim] with row stride qkv_stride; columns [0, dim) = q, [dim, 2 * dim) = k; v untouched).
// head_dim = dim / heads (even), half = head_dim / 2; for every q and k head and i < half:
//   angle = (float)p * f_i   (the fp32 product),  p = d_positions[r * position_stride]
//   x[i] <- x[i] cos(angle) - x[i + half] sin(angle),  x[i + half] <- x[i + half] cos(angle) + x[i] sin(angle)
// f_i = theta^(-2i / head_dim) rounded to fp32 (torch's inv_freq). inv_freq: DEVICE [half] table of f_i computed
// on the host exactly as the CPU engine does (both backends then agree on the angle bit for bit); NULL computes
// (float)(1.0 / pow((double)theta, 2.0 * i / head_dim)) on the device (the same formula; pow within 2 ulp in
// double, so the fp32 values almost always agree). d_positions: DEVICE int32 (required: a captured graph replays
// with the positions of each step).
VALLE_API int valle_rope(float* qkv, int qkv_stride, int rows, int dim, int heads, float theta, const float* inv_freq,
                         const int32_t* d_positions, int position_stride, void* stream);
// Gated exact-GELU MLP activation: y[r, i] = gelu(g[r, i]) * g[r, f + i] for the packed gate|up rows g (f32
// [rows, 2f], row stride in_stride) into y (f32 [rows, f], row stride y_stride; must not overlap g), with
// gelu(x) = 0.5 x erfc(-x / sqrt 2) (torch's approximate='none'; erfcf keeps relative accuracy for x << 0).
VALLE_API int valle_gated_gelu(const float* gate_up, int in_stride, float* y, int y_stride, int rows, int f,
                               void* stream);

// ---- attention ----------------------------------------------------------------------------------------------
// Prefill / NAR attention, tiled with an online softmax (never materialises the score matrix).
// Per batch b and head h (head dim hd = dim / n_heads <= 128):
//   out[b, i, h] = softmax_j(scale * q[b, i, h] . k[b, j, h] + mask(i, j)) v[b, j, h]
// Query row i sits at absolute position q_pos0 + i; keys/values j in [0, n_kv).
// VALL-E mask (causal != 0): key j is visible to query position p iff j < n_text || j <= p
//   (text attends to text only; audio attends to all text and causally to audio). causal == 0: all visible.
// q/k/v: dtype rows with strides (in elements) *_stride per row and *_bstride per batch; out: dtype, same shape
// as q with out_stride / out_bstride. q/k/v may be column slices of one fused [T, 3*dim] buffer.
VALLE_API int valle_attention_prefill(int dtype, const void* q, int q_stride, int64_t q_bstride, const void* k,
                                      const void* v, int kv_stride, int64_t kv_bstride, void* out, int out_stride,
                                      int64_t out_bstride, int batch, int n_q, int n_kv, int n_heads, int head_dim,
                                      int q_pos0, int n_text, int causal, float scale, void* stream);

// Decode attention over the KV cache (one query row per batch item), flash-decoding style: the keys are split into
// chunks of VALLE_DECODE_CHUNK, each block reduces one chunk of one head to a partial (max, sum, o[hd]) in
// `partials`, and a combine kernel merges them. The grid is sized for kv_capacity so that a captured graph stays
// valid while the length grows; blocks past the current length exit at once.
// Current length of batch b: d_kv_len ? d_kv_len[b] : n_kv (the new token's K/V must already be appended).
// q: dtype [batch, dim] (row stride q_stride); caches: cache_dtype [batch, kv_capacity, dim]; out: dtype [batch,
// dim] (row stride out_stride). partials: f32 scratch of valle_attention_decode_partials_floats(...) floats.
#define VALLE_DECODE_CHUNK 256
VALLE_API int64_t valle_attention_decode_partials_floats(int batch, int n_heads, int head_dim, int kv_capacity);
VALLE_API int valle_attention_decode(int dtype, const void* q, int q_stride, int cache_dtype, const void* k_cache,
                                     const void* v_cache, int kv_capacity, int n_kv, const int32_t* d_kv_len,
                                     void* out, int out_stride, int batch, int n_heads, int head_dim, float scale,
                                     float* partials, void* stream);

// KV-cache append: copies n_new rows of k and v (f32, row stride src_stride, batch stride src_bstride) into the
// caches ([batch, kv_capacity, dim] of cache_dtype) at rows pos .. pos + n_new - 1, pos = pos0 + (d_pos ?
// d_pos[b] : 0). Rows that would land past kv_capacity are dropped (the host checks capacity before a step).
VALLE_API int valle_kv_append(const float* k, const float* v, int src_stride, int64_t src_bstride, int cache_dtype,
                              void* k_cache, void* v_cache, int kv_capacity, int batch, int n_new, int dim, int pos0,
                              const int32_t* d_pos, void* stream);
// d_counter[i] += delta for i < n: advances per-sequence positions / lengths inside a captured graph.
VALLE_API int valle_counter_add(int32_t* d_counter, int n, int delta, void* stream);

// ---- sampling -----------------------------------------------------------------------------------------------
// Index of the largest logit per row (the first one on ties, as torch.argmax). logits: dtype [rows, vocab].
VALLE_API int valle_argmax(int dtype, const void* logits, int rows, int vocab, int logit_stride, int32_t* out,
                           void* stream);

// One token per row from logits, entirely on the device (vocab <= VALLE_SAMPLE_MAX_VOCAB). The one sampler
// specification, shared with the CPU TokenSampler (docs/engine.md "Sampling"): same seed, counter and logits,
// same token. Per row b:
//  1. argmax of the raw logits -> out_argmax[b] (upstream stops on argmax == EOS as well as sample == EOS)
//  2. repetition penalty over the distinct tokens among the last `rep_window` entries of history[b, :hist_len[b]]:
//     l = l > 0 ? l / penalty : l * penalty   (skipped when penalty == 1 or history == NULL)
//  3. l /= temperature
//  4. sort descending by (logit, then lower index first); top-k (k > 0): keep every logit >= the k-th largest
//  5. top-p (< 1): with p = softmax over the kept, keep sorted entries whose preceding cumulative mass <= top_p
//     (the first entry always stays) -- upstream's shifted `cumulative_probs > top_p` rule
//  6. min-p (> 0): keep entries with p >= min_p * p_max (same top-k distribution; 5 and 6 keep the shorter prefix)
//  7. u = (Philox4x32-10(key = seed, counter = {lo(ctr), hi(ctr), b, 0}).x >> 8) * 2^-24 with ctr = rng_counter[b]
//     (0 when NULL); key word 0 = low 32 bits of seed. Pick
//     the first kept entry in sorted order whose cumulative (unnormalised) mass exceeds u * total
//  8. out_token[b] = token; history[b, hist_len[b]] = token if hist_len[b] < hist_capacity; hist_len[b]++,
//     rng_counter[b]++ (device state advances so a replayed graph draws fresh numbers)
// greedy != 0 applies 2 and takes the argmax of the penalised logits (first index on ties), skipping 3-7, as the
// CPU TokenSampler does. history/hist_len may be NULL (no penalty, no recording).
#define VALLE_SAMPLE_MAX_VOCAB 4096
typedef struct valle_sample_params {
  float temperature;
  int top_k;
  float top_p;
  float min_p;
  float repetition_penalty;
  int rep_window;
  int greedy;
  int hist_capacity;
  uint64_t seed;
} valle_sample_params;
VALLE_API int valle_sample(int dtype, const void* logits, int rows, int vocab, int logit_stride,
                           const valle_sample_params* params, int32_t* history, int32_t* hist_len,
                           uint64_t* rng_counter, int32_t* out_token, int32_t* out_argmax, void* stream);
// The generator valle_sample draws from, exposed so tests and the CPU sampler can reproduce it:
// writes the 4 Philox4x32-10 outputs for (key, counter) to out[0..3] (host function, no device work).
VALLE_API void valle_philox4x32_10(uint64_t key, uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                                   uint32_t* out);
