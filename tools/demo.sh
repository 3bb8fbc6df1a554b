#!/usr/bin/env bash
# ./build.sh demo: text + prompt recording -> speech with `valle synth`, on a fresh machine.
#
# Prepares (once, cached under artifacts/demo/):
#   * a VALL-E checkpoint with RANDOM weights (tools/make_checkpoint.py)  -- UNTRAINED: it speaks noise;
#   * a random-weight EnCodec 24 kHz ONNX pair (tools/export_encodec_onnx.py) -- UNTRAINED as well;
#   * a prompt: a real LibriTTS recording from ../shared/fixtures/audio when present, else a generated tone;
#   * the symbol table: ../shared/fixtures/text/unique_text_tokens.k2symbols, else one made from the demo texts.
# Then runs `valle synth --sentences` and prints its summary (audio seconds, wall time, real-time factor, stages).
# For real speech, see docs/audio.md: export the real EnCodec weights and use a trained checkpoint.
#
# Environment: DEMO_PRESET=tiny|small (default small), DEMO_TEXT, CONFIGURATION (default Release).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CONFIGURATION="${CONFIGURATION:-Release}"
PRESET="${DEMO_PRESET:-small}"
DEMO="$ROOT/artifacts/demo"
PY=/usr/bin/python3
TEXT="${DEMO_TEXT:-VallE dot NET speaks from C sharp. This demo model is untrained, so what you hear is noise.}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
mkdir -p "$DEMO"
say() { printf '\033[1m[demo]\033[0m %s\n' "$*" >&2; }
valle() { dotnet "$ROOT/src/VallE.Cli/bin/$CONFIGURATION/net10.0/valle.dll" "$@"; }

[ -x "$PY" ] && "$PY" -c "import torch, onnx" 2>/dev/null \
  || { echo "demo: $PY with torch and onnx is needed to make the demo models (apt-get install python3-torch python3-onnx)" >&2; exit 1; }

# 1. Prompt recording and its transcript.
SHARED_AUDIO="$ROOT/../shared/fixtures/audio"
if ls "$SHARED_AUDIO"/*.wav >/dev/null 2>&1; then
  PROMPT_WAV="$(ls "$SHARED_AUDIO"/*.wav | head -1)"
  PROMPT_TEXT="$(cat "${PROMPT_WAV%.wav}.txt")"
  say "prompt: $PROMPT_WAV (\"$PROMPT_TEXT\")"
else
  PROMPT_WAV="$DEMO/prompt-tone.wav"
  PROMPT_TEXT="This is a tone."
  if [ ! -f "$PROMPT_WAV" ]; then
    "$PY" - "$PROMPT_WAV" <<'PYEOF'
import sys, wave, numpy as np
t = np.arange(3 * 24000) / 24000.0
x = 0.3 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(24000)
    w.writeframes((x * 32767).astype("<i2").tobytes())
PYEOF
  fi
  say "prompt: generated 3 s tone $PROMPT_WAV (no ../shared/fixtures/audio here)"
fi

# 2. Symbol table.
SYMBOLS="$ROOT/../shared/fixtures/text/unique_text_tokens.k2symbols"
if [ ! -f "$SYMBOLS" ]; then
  SYMBOLS="$DEMO/demo.k2symbols"
  valle phonemize --json "$PROMPT_TEXT" "$TEXT" | "$PY" -c '
import json, sys
phones = sorted({p for item in json.load(sys.stdin) for p in item["phonemes"]})
print("<eps> 0")
for i, p in enumerate(phones, 1): print(f"{p} {i}")' > "$SYMBOLS.tmp"
  mv "$SYMBOLS.tmp" "$SYMBOLS"
fi

# 3. Untrained VALL-E checkpoint.
MODEL="$DEMO/valle-$PRESET-UNTRAINED.pt"
if [ ! -f "$MODEL" ]; then
  say "making an UNTRAINED $PRESET VALL-E checkpoint (random weights) -> $MODEL"
  "$PY" tools/make_checkpoint.py --preset "$PRESET" --out "$MODEL.tmp" >/dev/null
  mv "$MODEL.tmp" "$MODEL"
fi

# 4. Untrained EnCodec ONNX pair.
CODEC="$DEMO/encodec-UNTRAINED"
if [ ! -f "$CODEC/export.json" ]; then
  say "exporting an UNTRAINED EnCodec 24 kHz ONNX pair (random weights) -> $CODEC"
  rm -rf "$CODEC.tmp"
  "$PY" tools/export_encodec_onnx.py --out "$CODEC.tmp" --random-weights --seed 0 --reference-frames "" 2>/dev/null >/dev/null
  rm -rf "$CODEC"; mv "$CODEC.tmp" "$CODEC"
fi

# 5. Synthesis.
OUT="$DEMO/demo.wav"
say "valle synth (UNTRAINED model and codec: the output is noise; the pipeline and its timing are real)"
valle synth --checkpoint "$MODEL" --symbols "$SYMBOLS" \
  --codec-encoder "$CODEC/encodec_encoder.onnx" --codec-decoder "$CODEC/encodec_decoder.onnx" \
  --prompt-wav "$PROMPT_WAV" --prompt-text "$PROMPT_TEXT" --text "$TEXT" \
  --sentences --seed 1 --max-duration 2 --out "$OUT"
say "wrote $OUT (and one file per sentence beside it)"
