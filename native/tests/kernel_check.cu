// Standalone GPU check of libvalle_kernels through its C ABI, against CPU references: for machines that have a GPU
// and nvcc but no .NET (the C# suite in tests/VallE.Tests/Cuda covers the same ground more thoroughly). It links
// the host's own CUDA runtime while the library carries a static one, so it also exercises sharing device
// pointers, streams and graph capture across the two.
//   nvcc -std=c++17 -arch=sm_90 native/tests/kernel_check.cu -Inative/kernels -Lbuild/kernels -lvalle_kernels -o kc
//   LD_LIBRARY_PATH=build/kernels ./kc        (exit status = number of failed checks)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "valle_kernels.h"

static int g_failed = 0, g_passed = 0;
static cudaStream_t g_stream;

#define CUDA_OK(call)                                                                              \
  do {                                                                                             \
    int rc_ = (int)(call);                                                                         \
    if (rc_ != 0) {                                                                                \
      std::printf("  error %d (%s) at %s:%d: %s\n", rc_, cudaGetErrorString((cudaError_t)rc_), __FILE__, \
                  __LINE__, #call);                                                                \
      std::exit(100);                                                                              \
    }                                                                                              \
  } while (0)

static void check(bool ok, const char* what) {
  if (ok) {
    g_passed++;
  } else {
    g_failed++;
    std::printf("FAIL %s\n", what);
  }
}

// Uniform in [-scale, scale) from a 64-bit LCG (<random> does not compile under nvcc 11.8 with GCC 12's headers).
static std::vector<float> rnd(size_t n, unsigned seed, float scale = 1.f) {
  uint64_t s = 0x9E3779B97F4A7C15ull * (seed + 1);
  std::vector<float> v(n);
  for (auto& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = ((float)(s >> 40) * 0x1p-24f * 2.f - 1.f) * scale;
  }
  return v;
}

template <typename T> static T* up(const std::vector<T>& v) {
  T* p = nullptr;
  CUDA_OK(cudaMalloc(&p, std::max<size_t>(1, v.size() * sizeof(T))));
  CUDA_OK(cudaMemcpy(p, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice));
  return p;
}

template <typename T> static std::vector<T> down(const T* p, size_t n) {
  CUDA_OK(cudaStreamSynchronize(g_stream));
  std::vector<T> v(n);
  CUDA_OK(cudaMemcpy(v.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost));
  return v;
}

static float bf16_round(float x) { return __bfloat162float(__float2bfloat16(x)); }
static float f16_round(float x) { return __half2float(__float2half(x)); }

static bool close(const std::vector<float>& a, const std::vector<float>& e, float tol, const char* what) {
  for (size_t i = 0; i < e.size(); i++) {
    if (!(std::fabs(a[i] - e[i]) <= tol * std::max(1.f, std::fabs(e[i])))) {
      std::printf("  %s: element %zu got %g expected %g\n", what, i, a[i], e[i]);
      return false;
    }
  }
  return true;
}

static float sine_pe(int p, int c, int dim) {
  float coef = (float)(-(std::log(10000.0) / dim));
  float w = std::exp((float)(2 * (c / 2)) * coef);
  float a = (float)p * w;
  return (c & 1) ? std::cos(a) : std::sin(a);
}

static void test_bias_act() {
  for (int rows : {1, 7, 33})
    for (int cols : {1, 5, 1027}) {
      auto x = rnd(rows * cols, 1), b = rnd(cols, 2);
      float *dx = up(x), *db = up(b), *dy;
      CUDA_OK(cudaMalloc(&dy, x.size() * 4));
      CUDA_OK(valle_bias_act(VALLE_DTYPE_F32, dx, db, dy, rows, cols, VALLE_ACT_RELU, g_stream));
      std::vector<float> e(x.size());
      for (size_t i = 0; i < e.size(); i++) e[i] = std::max(0.f, x[i] + b[i % cols]);
      check(close(down(dy, e.size()), e, 1e-6f, "bias_relu"), "bias_act f32");
      cudaFree(dx); cudaFree(db); cudaFree(dy);
    }
}

static void test_embed(bool device_pos) {
  const int vocab = 37, dim = 1024, n = 64, pos0 = 3, dpos = 11;
  auto table = rnd(vocab * dim, 3);
  std::vector<int> tok(n);
  for (int i = 0; i < n; i++) tok[i] = (i * 7) % vocab;
  float* dt = up(table);
  int *dk = up(tok), *dp = up(std::vector<int>{dpos});
  float* out;
  CUDA_OK(cudaMalloc(&out, n * dim * 4));
  CUDA_OK(valle_embed_pos(VALLE_DTYPE_F32, dt, vocab, dk, n, dim, 2.f, 0.7f, 1, nullptr, pos0, device_pos ? dp : nullptr,
                          out, dim, g_stream));
  std::vector<float> e(n * dim);
  int start = pos0 + (device_pos ? dpos : 0);
  for (int t = 0; t < n; t++)
    for (int c = 0; c < dim; c++) e[t * dim + c] = table[tok[t] * dim + c] * 2.f + 0.7f * sine_pe(start + t, c, dim);
  check(close(down(out, e.size()), e, 1e-4f, "embed_pos"), device_pos ? "embed_pos device position" : "embed_pos");
  cudaFree(dt); cudaFree(dk); cudaFree(dp); cudaFree(out);
}

static void test_embed_sum() {
  const int books = 8, dim = 48, n = 77, stride = 8, pos0 = 20;
  std::vector<float*> tables(books);
  std::vector<std::vector<float>> host(books);
  std::vector<int> vocabs(books);
  for (int b = 0; b < books; b++) {
    vocabs[b] = b == 0 ? 1025 : 1024;
    host[b] = rnd(vocabs[b] * dim, 10 + b);
    tables[b] = up(host[b]);
  }
  std::vector<int> codes(n * stride);
  for (size_t i = 0; i < codes.size(); i++) codes[i] = (int)((i * 131) % 1024);
  float** dtab = up(tables);
  int *dv = up(vocabs), *dc = up(codes);
  float* out;
  CUDA_OK(cudaMalloc(&out, n * dim * 4));
  CUDA_OK(valle_embed_sum_pos(VALLE_DTYPE_F32, (const void* const*)dtab, dv, books, dc, stride, n, dim, 1.f, 1.3f, 1,
                              nullptr, pos0, out, dim, g_stream));
  std::vector<float> e(n * dim);
  for (int t = 0; t < n; t++)
    for (int c = 0; c < dim; c++) {
      float acc = 0;
      for (int b = 0; b < books; b++) acc += host[b][codes[t * stride + b] * dim + c];
      e[t * dim + c] = acc + 1.3f * sine_pe(pos0 + t, c, dim);
    }
  check(close(down(out, e.size()), e, 1e-4f, "embed_sum_pos"), "embed_sum_pos");
  for (auto p : tables) cudaFree(p);
  cudaFree(dtab); cudaFree(dv); cudaFree(dc); cudaFree(out);
}

// valle_add_positions: in place, with a row stride wider than dim, a host inv_freq table (as the backend passes
// SinePositions.Frequencies) and positions from pos0 or from a device column.
static void test_add_positions(bool device_positions) {
  const int rows = 9, dim = 1027, stride = 1100, pos0 = 5;
  const float alpha = 0.6f;
  auto x = rnd(rows * stride, 21);
  std::vector<float> inv((dim + 1) / 2);
  float coef = (float)(-(std::log(10000.0) / dim));
  for (size_t i = 0; i < inv.size(); i++) inv[i] = std::exp((float)(2 * i) * coef);
  std::vector<int> positions(rows);
  for (int r = 0; r < rows; r++) positions[r] = (r * 37 + 3) % 500;
  float *dx = up(x), *dinv = up(inv);
  int* dpos = up(positions);
  CUDA_OK(valle_add_positions(dx, rows, dim, stride, alpha, dinv, pos0, device_positions ? dpos : nullptr, g_stream));
  std::vector<float> e = x;
  for (int r = 0; r < rows; r++) {
    int p = device_positions ? positions[r] : pos0 + r;
    for (int c = 0; c < dim; c++) {
      float a = (float)p * inv[c / 2];
      e[r * stride + c] += alpha * ((c & 1) ? std::cos(a) : std::sin(a));
    }
  }
  // Columns past dim (the stride's padding) must stay untouched: compared exactly through e.
  check(close(down(dx, e.size()), e, 1e-5f, "add_positions"),
        device_positions ? "add_positions device positions" : "add_positions pos0");
  cudaFree(dx); cudaFree(dinv); cudaFree(dpos);
}

// ---- LLaMA-block ops (ABI 5), against the CPU engine's LlamaOps (src/VallE.Runtime/Cpu/LlamaOps.cs) ----------

static void test_rms_norm(bool in_place) {
  for (int dim : {1, 17, 64, 1024, 1027}) {
    const int rows = 5, stride = dim + 3;
    const float eps = 1e-5f;
    auto x = rnd(rows * stride, 40, 3.f), w = rnd(dim, 41);
    float *dx = up(x), *dw = up(w), *dy = dx;
    if (!in_place) CUDA_OK(cudaMalloc(&dy, x.size() * 4));
    if (!in_place) CUDA_OK(cudaMemcpy(dy, x.data(), x.size() * 4, cudaMemcpyHostToDevice));  // padding kept
    CUDA_OK(valle_rms_norm(dx, stride, dw, eps, dy, stride, rows, dim, g_stream));
    std::vector<float> e = x;
    for (int r = 0; r < rows; r++) {
      double sum = 0;
      for (int c = 0; c < dim; c++) sum += (double)x[r * stride + c] * x[r * stride + c];
      float scale = 1.f / std::sqrt((float)(sum / dim) + eps);
      for (int c = 0; c < dim; c++) e[r * stride + c] = w[c] * (x[r * stride + c] * scale);
    }
    check(close(down(dy, e.size()), e, 1e-5f, "rms_norm"), in_place ? "rms_norm in place" : "rms_norm");
    if (!in_place) cudaFree(dy);
    cudaFree(dx); cudaFree(dw);
  }
}

static void test_rope(bool host_table) {
  const int heads = 4, hd = 32, dim = heads * hd, rows = 7, stride = 3 * dim, half = hd / 2;
  const float theta = 10000.f;
  auto qkv = rnd(rows * stride, 42, 2.f);
  std::vector<float> inv(half);
  for (int i = 0; i < half; i++) inv[i] = (float)(1.0 / std::pow((double)theta, 2.0 * i / hd));
  const int pstride = 2;  // a wider int column: the position is its first value
  std::vector<int> pos(rows * pstride, -1);
  for (int r = 0; r < rows; r++) pos[r * pstride] = (r * 131 + 5) % 3000;
  float *dq = up(qkv), *dinv = up(inv);
  int* dp = up(pos);
  CUDA_OK(valle_rope(dq, stride, rows, dim, heads, theta, host_table ? dinv : nullptr, dp, pstride, g_stream));
  std::vector<float> e = qkv;
  for (int r = 0; r < rows; r++) {
    int p = pos[r * pstride];
    for (int h = 0; h < 2 * heads; h++) {
      float* x = &e[r * stride + h * hd];
      for (int i = 0; i < half; i++) {
        float a = (float)p * inv[i], c = std::cos(a), sn = std::sin(a);
        float x0 = x[i], x1 = x[i + half];
        x[i] = x0 * c - x1 * sn;
        x[i + half] = x1 * c + x0 * sn;
      }
    }
  }
  // v (columns 2 dim .. 3 dim) must be untouched: compared through e. Angles up to 3000 rad: sinf/cosf vs the host's
  // differ by a few ulp of the result, not of the angle.
  check(close(down(dq, e.size()), e, 2e-5f, "rope"), host_table ? "rope host table" : "rope device frequencies");
  cudaFree(dq); cudaFree(dinv); cudaFree(dp);
}

static void test_gated_gelu() {
  for (int f : {1, 33, 2816}) {
    const int rows = 6;
    auto g = rnd(rows * 2 * f, 43, 6.f);
    float *dg = up(g), *dy;
    CUDA_OK(cudaMalloc(&dy, rows * f * 4));
    CUDA_OK(valle_gated_gelu(dg, 2 * f, dy, f, rows, f, g_stream));
    std::vector<float> e(rows * f);
    for (int r = 0; r < rows; r++)
      for (int i = 0; i < f; i++) {
        double x = g[r * 2 * f + i];
        e[r * f + i] = (float)(0.5 * x * std::erfc(-x * 0.70710678118654752440)) * g[r * 2 * f + f + i];
      }
    check(close(down(dy, e.size()), e, 1e-5f, "gated_gelu"), "gated_gelu");
    cudaFree(dg); cudaFree(dy);
  }
  // Strongly negative gates: erfc keeps the tiny GELU values' relative accuracy (1 + erf would cancel to 0).
  std::vector<float> g = {-9.f, -5.f, -3.5f, 1.f, 1.f, 1.f};
  float *dg = up(g), *dy;
  CUDA_OK(cudaMalloc(&dy, 3 * 4));
  CUDA_OK(valle_gated_gelu(dg, 6, dy, 3, 1, 3, g_stream));
  auto y = down(dy, 3);
  bool ok = true;
  for (int i = 0; i < 3; i++) {
    double x = g[i], want = 0.5 * x * std::erfc(-x * 0.70710678118654752440);
    if (!(std::fabs(y[i] - want) <= 2e-5 * std::fabs(want))) {
      std::printf("  gated_gelu tail: x %g got %g expected %g\n", x, y[i], want);
      ok = false;
    }
  }
  check(ok, "gated_gelu negative tail");
  cudaFree(dg); cudaFree(dy);
}

static void test_layernorm(bool delta, bool ada) {
  for (int dim : {1, 17, 1024, 1027}) {
    const int rows = 3;
    auto x = rnd(rows * dim, 20, 3.f), d = rnd(rows * dim, 21), db = rnd(dim, 22), g = rnd(dim, 23), b = rnd(dim, 24),
         s = rnd(dim, 25), sh = rnd(dim, 26);
    float *dx = up(x), *dd = up(d), *ddb = up(db), *dg = up(g), *dbb = up(b), *ds = up(s), *dsh = up(sh), *dy;
    CUDA_OK(cudaMalloc(&dy, x.size() * 4));
    CUDA_OK(valle_add_layernorm(dx, delta ? dd : nullptr, delta ? ddb : nullptr, dg, dbb, ada ? ds : nullptr,
                                ada ? dsh : nullptr, 1e-5f, VALLE_DTYPE_F32, dy, rows, dim, g_stream));
    std::vector<float> e(x.size()), res(x.size());
    for (int r = 0; r < rows; r++) {
      double mean = 0, sq = 0;
      for (int c = 0; c < dim; c++) {
        int i = r * dim + c;
        res[i] = delta ? x[i] + (d[i] + db[c]) : x[i];
        mean += res[i];
      }
      mean /= dim;
      for (int c = 0; c < dim; c++) sq += (res[r * dim + c] - mean) * (res[r * dim + c] - mean);
      double rstd = 1 / std::sqrt(sq / dim + 1e-5);
      for (int c = 0; c < dim; c++) {
        double v = (res[r * dim + c] - mean) * rstd * g[c] + b[c];
        if (ada) v = s[c] * v + sh[c];
        e[r * dim + c] = (float)v;
      }
    }
    check(close(down(dx, x.size()), res, 1e-6f, "residual") && close(down(dy, e.size()), e, 1e-4f, "layernorm"),
          "add_layernorm");
    for (float* p : {dx, dd, ddb, dg, dbb, ds, dsh, dy}) cudaFree(p);
  }
}

// softmax(q k^T * scale + mask) v for one head, double precision.
static void ref_attention(const std::vector<float>& q, int qoff, int qs, const std::vector<float>& k, int koff,
                          const std::vector<float>& v, int voff, int kvs, int nq, int nkv, int hd, int qpos0,
                          int ntext, bool causal, float scale, std::vector<float>& out, int ooff, int os) {
  std::vector<double> s(nkv);
  for (int i = 0; i < nq; i++) {
    int p = qpos0 + i;
    double m = -INFINITY;
    for (int j = 0; j < nkv; j++) {
      bool vis = !causal || j < ntext || j <= p;
      s[j] = -INFINITY;
      if (!vis) continue;
      double dot = 0;
      for (int c = 0; c < hd; c++) dot += (double)q[qoff + i * qs + c] * k[koff + j * kvs + c];
      s[j] = dot * scale;
      m = std::max(m, s[j]);
    }
    double sum = 0;
    for (int j = 0; j < nkv; j++) sum += s[j] = std::isinf(s[j]) ? 0 : std::exp(s[j] - m);
    for (int c = 0; c < hd; c++) {
      double acc = 0;
      for (int j = 0; j < nkv; j++) acc += s[j] * v[voff + j * kvs + c];
      out[ooff + i * os + c] = (float)(acc / sum);
    }
  }
}

static void test_prefill(int batch, int T, int ntext, int heads, int hd, bool causal) {
  int dim = heads * hd, row = 3 * dim;
  float scale = 1.f / std::sqrt((float)hd);
  auto qkv = rnd((size_t)batch * T * row, 30 + T, 2.f);
  float* d = up(qkv);
  float* out;
  CUDA_OK(cudaMalloc(&out, (size_t)batch * T * dim * 4));
  CUDA_OK(valle_attention_prefill(VALLE_DTYPE_F32, d, row, (int64_t)T * row, d + dim, d + 2 * dim, row, (int64_t)T * row,
                                  out, dim, (int64_t)T * dim, batch, T, T, heads, hd, 0, ntext, causal, scale, g_stream));
  std::vector<float> e((size_t)batch * T * dim);
  for (int b = 0; b < batch; b++)
    for (int h = 0; h < heads; h++)
      ref_attention(qkv, b * T * row + h * hd, row, qkv, b * T * row + dim + h * hd, qkv, b * T * row + 2 * dim + h * hd,
                    row, T, T, hd, 0, ntext, causal, scale, e, b * T * dim + h * hd, dim);
  char what[128];
  std::snprintf(what, sizeof what, "attention_prefill b%d T%d text%d h%dx%d causal=%d", batch, T, ntext, heads, hd, causal);
  check(close(down(out, e.size()), e, 1e-5f, what), what);
  cudaFree(d); cudaFree(out);
}

static void test_decode(int batch, int cap, std::vector<int> lens, int heads, int hd, int cache_dtype) {
  int dim = heads * hd, maxlen = *std::max_element(lens.begin(), lens.end());
  float scale = 1.f / std::sqrt((float)hd);
  auto k = rnd((size_t)batch * maxlen * dim, 40, 2.f), v = rnd((size_t)batch * maxlen * dim, 41), q = rnd(batch * dim, 42, 2.f);
  float *dk = up(k), *dv = up(v), *dq = up(q), *out;
  int es = cache_dtype == VALLE_DTYPE_F32 ? 4 : 2;
  void *kc, *vc;
  CUDA_OK(cudaMalloc(&kc, (size_t)batch * cap * dim * es));
  CUDA_OK(cudaMalloc(&vc, (size_t)batch * cap * dim * es));
  CUDA_OK(cudaMemset(kc, 0xff, (size_t)batch * cap * dim * es));  // NaN: rows past a length must never be read
  CUDA_OK(cudaMemset(vc, 0xff, (size_t)batch * cap * dim * es));
  CUDA_OK(valle_kv_append(dk, dv, dim, (int64_t)maxlen * dim, cache_dtype, kc, vc, cap, batch, maxlen, dim, 0, nullptr, g_stream));
  int* dl = up(lens);
  std::vector<float> partials(std::max<int64_t>(1, valle_attention_decode_partials_floats(batch, heads, hd, cap)));
  float* dp = up(partials);
  CUDA_OK(cudaMalloc(&out, batch * dim * 4));
  CUDA_OK(valle_attention_decode(VALLE_DTYPE_F32, dq, dim, cache_dtype, kc, vc, cap, maxlen, dl, out, dim, batch, heads, hd,
                                 scale, dp, g_stream));
  auto kq = k, vq = v;
  if (cache_dtype != VALLE_DTYPE_F32)
    for (size_t i = 0; i < k.size(); i++) {
      kq[i] = cache_dtype == VALLE_DTYPE_F16 ? f16_round(k[i]) : bf16_round(k[i]);
      vq[i] = cache_dtype == VALLE_DTYPE_F16 ? f16_round(v[i]) : bf16_round(v[i]);
    }
  std::vector<float> e(batch * dim);
  for (int b = 0; b < batch; b++)
    for (int h = 0; h < heads; h++)
      ref_attention(q, b * dim + h * hd, dim, kq, b * maxlen * dim + h * hd, vq, b * maxlen * dim + h * hd, dim, 1, lens[b], hd,
                    lens[b] - 1, 0, false, scale, e, b * dim + h * hd, dim);
  char what[128];
  std::snprintf(what, sizeof what, "attention_decode b%d cap%d len0=%d h%dx%d cache=%d", batch, cap, lens[0], heads, hd, cache_dtype);
  check(close(down(out, e.size()), e, cache_dtype == VALLE_DTYPE_F32 ? 1e-5f : 1e-5f, what), what);
  for (void* p : {(void*)dk, (void*)dv, (void*)dq, (void*)out, kc, vc, (void*)dl, (void*)dp}) cudaFree(p);
}

static void test_sampling() {
  const int rows = 64, vocab = 1025;
  auto logits = rnd(rows * vocab, 50, 4.f);
  logits[5] = logits[900] = 9.f;  // a tie in row 0: the first index wins
  float* dl = up(logits);
  int *tok, *amax;
  CUDA_OK(cudaMalloc(&tok, rows * 4));
  CUDA_OK(cudaMalloc(&amax, rows * 4));
  CUDA_OK(valle_argmax(VALLE_DTYPE_F32, dl, rows, vocab, vocab, amax, g_stream));
  auto a = down(amax, rows);
  bool ok = true;
  for (int r = 0; r < rows; r++)
    ok &= a[r] == (int)(std::max_element(logits.begin() + r * vocab, logits.begin() + (r + 1) * vocab) - logits.begin() - r * vocab);
  check(ok && a[0] == 5, "argmax (first index on ties)");

  valle_sample_params p{};
  p.temperature = 1.f; p.top_k = 1; p.top_p = 1.f; p.repetition_penalty = 1.f; p.greedy = 1; p.seed = 7;
  CUDA_OK(valle_sample(VALLE_DTYPE_F32, dl, rows, vocab, vocab, &p, nullptr, nullptr, nullptr, tok, nullptr, g_stream));
  check(down(tok, rows) == a, "sample greedy == argmax");
  p.greedy = 0; p.top_k = -100; p.top_p = 1e-6f;
  CUDA_OK(valle_sample(VALLE_DTYPE_F32, dl, rows, vocab, vocab, &p, nullptr, nullptr, nullptr, tok, nullptr, g_stream));
  check(down(tok, rows) == a, "sample top_p -> top token");
  p.top_p = 1.f; p.top_k = 3;
  std::vector<uint64_t> ctr(rows, 0);
  uint64_t* dc = up(ctr);
  bool within = true;
  for (int it = 0; it < 20; it++) {
    CUDA_OK(valle_sample(VALLE_DTYPE_F32, dl, rows, vocab, vocab, &p, nullptr, nullptr, dc, tok, nullptr, g_stream));
    auto t = down(tok, rows);
    for (int r = 0; r < rows; r++) {
      std::vector<float> row(logits.begin() + r * vocab, logits.begin() + (r + 1) * vocab);
      std::vector<float> sorted = row;
      std::sort(sorted.begin(), sorted.end(), std::greater<float>());
      within &= row[t[r]] >= sorted[2];
    }
  }
  check(within, "sample top_k=3 stays in the top 3");
  check(down(dc, rows)[0] == 20, "sample advances the RNG counter");

  // Distribution: 8192 rows of logits [2, 1, 0, -1].
  const int n = 8192;
  std::vector<float> four;
  for (int i = 0; i < n; i++) four.insert(four.end(), {2.f, 1.f, 0.f, -1.f});
  float* d4 = up(four);
  int* t4;
  CUDA_OK(cudaMalloc(&t4, n * 4));
  p.top_k = -100;
  CUDA_OK(valle_sample(VALLE_DTYPE_F32, d4, n, 4, 4, &p, nullptr, nullptr, nullptr, t4, nullptr, g_stream));
  auto t = down(t4, n);
  double z = std::exp(2.) + std::exp(1.) + 1 + std::exp(-1.);
  bool dist = true;
  for (int k = 0; k < 4; k++) {
    double pk = std::exp(2. - k) / z, obs = std::count(t.begin(), t.end(), k) / (double)n;
    dist &= std::fabs(obs - pk) < 5 * std::sqrt(pk * (1 - pk) / n);
  }
  check(dist, "sample distribution within 5 sigma");
  for (void* q : {(void*)dl, (void*)tok, (void*)amax, (void*)dc, (void*)d4, (void*)t4}) cudaFree(q);
}

// A graph captured from this program's runtime with the library's kernels, replayed with a device-side position.
static void test_graph() {
  const int vocab = 9, dim = 16;
  auto table = rnd(vocab * dim, 60);
  float* dt = up(table);
  int *tok = up(std::vector<int>{4}), *pos = up(std::vector<int>{10});
  float* out;
  CUDA_OK(cudaMalloc(&out, dim * 4));
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  CUDA_OK(cudaStreamBeginCapture(g_stream, cudaStreamCaptureModeThreadLocal));
  CUDA_OK(valle_counter_add(pos, 1, 1, g_stream));
  CUDA_OK(valle_embed_pos(VALLE_DTYPE_F32, dt, vocab, tok, 1, dim, 1.f, 1.f, 1, nullptr, 0, pos, out, dim, g_stream));
  CUDA_OK(cudaStreamEndCapture(g_stream, &graph));
  CUDA_OK(cudaGraphInstantiateWithFlags(&exec, graph, 0));
  bool ok = down(pos, 1)[0] == 10;
  for (int step = 1; step <= 3; step++) {
    CUDA_OK(cudaGraphLaunch(exec, g_stream));
    std::vector<float> e(dim);
    for (int c = 0; c < dim; c++) e[c] = table[4 * dim + c] + sine_pe(10 + step, c, dim);
    ok &= close(down(out, dim), e, 1e-5f, "graph replay");
  }
  check(ok, "graph capture + replay with device-side position");
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaFree(dt); cudaFree(tok); cudaFree(pos); cudaFree(out);
}

int main() {
  int dev = 0;
  CUDA_OK(cudaSetDevice(dev));
  CUDA_OK(valle_set_device(dev));
  check(valle_kernels_abi_version() == VALLE_KERNELS_ABI_VERSION, "ABI version");
  CUDA_OK(cudaStreamCreateWithFlags(&g_stream, cudaStreamNonBlocking));
  test_bias_act();
  test_embed(false);
  test_embed(true);
  test_embed_sum();
  test_add_positions(false);
  test_add_positions(true);
  for (bool delta : {false, true})
    for (bool ada : {false, true}) test_layernorm(delta, ada);
  for (bool in_place : {false, true}) test_rms_norm(in_place);
  test_rope(true);
  test_rope(false);
  test_gated_gelu();
  test_prefill(1, 1, 1, 1, 64, true);
  test_prefill(1, 7, 3, 2, 8, true);
  test_prefill(2, 37, 11, 4, 64, true);
  test_prefill(1, 300, 45, 16, 64, true);
  test_prefill(1, 50, 0, 2, 128, true);
  test_prefill(2, 33, 33, 3, 16, false);
  test_decode(1, 1, {1}, 1, 64, VALLE_DTYPE_F32);
  for (int len : {255, 256, 257}) test_decode(1, 300, {len}, 2, 64, VALLE_DTYPE_F32);
  test_decode(3, 2048, {2048, 1, 1000}, 16, 64, VALLE_DTYPE_F32);
  test_decode(2, 1000, {700, 3}, 4, 32, VALLE_DTYPE_BF16);
  test_decode(2, 1000, {700, 3}, 4, 32, VALLE_DTYPE_F16);
  test_sampling();
  test_graph();
  CUDA_OK(cudaDeviceSynchronize());
  std::printf("kernel_check: %d passed, %d failed\n", g_passed, g_failed);
  return g_failed;
}
