#!/usr/bin/env bash
# Compiles native/kernels into libvalle_kernels.so with nvcc (via CMake).
# Installs Debian's nvidia-cuda-toolkit (contrib/non-free) when no nvcc is found, unless VALLE_SKIP_INSTALL=1.
#   native/build-kernels.sh [--ci]     --ci: fail if nvcc cannot be had (CI must prove the kernels compile)
# Environment: VALLE_CUDA_ARCHITECTURES (CMake list, default "80-real;86-real;89-real;90-real;90-virtual") picks the
# GPUs to compile for; during development one, e.g. VALLE_CUDA_ARCHITECTURES=90-real, saves most of the time.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build/kernels"
CI_MODE=0; [ "${1:-}" = "--ci" ] && CI_MODE=1
log() { printf '\033[1m[kernels]\033[0m %s\n' "$*" >&2; }
SUDO=""; if [ "$(id -u)" -ne 0 ]; then command -v sudo >/dev/null && SUDO="sudo"; fi

find_nvcc() {
  command -v nvcc 2>/dev/null && return 0
  for d in /usr/local/cuda/bin /usr/lib/nvidia-cuda-toolkit/bin; do [ -x "$d/nvcc" ] && { echo "$d/nvcc"; return 0; }; done
  return 1
}

install_cuda_toolkit() {
  [ "${VALLE_SKIP_INSTALL:-0}" = 1 ] && return 1
  command -v apt-get >/dev/null || return 1
  log "installing Debian's nvidia-cuda-toolkit (enabling contrib non-free; takes a few minutes)"
  local src=/etc/apt/sources.list.d/debian.sources
  if [ -f "$src" ] && ! grep -q 'non-free' "$src"; then
    # deb822 format: add the components to the deb.debian.org/debian entry only.
    $SUDO sed -i '/URIs: http:\/\/deb.debian.org\/debian$/,/^Components:/ s/^Components: main$/Components: main contrib non-free non-free-firmware/' "$src"
  elif [ -f /etc/apt/sources.list ] && ! grep -q 'contrib' /etc/apt/sources.list; then
    $SUDO sed -i 's/^\(deb .*deb.debian.org\/debian .*\) main$/\1 main contrib non-free non-free-firmware/' /etc/apt/sources.list
  fi
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    nvidia-cuda-toolkit nvidia-cuda-dev clang-14 cmake make >/dev/null
}

NVCC="$(find_nvcc || true)"
if [ -z "$NVCC" ]; then install_cuda_toolkit || true; NVCC="$(find_nvcc || true)"; fi
if [ -z "$NVCC" ]; then
  if [ "$CI_MODE" = 1 ]; then log "error: no nvcc available; cannot compile the kernels"; exit 1; fi
  log "no CUDA compiler found: skipping the kernels (the runtime falls back to the CPU)"; exit 0
fi
log "nvcc: $NVCC ($("$NVCC" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p'))"
ARCHS="${VALLE_CUDA_ARCHITECTURES:-80-real;86-real;89-real;90-real;90-virtual}"
log "architectures: $ARCHS"
# Passed explicitly every time: a value cached by an earlier configure must not silently win.
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_COMPILER="$NVCC" \
  -DVALLE_CUDA_ARCHITECTURES="$ARCHS" >/dev/null
cmake --build "$BUILD" -j "$(nproc)"
log "built: $(ls "$BUILD"/libvalle_kernels.so* 2>/dev/null | head -1)"
