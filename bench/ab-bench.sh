#!/usr/bin/env bash
# Before/after `valle bench` of two builds on this machine, with an A/A control. Each round runs BEFORE, AFTER and
# BEFORE again, in an order rotated every round, so that drift in machine load hits all three alike. Per round it
# takes the ratios after/before and before/before (the control: what this machine's noise alone gives), and prints the
# median of each over the rounds with its range. A difference is real only where after/before leaves the control's range.
#   bench/ab-bench.sh BEFORE_VALLE_DLL AFTER_VALLE_DLL [ROUNDS] [PRESETS...]
# e.g. git worktree add /tmp/valle-base c912e11 && (cd /tmp/valle-base && dotnet build src/VallE.Cli -c Release)
#      bench/ab-bench.sh /tmp/valle-base/src/VallE.Cli/bin/Release/net10.0/valle.dll src/VallE.Cli/bin/Release/net10.0/valle.dll 9 small full
# Builds older than the decode_ms_median field report only the mean step (the median column then reads n/a).
set -euo pipefail
before="$1"; after="$2"; rounds="${3:-6}"; shift 3 || true
presets=("${@:-small}")
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
out="$(mktemp -d)"
run() { # label dll preset round
  dotnet "$2" bench --preset "$3" --torch none --threads 2 --bandwidth 10 --json 2>"$out/$1-$3-$4.err" > "$out/$1-$3-$4.json" \
    || { echo "ab-bench: valle bench failed ($2 --preset $3); its log: $out/$1-$3-$4.err" >&2; exit 1; }
  python3 - "$out/$1-$3-$4.json" "$1" "$3" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))["engine"]
median = e.get("decode_ms_median")
print(f"{sys.argv[3]:5} {sys.argv[2]:7} total {e['total_ms']:8.1f} ms  AR {e['ar_ms']:7.1f} ms  decode {e['decode_ms_per_step']:6.2f} ms/step"
      f" (median {median:6.2f})  NAR {e['nar_ms']:7.1f} ms" if median else
      f"{sys.argv[3]:5} {sys.argv[2]:7} total {e['total_ms']:8.1f} ms  AR {e['ar_ms']:7.1f} ms  decode {e['decode_ms_per_step']:6.2f} ms/step  NAR {e['nar_ms']:7.1f} ms")
PY
}
for p in "${presets[@]}"; do
  for r in $(seq 1 "$rounds"); do
    case $((r % 3)) in
      1) order="before after control" ;;
      2) order="after control before" ;;
      0) order="control before after" ;;
    esac
    for label in $order; do
      if [ "$label" = after ]; then run after "$after" "$p" "$r"; else run "$label" "$before" "$p" "$r"; fi
    done
  done
done
python3 - "$out" "$rounds" "${presets[@]}" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
for p in sys.argv[3:]:
    def value(label, r, key):
        return json.load(open(f"{out}/{label}-{p}-{r}.json"))["engine"].get(key)
    for key in ("total_ms", "ar_ms", "nar_ms", "decode_ms_per_step", "decode_ms_median"):
        if any(value(l, r, key) is None for l in ("before", "after", "control") for r in range(1, rounds + 1)):
            print(f"{p:5} {key:18} n/a (a build does not report it)")
            continue
        ab = sorted(value("after", r, key) / value("before", r, key) for r in range(1, rounds + 1))
        aa = sorted(value("control", r, key) / value("before", r, key) for r in range(1, rounds + 1))
        b = statistics.median(value("before", r, key) for r in range(1, rounds + 1))
        a = statistics.median(value("after", r, key) for r in range(1, rounds + 1))
        print(f"{p:5} {key:18} before {b:8.2f}  after {a:8.2f}  after/before {statistics.median(ab):.3f} "
              f"[{ab[0]:.3f}..{ab[-1]:.3f}]  control before/before {statistics.median(aa):.3f} [{aa[0]:.3f}..{aa[-1]:.3f}]")
PY
