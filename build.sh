#!/usr/bin/env bash
# VallE.NET build entry point (Linux). Thin on purpose: it installs what is missing, builds, and runs.
#
#   ./build.sh test      install deps, build Release, run the NUnit suite, print "N passed, N failed, N skipped"
#   ./build.sh demo      install deps, build, and show what the product does today (untrained demo model)
#   ./build.sh build     build Release only
#   ./build.sh kernels   compile native/kernels with nvcc (installs Debian's nvidia-cuda-toolkit if needed)
#   ./build.sh deps      install dependencies only
#   ./build.sh bench     run `valle bench` (CPU) against the PyTorch references
#   ./build.sh pack      NuGet packages VallE.Weights + VallE.Runtime into artifacts/packages
#   ./build.sh publish   the `valle` command, ReadyToRun-compiled (starts ~1.5x faster), into artifacts/valle
#   ./build.sh native    the C ABI: NativeAOT libvalle.so (+ libonnxruntime.so, valle.h) into artifacts/native/<rid>
#
# Environment: VALLE_SKIP_INSTALL=1 never calls apt; CONFIGURATION=Debug builds Debug; VERSION=x.y.z overrides the
# package version (default: <Version> of Directory.Build.props); VALLE_ONNXRUNTIME_GPU=1 builds/publishes with
# Microsoft.ML.OnnxRuntime.Gpu.Linux (the codec's CUDA execution provider, used with --device cuda|auto).
# ONNX Runtime is not installed here: it is the NuGet package Microsoft.ML.OnnxRuntime, restored by dotnet build
# (its native library lands in the output folder, runtimes/<rid>/native).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
CONFIGURATION="${CONFIGURATION:-Release}"
ORT_GPU=(); [ "${VALLE_ONNXRUNTIME_GPU:-0}" = 1 ] && ORT_GPU=(-p:ValleOnnxRuntimeGpu=true)
DEPS="$ROOT/.deps"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"

log() { printf '\033[1m[build]\033[0m %s\n' "$*" >&2; }
die() { printf '[build] error: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then command -v sudo >/dev/null && SUDO="sudo"; fi

apt_install() {
  # Installs the Debian packages that are not installed yet (one apt-get update per run at most).
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "${VALLE_SKIP_INSTALL:-0}" = 1 ] && die "missing packages ${missing[*]} and VALLE_SKIP_INSTALL=1"
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get: install them by hand"
  log "installing Debian packages: ${missing[*]}"
  if [ -z "${APT_UPDATED:-}" ]; then $SUDO apt-get update -qq >/dev/null; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_dotnet() {
  if command -v dotnet >/dev/null && dotnet --list-sdks 2>/dev/null | grep -q '^10\.'; then return 0; fi
  [ -x "$HOME/.dotnet/dotnet" ] && { export PATH="$HOME/.dotnet:$PATH"; return 0; }
  log ".NET 10 SDK not found; trying Microsoft's dotnet-install.sh"
  apt_install curl ca-certificates libicu72
  curl -fsSL https://dot.net/v1/dotnet-install.sh -o "$DEPS/dotnet-install.sh" \
    || die "no .NET 10 SDK and https://dot.net is unreachable: install the .NET 10 SDK (https://dotnet.microsoft.com)"
  bash "$DEPS/dotnet-install.sh" --channel 10.0 --install-dir "$HOME/.dotnet" >/dev/null
  export PATH="$HOME/.dotnet:$PATH"
}

ensure_deps() {
  mkdir -p "$DEPS"
  # espeak-ng: phonemizer; torch/numpy/onnx + OpenBLAS: PyTorch references and fixture generation;
  # cmake/g++: native build tooling; time: GNU time, the probe suite's peak-memory bound.
  apt_install ca-certificates espeak-ng libespeak-ng1 libespeak-ng-dev \
    python3 python3-numpy python3-torch python3-onnx libopenblas0-pthread cmake g++ make time \
    open-jtalk open-jtalk-mecab-naist-jdic hts-voice-nitech-jp-atr503-m001
  ensure_dotnet
}

# NativeAOT (./build.sh native, and the C ABI test): a C compiler/linker for ILCompiler's link step (clang; any
# clang-N will do; CppCompilerAndLinker is set to it), zlib (linked by the NativeAOT runtime), cc for the C example, and
# valgrind for the test's memcheck run.
CLANG=""
ensure_native_deps() {
  CLANG="$(command -v clang || ls /usr/bin/clang-[0-9]* 2>/dev/null | grep -E 'clang-[0-9]+$' | sort -V | tail -1 || true)"
  if [ -z "$CLANG" ]; then apt_install clang; CLANG="$(command -v clang)"; fi
  apt_install zlib1g-dev gcc libc6-dev valgrind
}

build() {
  log "dotnet build ($CONFIGURATION)"
  dotnet build "$ROOT/VallE.sln" -c "$CONFIGURATION" "${ORT_GPU[@]}" -nologo -clp:ErrorsOnly -v:quiet
}

PACKAGES="$ROOT/artifacts/packages"
package_version() {
  if [ -n "${VERSION:-}" ]; then echo "$VERSION"; return; fi
  sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$ROOT/Directory.Build.props" | head -1
}

pack() {
  # Always Release; a fresh folder so it holds exactly this version's packages.
  local version; version="$(package_version)"
  rm -rf "$PACKAGES"; mkdir -p "$PACKAGES"
  log "dotnet pack $version -> artifacts/packages"
  local p
  for p in VallE.Weights VallE.Runtime; do
    dotnet pack "$ROOT/src/$p/$p.csproj" -c Release -o "$PACKAGES" -p:Version="$version" -nologo -clp:ErrorsOnly -v:quiet \
      || die "dotnet pack $p failed"
  done
  if [ -f "$ROOT/build/kernels/libvalle_kernels.so" ]; then
    log "packed the CUDA kernels (build/kernels/libvalle_kernels.so -> runtimes/linux-x64/native/)"
  else
    log "no build/kernels/libvalle_kernels.so: VallE.Runtime packed without the CUDA kernels (./build.sh kernels builds them)"
  fi
  ls "$PACKAGES"/*.nupkg >&2
}

# The package check (counted as one test by `./build.sh test`): packs, then builds tests/PackageConsumer (not in
# VallE.sln, no project reference) against artifacts/packages and synthesises "Hello." through ITextToSpeechClient.
# Prints "passed", "failed" or "skipped: reason" on stdout; details on stderr.
package_test() {
  local shared; shared="$(cd "$ROOT/.." && pwd)/shared"
  [ -f "$shared/fixtures/valle/valle-tiny/checkpoint.pt" ] || { echo "skipped: no ../shared/fixtures (valle-tiny)"; return; }
  local decoder; decoder="$(ls "$ROOT"/artifacts/encodec-random/seed0-*/encodec_decoder.onnx 2>/dev/null | head -1 || true)"
  [ -n "$decoder" ] || { echo "skipped: no artifacts/encodec-random/seed0-*/encodec_decoder.onnx (the NUnit suite exports it with python3-torch)"; return; }
  local version; version="$(package_version)"
  ( pack ) >&2 || { echo "failed"; return; }
  # Only our packages are dropped from the isolated folder: the others (ONNX Runtime: ~500 MB) are kept between runs.
  rm -rf "$ROOT"/artifacts/consumer-packages/valle.* "$ROOT/artifacts/consumer"
  log "package consumer: restore VallE.Runtime $version from artifacts/packages, synthesise through ITextToSpeechClient"
  if dotnet build "$ROOT/tests/PackageConsumer/PackageConsumer.csproj" -c Release -p:ValleVersion="$version" \
       -nologo -clp:ErrorsOnly -v:quiet >&2 \
     && dotnet "$ROOT"/artifacts/consumer/bin/Release/net10.0/*/PackageConsumer.dll "$decoder" "$shared" \
       "$ROOT/artifacts/consumer/hello.wav" >&2; then
    echo "passed"
  else
    echo "failed"
  fi
}

valle() { dotnet "$ROOT/src/VallE.Cli/bin/$CONFIGURATION/net10.0/valle.dll" "$@"; }

run_tests() {
  local results="$ROOT/artifacts/test-results"
  rm -rf "$results"; mkdir -p "$results"
  log "running tests"
  set +e
  dotnet test "$ROOT/tests/VallE.Tests/VallE.Tests.csproj" -c "$CONFIGURATION" --no-build -nologo \
    --logger "trx;LogFileName=results.trx" --logger "console;verbosity=normal" \
    --results-directory "$results" --blame-hang-timeout 15m -- NUnit.DisplayName=FullName \
    2>&1 | grep -v -E '^\s*Passed |^\s*$'
  local rc=${PIPESTATUS[0]}
  set -e
  local trx; trx="$(ls "$results"/*.trx 2>/dev/null | head -1 || true)"
  [ -n "$trx" ] || { echo "0 passed, 1 failed"; die "no test results (build or runner failure)"; }
  local counters; counters="$(grep -o '<Counters [^>]*>' "$trx")"
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  local total passed failed executed skipped
  total="$(get total)"; passed="$(get passed)"; failed="$(get failed)"; executed="$(get executed)"
  skipped=$(( total - executed ))
  # The NuGet package check runs after the suite and counts as one more test.
  local pkg; pkg="$(package_test)"
  log "package consumer (tests/PackageConsumer): $pkg"
  case "$pkg" in
    passed) passed=$(( passed + 1 )) ;;
    skipped*) skipped=$(( skipped + 1 )) ;;
    *) failed=$(( failed + 1 )); [ "$rc" -ne 0 ] || rc=1 ;;
  esac
  # The C ABI test (tests/Native/run.sh): one test per case.
  local nat np nf ns
  nat="$(native_test | tail -1)"
  log "C ABI (tests/Native): $nat"
  np="$(echo "$nat" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1/p')"
  nf="$(echo "$nat" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\2/p')"
  ns="$(echo "$nat" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\3/p')"
  if [ -z "$np" ]; then np=0; nf=1; ns=0; fi
  passed=$(( passed + np )); failed=$(( failed + nf )); skipped=$(( skipped + ns ))
  [ "$nf" -eq 0 ] || [ "$rc" -ne 0 ] || rc=1
  if [ "$skipped" -gt 0 ]; then
    log "skipped tests and why:"
    grep -o 'testName="[^"]*"[^>]*outcome="NotExecuted"' "$trx" | sed 's/testName="\([^"]*\)".*/  - \1/' | head -40 >&2 || true
    case "$pkg" in skipped*) echo "  - PackageConsumer: ${pkg#skipped: }" >&2 ;; esac
    [ "$ns" -eq 0 ] || echo "  - C ABI (tests/Native): $ns (reason above: [native] skipped ...)" >&2
  fi
  if [ "$(get failed)" != "0" ]; then
    log "failed tests (NUnit), with their messages:"
    python3 "$ROOT/tools/trx_failures.py" "$trx" >&2 || true
  fi
  echo "$passed passed, $failed failed, $skipped skipped"
  return "$rc"
}

publish() {
  # ReadyToRun: the CLI's code is compiled ahead of time, so a short job does not spend its first ~200 ms in the JIT
  # (hot loops are still re-jitted for this CPU by tiered compilation). Framework-dependent: needs the .NET 10 runtime.
  local arch rid out="$ROOT/artifacts/valle"
  case "$(uname -m)" in x86_64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) die "no ReadyToRun target for $(uname -m)" ;; esac
  rid="linux-$arch"
  log "dotnet publish ($rid, ReadyToRun) -> $out"
  rm -rf "$out"
  dotnet publish "$ROOT/src/VallE.Cli/VallE.Cli.csproj" -c Release -r "$rid" --self-contained false \
    -p:PublishReadyToRun=true "${ORT_GPU[@]}" -o "$out" -nologo -clp:ErrorsOnly -v:quiet
  log "run it as $out/valle (or: dotnet $out/valle.dll)"
}

# The C ABI (docs/embedding.md): src/VallE.Native compiled with NativeAOT into one shared library. The folder it
# writes holds exactly what a host needs: libvalle.so (RUNPATH $ORIGIN), libonnxruntime.so beside it, and valle.h;
# the stripped debug symbols go to artifacts/native/symbols (kept out of the library's folder: valgrind 3.19
# cannot read their DWARF 5). libespeak-ng comes from the system.
native() {
  local arch rid
  case "$(uname -m)" in x86_64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) die "no NativeAOT target for $(uname -m)" ;; esac
  rid="linux-$arch"
  local out="$ROOT/artifacts/native/$rid" stage="$ROOT/artifacts/native/obj/$rid" start=$SECONDS
  log "dotnet publish NativeAOT ($rid, linker $(basename "$CLANG")) -> $out/libvalle.so"
  rm -rf "$out" "$stage"; mkdir -p "$out" "$ROOT/artifacts/native/symbols"
  # Warnings are shown (trim/AOT analysis included) and are errors (TreatWarningsAsErrors).
  dotnet publish "$ROOT/src/VallE.Native/VallE.Native.csproj" -c Release -r "$rid" -o "$stage" \
    -p:CppCompilerAndLinker="$CLANG" -nologo -v:quiet || die "NativeAOT publish failed"
  cp "$stage/libvalle.so" "$stage"/libonnxruntime*.so* "$out/"
  cp "$ROOT/include/valle.h" "$out/"
  [ -f "$stage/libvalle.so.dbg" ] && cp "$stage/libvalle.so.dbg" "$ROOT/artifacts/native/symbols/"
  log "artifacts/native/$rid: $(cd "$out" && ls | tr '\n' ' ')($(( SECONDS - start )) s; libvalle.so $(( $(stat -c %s "$out/libvalle.so") / 1024 )) KiB)"
}

# The C ABI test (counted by `./build.sh test`, one test per case): publishes libvalle.so, then tests/Native/run.sh.
# Prints "N passed, N failed, N skipped" on stdout; details on stderr.
native_test() {
  local shared; shared="$(cd "$ROOT/.." && pwd)/shared"
  if [ ! -f "$shared/fixtures/valle/valle-tiny/checkpoint.pt" ]; then
    "$ROOT/tests/Native/run.sh"; return   # skips every case with the reason
  fi
  ( native ) >&2 || { echo "0 passed, 1 failed, 0 skipped"; return; }
  "$ROOT/tests/Native/run.sh" || echo "0 passed, 1 failed, 0 skipped"
}

cmd="${1:-test}"; shift || true
case "$cmd" in
  deps) ensure_deps; ensure_native_deps ;;
  build) ensure_deps; build ;;
  test) ensure_deps; ensure_native_deps; build; run_tests ;;
  kernels) exec "$ROOT/native/build-kernels.sh" "$@" ;;
  demo) ensure_deps; build; exec "$ROOT/tools/demo.sh" "$@" ;;
  bench) ensure_deps; build; valle bench "$@" ;;
  pack) ensure_dotnet; pack ;;
  publish) ensure_dotnet; publish ;;
  native) ensure_dotnet; ensure_native_deps; native ;;
  *) die "unknown command '$cmd' (use: test, demo, build, kernels, deps, bench, pack, publish, native)" ;;
esac
