#!/usr/bin/env bash
# `valle decode` of 1500 random frames (20 s of audio, one ONNX run) with the random-weight EnCodec decoder and the
# random-weight Vocos decoder, alternated ROUNDS times after one warm-up each; prints every run and the medians
# (docs/audio.md, "Vocos"). Weights change neither graph nor cost, so random ones time the real architectures.
#
#   bench/vocos-vs-encodec.sh [ROUNDS=3]
#
# The decoders come from the tests' caches (artifacts/encodec-random/seed0-*/, artifacts/vocos-random/seed0-*/, made
# by EncodecTestModels and VocosTestModels) or $ENCODEC / $VOCOS. "valle s" is the command's own timer (read codes,
# open the session, decode, write the WAV).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VALLE="${VALLE:-$ROOT/src/VallE.Cli/bin/Release/net10.0/valle.dll}"
ROUNDS="${1:-3}"
FRAMES="${FRAMES:-1500}"
ENCODEC="${ENCODEC:-$(ls -d "$ROOT"/artifacts/encodec-random/seed0-*/encodec_decoder.onnx 2>/dev/null | head -1)}"
VOCOS="${VOCOS:-$(ls -d "$ROOT"/artifacts/vocos-random/seed0-*/vocos_decoder.onnx 2>/dev/null | head -1)}"
[ -f "$ENCODEC" ] && [ -f "$VOCOS" ] || { echo "no decoders: run the Codec/Vocos tests once (they export them) or set ENCODEC and VOCOS" >&2; exit 1; }
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
/usr/bin/python3 -c "import numpy as np; np.save('$WORK/codes.npy', np.random.default_rng(0).integers(0, 1024, size=($FRAMES, 8), dtype=np.int64))"

run() { # name model -> "name valle_s"
  local line
  line="$(dotnet "$VALLE" decode "$WORK/codes.npy" --codec-decoder "$2" --out "$WORK/o.wav" 2>&1 | grep '^valle: decoded')"
  echo "$1 $(echo "$line" | awk -F'[()]' '{ split($(NF - 1), t, " "); print t[1] }')"
}

run encodec "$ENCODEC" >/dev/null
run vocos "$VOCOS" >/dev/null
results=()
for i in $(seq "$ROUNDS"); do
  for v in encodec vocos; do
    model="$ENCODEC"; [ "$v" = vocos ] && model="$VOCOS"
    r="$(run "$v" "$model")"; echo "$r"; results+=("$r")
  done
done
for v in encodec vocos; do
  printf '%s median %s s\n' "$v" "$(printf '%s\n' "${results[@]}" | awk -v v="$v" '$1 == v { print $2 }' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')"
done
