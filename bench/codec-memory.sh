#!/usr/bin/env bash
# Peak memory (RSS) of `valle decode` and `valle encode` on long inputs, and the error of chunked against
# one-run EnCodec, with the real EnCodec 24 kHz architecture (tools/export_encodec_onnx.py, random weights:
# memory and speed do not depend on the weights). Numbers are in docs/audio.md, "Long inputs: chunked codec".
#
#   bench/codec-memory.sh                       decode 20000 frames, encode 600 s, error over 3000 frames
#   DECODE_FRAMES=45000 ENCODE_SECONDS=300 ERROR_FRAMES=1500 bench/codec-memory.sh
#   VALLE=/path/to/other/valle.dll bench/codec-memory.sh     (e.g. an older build, for before/after)
#
# Inputs and the exported models are cached in $VALLE_BENCH_CACHE (default /tmp/valle-codec-bench).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CONFIGURATION="${CONFIGURATION:-Release}"
VALLE="${VALLE:-$ROOT/src/VallE.Cli/bin/$CONFIGURATION/net10.0/valle.dll}"
CACHE="${VALLE_BENCH_CACHE:-/tmp/valle-codec-bench}"
DECODE_FRAMES="${DECODE_FRAMES:-20000}"
ENCODE_SECONDS="${ENCODE_SECONDS:-600}"
ERROR_FRAMES="${ERROR_FRAMES:-3000}"
PYTHON=/usr/bin/python3
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

[ -f "$VALLE" ] || dotnet build "$ROOT/VallE.sln" -c "$CONFIGURATION" -nologo -clp:ErrorsOnly -v:quiet
mkdir -p "$CACHE"
if [ ! -f "$CACHE/encodec/encodec_decoder.onnx" ]; then
  echo "== exporting the random-weight EnCodec 24 kHz pair to $CACHE/encodec" >&2
  "$PYTHON" tools/export_encodec_onnx.py --out "$CACHE/encodec" --random-weights --seed 0 --reference-frames '' >&2
fi

# Inputs: random codes (decode) and a speech-like signal (encode): chirps under a 4 Hz syllable envelope + noise.
"$PYTHON" - "$CACHE" "$DECODE_FRAMES" "$ENCODE_SECONDS" <<'PY'
import os, sys, wave
import numpy as np
cache, frames, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
codes = os.path.join(cache, f"codes_{frames}.npy")
if not os.path.exists(codes):
    np.save(codes, np.random.default_rng(0).integers(0, 1024, size=(frames, 8), dtype=np.int64))
wav = os.path.join(cache, f"speechlike_{seconds}s.wav")
if not os.path.exists(wav):
    sr = 24000
    t = np.arange(sr * seconds) / sr
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
    pitch = 120 + 40 * np.sin(2 * np.pi * 0.3 * t)
    x = envelope * 0.3 * np.sin(2 * np.pi * np.cumsum(pitch) / sr) + 0.03 * np.random.default_rng(1).standard_normal(t.size)
    with wave.open(wav + ".tmp", "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(sr)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
    os.replace(wav + ".tmp", wav)
PY

# One valle command under /usr/bin/time -v: its summary line, peak RSS and wall time.
measure() {
  local log="$CACHE/time.log"
  /usr/bin/time -v dotnet "$VALLE" "$@" 2> "$log" || { cat "$log" >&2; exit 1; }
  grep '^valle:' "$log" || true
  awk -F': ' '/Maximum resident set size/ { printf "peak RSS %.0f MB\n", $2 / 1024 }
              /Elapsed \(wall clock\)/ { print "wall " $2 }' "$log"
}

echo "== valle decode: $DECODE_FRAMES frames"
measure decode "$CACHE/codes_$DECODE_FRAMES.npy" --codec-decoder "$CACHE/encodec/encodec_decoder.onnx" \
  --out "$CACHE/decoded.wav" --sample-format f32
echo "== valle encode: ${ENCODE_SECONDS} s"
measure encode "$CACHE/speechlike_${ENCODE_SECONDS}s.wav" --codec-encoder "$CACHE/encodec/encodec_encoder.onnx" \
  --out "$CACHE/encoded.npy"
rm -f "$CACHE/decoded.wav" "$CACHE/encoded.npy"

if [ "$ERROR_FRAMES" -gt 0 ]; then
  echo "== chunked vs one run: first $ERROR_FRAMES frames of the encode input"
  dotnet run --file bench/codec-chunking.cs -c "$CONFIGURATION" -- "$CACHE/encodec" "$CACHE/speechlike_${ENCODE_SECONDS}s.wav" "$ERROR_FRAMES"
fi
