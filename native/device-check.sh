#!/usr/bin/env bash
# Verifies the CUDA backend on a machine with a GPU in ONE call (for a session that has a device):
#   1. GPU + toolchain facts (nvidia-smi, nvcc, dotnet, compute-sanitizer)
#   2. libvalle_kernels for this GPU's architecture only (nvcc if present; else the carried build/kernels)
#   3. native/tests/kernel_check.cu: every kernel through the C ABI against CPU references (needs only nvcc), then
#      the same under compute-sanitizer memcheck, racecheck and synccheck
#   4. when dotnet is there: the CUDA NUnit suite (tests/VallE.Tests/Cuda: kernels, the CUDA backend, the model on it vs PyTorch
#      and the CPU on every fixture; tests/VallE.Tests/Backends: the op table's CUDA rows, the seed test), and
#      memcheck/racecheck/synccheck over it
#   5. `valle bench --device cuda` when this build's bench command has --device; the CudaDecodeStep BenchmarkDotNet
#      benchmark (12-layer d=1024 decode step, eager vs CUDA graph)
# Every step runs even when an earlier one fails; the last line is "device-check: N passed, M failed" and the exit
# status is the number of failed steps. Logs go to $OUT (the device tool's output folder) or artifacts/device-check.
#   native/device-check.sh [--quick]     --quick: skip the sanitizers (they take most of the time)
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOGS="${OUT:-$ROOT/artifacts/device-check}"
mkdir -p "$LOGS"
QUICK=0; [ "${1:-}" = "--quick" ] && QUICK=1
PASSED=0; FAILED=0
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export VALLE_KERNELS_LIB="$ROOT/build/kernels/libvalle_kernels.so"

step() {  # step NAME COMMAND...: runs, logs to $LOGS/NAME.log, prints one status line
  local name="$1"; shift
  local start=$SECONDS
  if "$@" >"$LOGS/$name.log" 2>&1; then
    PASSED=$((PASSED + 1)); echo "[device-check] PASS $name ($((SECONDS - start)) s)"
  else
    FAILED=$((FAILED + 1)); echo "[device-check] FAIL $name ($((SECONDS - start)) s): tail of $LOGS/$name.log"
    tail -25 "$LOGS/$name.log" | sed 's/^/    /'
  fi
}

find_tool() { command -v "$1" 2>/dev/null || { for d in /usr/local/cuda/bin /usr/lib/nvidia-cuda-toolkit/bin "$HOME/.dotnet"; do [ -x "$d/$1" ] && { echo "$d/$1"; return 0; }; done; return 1; }; }
NVCC="$(find_tool nvcc || true)"
DOTNET="$(find_tool dotnet || true)"
SANITIZER="$(find_tool compute-sanitizer || true)"

facts() {
  nvidia-smi || true
  nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv || true
  echo "nvcc: ${NVCC:-none} $([ -n "$NVCC" ] && "$NVCC" --version | tail -2 | head -1)"
  echo "dotnet: ${DOTNET:-none} $([ -n "$DOTNET" ] && "$DOTNET" --version)"
  echo "compute-sanitizer: ${SANITIZER:-none}"
  ldconfig -p | grep -E 'libcudart|libcublas\.|libcuda\.' || true
}
step facts facts
CAP="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')"
CAP="${CAP:-90}"

build_kernels() {
  if [ -n "$NVCC" ]; then
    VALLE_SKIP_INSTALL=1 VALLE_CUDA_ARCHITECTURES="${CAP}-real" "$ROOT/native/build-kernels.sh" --ci
  else
    echo "no nvcc here: using the carried $VALLE_KERNELS_LIB"
    test -f "$VALLE_KERNELS_LIB" && (cuobjdump --list-elf "$VALLE_KERNELS_LIB" 2>/dev/null || true)
  fi
  test -f "$VALLE_KERNELS_LIB"
}
step kernels build_kernels

KC="$ROOT/build/kernels/kernel_check"
build_kernel_check() {
  [ -n "$NVCC" ] || { echo "no nvcc: cannot build kernel_check"; return 1; }
  local ccbin=()  # CUDA 11.x refuses GCC > 11: use clang++-14 then, as CMakeLists.txt does
  if "$NVCC" --version | grep -q 'release 11\.' && command -v clang++-14 >/dev/null; then ccbin=(-ccbin clang++-14); fi
  "$NVCC" "${ccbin[@]}" -std=c++17 -O2 -arch="sm_${CAP}" native/tests/kernel_check.cu -Inative/kernels -Lbuild/kernels -lvalle_kernels \
    -Xlinker -rpath -Xlinker "$ROOT/build/kernels" -o "$KC"
}
step kernel-check-build build_kernel_check
step kernel-check "$KC"
if [ "$QUICK" = 0 ] && [ -n "$SANITIZER" ] && [ -x "$KC" ]; then
  step kc-memcheck "$SANITIZER" --error-exitcode 99 --print-limit 20 --tool memcheck --leak-check full "$KC"
  step kc-racecheck "$SANITIZER" --error-exitcode 99 --print-limit 20 --tool racecheck "$KC"
  step kc-synccheck "$SANITIZER" --error-exitcode 99 --print-limit 20 --tool synccheck "$KC"
  step kc-initcheck "$SANITIZER" --error-exitcode 99 --print-limit 20 --tool initcheck "$KC"
fi

# No .NET SDK (the lent H200 image): the runtime and the test runner carried in .device/ (prepare-device-carry.sh).
if [ -z "$DOTNET" ] && [ -f "$ROOT/.device/dotnet-rt.tar.xz" ]; then
  mkdir -p /tmp/valle-dotnet && xz -dc "$ROOT/.device/dotnet-rt.tar.xz" | tar -C /tmp/valle-dotnet -xf -
  RUNTIME=/tmp/valle-dotnet/dotnet
  export DOTNET_ROOT=/tmp/valle-dotnet VALLE_SHARED="$ROOT/.device/shared"
  RUNNER=("$RUNTIME" "$ROOT/.device/runner/VallE.CudaTestRunner.dll")
  step cuda-tests "${RUNNER[@]}"
  if [ "$QUICK" = 0 ] && [ -n "$SANITIZER" ]; then
    step memcheck "$SANITIZER" --error-exitcode 99 --print-limit 20 --tool memcheck "${RUNNER[@]}"
    step racecheck "$SANITIZER" --error-exitcode 99 --print-limit 20 --tool racecheck "${RUNNER[@]}" 'Cuda(Attention|Sampling|EmbeddingNorm)Tests'
  fi
fi
if [ -z "$DOTNET" ]; then
  [ -f "$ROOT/.device/dotnet-rt.tar.xz" ] || echo "[device-check] SKIP the C# suite: no dotnet and no .device/ (run native/prepare-device-carry.sh, carry .device)"
  echo "device-check: $PASSED passed, $FAILED failed (logs in $LOGS)"
  exit "$FAILED"
fi
build_dotnet() { "$DOTNET" build VallE.sln -c Release -nologo -clp:ErrorsOnly -v:quiet; }
step dotnet-build build_dotnet

cuda_tests() {  # cuda_tests FILTER [wrapper...]
  local filter="$1"; shift
  "$@" "$DOTNET" test tests/VallE.Tests/VallE.Tests.csproj -c Release --no-build -nologo \
    --filter "$filter" --logger "console;verbosity=normal" --results-directory "$LOGS" --logger "trx" 2>&1 \
    | tee /dev/stderr | grep -E '^\s*(Failed|Skipped) |Total tests|Passed:|Failed:|Skipped:'
  # A run where the GPU tests were skipped is a failure here: this script exists to run them.
  ! grep -q 'no CUDA device' "$LOGS"/*.trx 2>/dev/null || { echo "the CUDA tests were skipped: see the reason above"; return 1; }
}
step cuda-tests cuda_tests "FullyQualifiedName~VallE.Tests.Cuda|FullyQualifiedName~VallE.Tests.Backends"

if [ "$QUICK" = 0 ]; then
  if [ -n "$SANITIZER" ]; then
    # dotnet test runs the tests in a child (testhost): the sanitizer must follow child processes.
    SAN=("$SANITIZER" --target-processes all --error-exitcode 99 --print-limit 20)
    step memcheck cuda_tests "FullyQualifiedName~VallE.Tests.Cuda|FullyQualifiedName~VallE.Tests.Backends" "${SAN[@]}" --tool memcheck --leak-check full
    step racecheck cuda_tests "FullyQualifiedName~CudaAttentionTests|FullyQualifiedName~CudaSamplingTests|FullyQualifiedName~CudaEmbeddingNormTests" "${SAN[@]}" --tool racecheck
    step synccheck cuda_tests "FullyQualifiedName~CudaAttentionTests|FullyQualifiedName~CudaSamplingTests" "${SAN[@]}" --tool synccheck
  else
    echo "[device-check] SKIP sanitizers: compute-sanitizer not found"
  fi
fi

bench() {
  local valle=("$DOTNET" "$ROOT/src/VallE.Cli/bin/Release/net10.0/valle.dll")
  if "${valle[@]}" bench --help 2>/dev/null | grep -q -- '--device'; then
    "${valle[@]}" bench --device cuda
  else
    echo "this build's 'valle bench' has no --device option yet: nothing to run"
  fi
}
step bench bench

cuda_benchmarks() {  # decode step latency, eager vs graph, side by side in one run
  timeout 900 "$DOTNET" run -c Release --no-build --project bench/VallE.Bench -- \
    --filter '*CudaDecodeStep*' --inProcess --job short --artifacts "$LOGS/bdn" | tee "$LOGS/bdn-out.txt"
  # BenchmarkDotNet exits 0 when a GlobalSetup throws: only a run that executed benchmarks counts.
  ! grep -q 'executed benchmarks: 0' "$LOGS/bdn-out.txt"
}
step cuda-benchmarks cuda_benchmarks

echo "device-check: $PASSED passed, $FAILED failed (logs in $LOGS)"
exit "$FAILED"
