// C ABI of libvalle_kernels: launchers that take device pointers, sizes and a CUDA stream.
// Every function returns a cudaError_t as int (0 = success) so that C# can turn failures into exceptions.
#pragma once
#include <stdint.h>

#if defined(_WIN32)
#define VALLE_API extern "C" __declspec(dllexport)
#else
#define VALLE_API extern "C" __attribute__((visibility("default")))
#endif

// ABI version: bumped whenever a signature changes; C# refuses a library whose version differs.
#define VALLE_KERNELS_ABI_VERSION 1
VALLE_API int valle_kernels_abi_version(void);

// y[i] = max(x[i] + bias[i % cols], 0) over a rows x cols row-major matrix (in place allowed).
VALLE_API int valle_bias_relu_f32(const float* x, const float* bias, float* y, int rows, int cols, void* stream);
