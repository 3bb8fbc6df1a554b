#!/usr/bin/env bash
# The C ABI test (run by `./build.sh test` after the NUnit suite; by hand: tests/Native/run.sh after ./build.sh native).
# Compiles examples/c/valle_say.c and tests/Native/abi_check.c with `cc -Wall -Werror` against include/valle.h and
# artifacts/native/linux-x64/libvalle.so, runs them on the valle-tiny fixtures (../shared/fixtures) with the random
# EnCodec decoder the NUnit suite exports (artifacts/encodec-random/seed0-*/), checks return codes, the WAV, the
# bad-input cases and one run under valgrind. Each case is one test. Details go to stderr; the last line on stdout is
# "N passed, N failed, N skipped". Without the fixtures or the decoder every case is skipped, with the reason.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LIB="${VALLE_NATIVE_DIR:-$ROOT/artifacts/native/linux-x64}"
WORK="$ROOT/artifacts/native/test"
SHARED="$(cd "$ROOT/.." && pwd)/shared"
FIX="$SHARED/fixtures"
CASES=21
passed=0; failed=0; skipped=0

say() { printf '[native] %s\n' "$*" >&2; }
pass() { passed=$((passed + 1)); say "ok: $*"; }
fail() { failed=$((failed + 1)); say "FAILED: $*"; }
skip_all() { say "skipped ($CASES tests): $*"; echo "0 passed, 0 failed, $CASES skipped"; exit 0; }
finish() { echo "$passed passed, $failed failed, $skipped skipped"; exit 0; }

[ -f "$FIX/valle/valle-tiny/checkpoint.pt" ] || skip_all "no ../shared/fixtures (valle-tiny)"
DECODER="$(ls "$ROOT"/artifacts/encodec-random/seed0-*/encodec_decoder.onnx 2>/dev/null | head -1 || true)"
[ -n "$DECODER" ] || skip_all "no artifacts/encodec-random/seed0-*/encodec_decoder.onnx (the NUnit suite exports it with python3-torch)"
if [ ! -f "$LIB/libvalle.so" ]; then
  fail "no $LIB/libvalle.so (./build.sh native makes it)"
  failed=$CASES; finish
fi

rm -rf "$WORK"; mkdir -p "$WORK"
cat > "$WORK/options.json" <<JSON
{"checkpoint": "$FIX/valle/valle-tiny/checkpoint.pt", "symbols": "$FIX/text/unique_text_tokens.k2symbols",
 "codec_decoder": "$DECODER", "device": "cpu", "threads": 1,
 "voices": {"codes": {"codes": "$FIX/valle/valle-tiny/prompt_codes.npy", "transcript": "Go to her."}}}
JSON
OPTIONS="$WORK/options.json"
CC="${CC:-cc}"

# 1-2: both programs compile cleanly against the header and the published library.
build() {
  "$CC" -Wall -Werror -O2 -I "$ROOT/include" "$1" -o "$2" -L "$LIB" -lvalle -Wl,-rpath,"$LIB" -lpthread 2>"$2.log"
}
if build "$ROOT/examples/c/valle_say.c" "$WORK/valle_say"; then pass "valle_say.c compiles with $CC -Wall -Werror"
else fail "valle_say.c does not compile: $(head -5 "$WORK/valle_say.log")"; failed=$((failed + CASES - 1)); finish; fi
if build "$ROOT/tests/Native/abi_check.c" "$WORK/abi_check"; then pass "abi_check.c compiles with $CC -Wall -Werror"
else fail "abi_check.c does not compile: $(head -5 "$WORK/abi_check.log")"; fi

# expect NAME RC COMMAND...: the command's exit status must be RC; its stderr is kept in $WORK/NAME.err.
expect() {
  local name="$1" want="$2"; shift 2
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
  local rc=$?
  if [ "$rc" -eq "$want" ]; then pass "$name: rc $rc ($(tail -1 "$WORK/$name.err"))"; return 0; fi
  fail "$name: rc $rc, expected $want: $(tail -3 "$WORK/$name.err" | tr '\n' ' ')"; return 1
}

# A RIFF/WAVE file with a PCM16 data chunk that is not empty and matches the file's size.
wav_ok() {
  local f="$1" size
  [ -f "$f" ] || return 1
  size=$(stat -c %s "$f")
  [ "$(head -c 4 "$f")" = RIFF ] && [ "$(dd if="$f" bs=1 skip=8 count=4 2>/dev/null)" = WAVE ] || return 1
  local data; data=$(od -An -t u4 -j 40 -N 4 "$f" | tr -d ' ')
  [ "$size" -gt 44 ] && [ "$data" -gt 0 ] && [ $((44 + data)) -eq "$size" ]
}

SAY="$WORK/valle_say"
# 3: the fixtures, one utterance -> a valid WAV.
if expect synth 0 "$SAY" -o "$WORK/hello.wav" --seed 7 --max-duration 0.3 "$OPTIONS" "Hello there."; then
  wav_ok "$WORK/hello.wav" || { passed=$((passed - 1)); fail "synth: $WORK/hello.wav is not a valid non-empty WAV"; }
fi
# 4: per-sentence audio: two sentences, two callbacks.
if expect sentences 0 "$SAY" -o "$WORK/two.wav" --sentences --seed 7 --max-duration 0.3 "$OPTIONS" "Hello there. How are you?"; then
  if ! grep -q "sentence 2:" "$WORK/sentences.err" || ! wav_ok "$WORK/two.wav"; then
    passed=$((passed - 1)); fail "sentences: expected two on_audio calls and a valid WAV"
  fi
fi
# 5-10: bad input.
expect malformed-json 2 "$SAY" '{"checkpoint": ' "Hi."
expect unknown-field 2 "$SAY" --request '{"text": "Hi.", "sped": 2}' "$OPTIONS"
expect unknown-voice 3 "$SAY" --voice nobody --max-duration 0.3 "$OPTIONS" "Hi."
expect missing-checkpoint 3 "$SAY" "$(sed 's|checkpoint.pt|no-such-checkpoint.pt|' "$OPTIONS")" "Hi."
expect missing-espeak 3 env VALLE_ESPEAK_LIB="$WORK/no-such-libespeak-ng.so" "$SAY" --max-duration 0.3 "$OPTIONS" "Hi."
# 10: ONNX Runtime missing: the library alone in a folder, without libonnxruntime.so beside it.
mkdir -p "$WORK/alone" && cp "$LIB/libvalle.so" "$WORK/alone/"
if "$CC" -Wall -Werror -O2 -I "$ROOT/include" "$ROOT/examples/c/valle_say.c" -o "$WORK/alone/valle_say" \
     -L "$WORK/alone" -lvalle -Wl,-rpath,"$WORK/alone" -lpthread 2>"$WORK/alone.log"; then
  expect missing-onnxruntime 3 "$WORK/alone/valle_say" --max-duration 0.3 "$OPTIONS" "Hi."
else
  fail "missing-onnxruntime: cannot build the copy: $(head -3 "$WORK/alone.log")"
fi
# 11: valle_cancel from a second thread while valle_synthesize runs -> 130.
expect cancel 130 "$SAY" --cancel-after-first --seed 7 --max-duration 0.3 "$OPTIONS" "Hello there. How are you? Fine, thanks."
# 12: NULL arguments, thread-local errors, concurrent calls on one engine.
if [ -x "$WORK/abi_check" ]; then expect abi_check 0 "$WORK/abi_check" "$OPTIONS"; cat "$WORK/abi_check.out" >&2
else fail "abi_check: not built"; fi

# 13-15: VALL-E X (the vallex-tiny fixture, no symbols): a preset voice with language, best_of and prompt_mode -> a
# valid WAV; a malformed best_of -> 2; a missing preset file -> 3.
if [ -f "$FIX/valle/vallex-tiny/checkpoint.pt" ] && [ -f "$FIX/vallex-presets/alan.npz" ]; then
  cat > "$WORK/vallex.json" <<JSON
{"checkpoint": "$FIX/valle/vallex-tiny/checkpoint.pt", "codec_decoder": "$DECODER", "device": "cpu", "threads": 1,
 "voices": {"alan": {"preset": "$FIX/vallex-presets/alan.npz"},
            "codes": {"codes": "$FIX/valle/vallex-tiny/prompt_codes.npy", "transcript": "你好。", "language": "zh"}}}
JSON
  VX_REQ='{"text": "Hello there.", "voice": "alan", "language": "en", "best_of": 2, "prompt_mode": "fixed", "seed": 3, "max_duration": 0.3}'
  if expect vallex-preset 0 "$SAY" -o "$WORK/vallex.wav" --request "$VX_REQ" "$WORK/vallex.json"; then
    wav_ok "$WORK/vallex.wav" || { passed=$((passed - 1)); fail "vallex-preset: $WORK/vallex.wav is not a valid non-empty WAV"; }
  fi
  expect vallex-bad-best-of 2 "$SAY" --request '{"text": "Hi.", "voice": "alan", "best_of": 0}' "$WORK/vallex.json"
  expect vallex-missing-preset 3 "$SAY" "$(sed 's|alan.npz|no-such-preset.npz|' "$WORK/vallex.json")" "Hi."
else
  skipped=$((skipped + 3)); say "skipped (3 tests): no ../shared/fixtures/valle/vallex-tiny or vallex-presets/alan.npz"
fi

# 17-21: e-c-k-e-r/vall-e (the arnar_d64 .sft, our own test tokenizer, a voice of prompt codes alone, no transcript):
# greedy ar+nar -> a valid WAV; "mode": "nar-len" on a model without a len task -> 2; no tokenizer -> 2; the ecker
# sampler fields: a value out of range, and one of the wrong type -> 2, the message naming the field.
if [ -f "$FIX/ecker/arnar_d64/fp32.sft" ]; then
  cat > "$WORK/ecker.json" <<JSON
{"checkpoint": "$FIX/ecker/arnar_d64/fp32.sft", "tokenizer": "$ROOT/tests/VallE.Tests/Ecker/test-tokenizer.json",
 "codec_decoder": "$DECODER", "device": "cpu", "threads": 1, "language": "en",
 "voices": {"codes": {"codes": "$FIX/ecker/arnar_d64/prompt_codes.npy"}}}
JSON
  EK_REQ='{"text": "Hello there.", "voice": "codes", "language": "en", "mode": "ar+nar", "temperature": 0, "nar_temperature": 0, "max_duration": 0.3}'
  if expect ecker-synth 0 "$SAY" -o "$WORK/ecker.wav" --request "$EK_REQ" "$WORK/ecker.json"; then
    wav_ok "$WORK/ecker.wav" || { passed=$((passed - 1)); fail "ecker-synth: $WORK/ecker.wav is not a valid non-empty WAV"; }
  fi
  expect ecker-bad-mode 2 "$SAY" --request '{"text": "Hi.", "mode": "nar-len"}' "$WORK/ecker.json"
  expect ecker-no-tokenizer 2 env -u VALLE_ECKER_TOKENIZER "$SAY" -o "$WORK/ecker-none.wav" "$(sed 's|"tokenizer": "[^"]*",||' "$WORK/ecker.json")" "Hi."
  for bad in 'min_ar_temperature -1' 'length_penalty "long"'; do
    field=${bad%% *}
    if expect "ecker-bad-$field" 2 "$SAY" --request "{\"text\": \"Hi.\", \"$field\": ${bad#* }}" "$WORK/ecker.json"; then
      grep -q "$field" "$WORK/ecker-bad-$field.err" || { passed=$((passed - 1)); fail "ecker-bad-$field: the message does not name $field"; }
    fi
  done
else
  skipped=$((skipped + 5)); say "skipped (5 tests): no ../shared/fixtures/ecker/arnar_d64"
fi

# 16: memcheck. NativeAOT's GC and ONNX Runtime make leak and uninitialised-value reports that are not ours
# (ORT also copies a buffer onto itself: "Source and destination overlap"), so the check is: the run succeeds and
# the log has no invalid read, write or free outside the glibc loader false positives of tests/Native/valgrind.supp.
# libvalle.so.dbg is kept out of the library's folder by build.sh:
# valgrind 3.19 cannot read its DWARF 5.
if command -v valgrind >/dev/null; then
  "$CC" -Wall -Werror -O0 -g -I "$ROOT/include" "$ROOT/examples/c/valle_say.c" -o "$WORK/valle_say_g" \
    -L "$LIB" -lvalle -Wl,-rpath,"$LIB" -lpthread
  start=$SECONDS
  valgrind --suppressions="$ROOT/tests/Native/valgrind.supp" --log-file="$WORK/valgrind.log" \
    "$WORK/valle_say_g" -o "$WORK/valgrind.wav" --seed 7 --max-duration 0.3 "$OPTIONS" "Hello there." \
    >/dev/null 2>"$WORK/valgrind.err"
  rc=$?
  bad=$(grep -cE "Invalid (read|write|free)|Mismatched free|Jump to the invalid address" "$WORK/valgrind.log")
  if [ "$rc" -eq 0 ] && [ "$bad" -eq 0 ] && wav_ok "$WORK/valgrind.wav"; then
    pass "valgrind: rc 0, no invalid read/write/free ($((SECONDS - start)) s; log $WORK/valgrind.log)"
  else
    fail "valgrind: rc $rc, $bad invalid accesses (see $WORK/valgrind.log)"
  fi
else
  skipped=$((skipped + 1)); say "skipped: valgrind is not installed (apt-get install valgrind)"
fi
finish
