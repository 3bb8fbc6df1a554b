#!/usr/bin/env bash
# `valle decode` of one 1500-frame chunk (one ONNX run, 20 s of audio) with the random-weight real-architecture
# EnCodec decoder, alternating two builds: BEFORE (our own C API binding over ONNX Runtime 1.30.0 from npm) and
# AFTER (Microsoft.ML.OnnxRuntime 1.32.0 from NuGet). Prints every run and the medians; docs/audio.md has the numbers.
#
#   BEFORE=/tmp/valle-before/src/VallE.Cli/bin/Release/net10.0/valle.dll \
#   BEFORE_ORT=/path/to/libonnxruntime.so.1 bench/ort-decode-ab.sh [ROUNDS=3]
#
# The decoder comes from the tests' cache (artifacts/encodec-random/seed0-*/, made by EncodecTestModels) or
# $DECODER. "valle s" is the command's own timer (read codes, open the session, decode, write the WAV);
# "wall s" is the whole process (runtime start-up included).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AFTER="${AFTER:-$ROOT/src/VallE.Cli/bin/Release/net10.0/valle.dll}"
BEFORE="${BEFORE:?set BEFORE to the valle.dll of the older build}"
BEFORE_ORT="${BEFORE_ORT:-$ROOT/.deps/onnxruntime/libonnxruntime.so.1}"
ROUNDS="${1:-3}"
FRAMES=1500
DECODER="${DECODER:-$(ls -d "$ROOT"/artifacts/encodec-random/seed0-*/encodec_decoder.onnx 2>/dev/null | head -1)}"
[ -f "$DECODER" ] || { echo "no decoder: run the codec tests once (they export it) or set DECODER" >&2; exit 1; }
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
/usr/bin/python3 -c "import numpy as np; np.save('$WORK/codes.npy', np.random.default_rng(0).integers(0, 1024, size=($FRAMES, 8), dtype=np.int64))"

run() { # name dll [env...] -> "name valle_s wall_s"
  local name="$1" dll="$2"; shift 2
  local start end line
  start=$(date +%s.%N)
  line="$(env "$@" dotnet "$dll" decode "$WORK/codes.npy" --codec-decoder "$DECODER" --out "$WORK/o.wav" 2>&1 | grep '^valle: decoded')"
  end=$(date +%s.%N)
  local own wall
  own="$(echo "$line" | awk -F'[()]' '{ split($(NF - 1), t, " "); print t[1] }')"
  wall="$(printf "%.2f" "$(echo "$end - $start" | bc)")"
  echo "$name $own $wall"
}

# One warm-up each (page cache, JIT disk cache), not counted.
run before "$BEFORE" VALLE_ONNXRUNTIME="$BEFORE_ORT" >/dev/null
run after "$AFTER" >/dev/null
for i in $(seq "$ROUNDS"); do
  run before "$BEFORE" VALLE_ONNXRUNTIME="$BEFORE_ORT"
  run after "$AFTER"
done | tee "$WORK/runs"
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
for name in before after; do
  printf '%s median: valle %s s, wall %s s\n' "$name" \
    "$(awk -v n=$name '$1 == n { print $2 }' "$WORK/runs" | median)" "$(awk -v n=$name '$1 == n { print $3 }' "$WORK/runs" | median)"
done
