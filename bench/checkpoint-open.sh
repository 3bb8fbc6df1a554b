#!/usr/bin/env bash
# Time to open a ~1.4 GB torch checkpoint and map every tensor: TorchCheckpoint.Open (C#, mmap) against torch.load
# (Debian torch, CPU), side by side in one run, each in its own process so /usr/bin/time -v reports its own peak RSS.
#   bench/checkpoint-open.sh [FILE] [REPS]      (FILE defaults to /tmp/valle-bench-full.pt, generated if absent)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FILE="${1:-/tmp/valle-bench-full.pt}"
REPS="${2:-3}"
PY=/usr/bin/python3
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"

if [[ ! -f "$FILE" ]]; then
  echo "generating $FILE (tools/make_checkpoint.py --preset full, ~1.4 GB)..." >&2
  "$PY" "$ROOT/tools/make_checkpoint.py" --preset full --out "$FILE" >&2
fi
dotnet build "$ROOT/bench/VallE.Bench" -c Release -nologo -clp:ErrorsOnly -v:quiet >&2
BENCH="$ROOT/bench/VallE.Bench/bin/Release/net10.0/VallE.Bench.dll"

# Warm the page cache once so every contender reads from memory, not disk.
cat "$FILE" > /dev/null

run() { # label, command...: prints the command's result line plus /usr/bin/time's peak RSS
  local label="$1"; shift
  local out
  if [[ -x /usr/bin/time ]]; then
    out="$( { /usr/bin/time -v "$@" 2> >(grep -E 'Maximum resident|Elapsed' | tr -s ' ' >&3); } 3>&1 )"
  else
    out="$("$@")"
  fi
  printf '%-22s %s\n' "$label" "$(echo "$out" | tr '\n' ' ')"
}

echo "file: $FILE ($(du -h "$FILE" | cut -f1)), reps: $REPS, cores: $(nproc), $(uname -m)"
run "C# open"            dotnet "$BENCH" checkpoint-open "$FILE" --reps "$REPS"
run "C# open+read all"   dotnet "$BENCH" checkpoint-open "$FILE" --touch --reps "$REPS"
run "torch.load"         "$PY" "$ROOT/bench/checkpoint-open.py" "$FILE" "$REPS"
