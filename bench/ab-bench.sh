#!/usr/bin/env bash
# Before/after `valle bench` of two builds on this machine, interleaved (order flipped every round) so that drift
# in machine load hits both alike. Prints one line per run and the after/before ratio of the medians.
#   bench/ab-bench.sh BEFORE_VALLE_DLL AFTER_VALLE_DLL [ROUNDS] [PRESETS...]
# e.g. git archive c912e11 | tar -x -C /tmp/valle-base && (cd /tmp/valle-base && dotnet build src/VallE.Cli -c Release)
#      bench/ab-bench.sh /tmp/valle-base/src/VallE.Cli/bin/Release/net10.0/valle.dll src/VallE.Cli/bin/Release/net10.0/valle.dll 3 small full
set -euo pipefail
before="$1"; after="$2"; rounds="${3:-3}"; shift 3 || true
presets=("${@:-small}")
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
out="$(mktemp -d)"
run() { # label dll preset round
  dotnet "$2" bench --preset "$3" --torch none --threads 2 --bandwidth 10 --json 2>/dev/null > "$out/$1-$3-$4.json"
  python3 - "$out/$1-$3-$4.json" "$1" "$3" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))["engine"]
print(f"{sys.argv[3]:5} {sys.argv[2]:6} total {e['total_ms']:8.1f} ms  AR {e['ar_ms']:7.1f} ms  decode {e['decode_ms_per_step']:6.2f} ms/step  NAR {e['nar_ms']:7.1f} ms")
PY
}
for p in "${presets[@]}"; do
  for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) = 1 ]; then run before "$before" "$p" "$r"; run after "$after" "$p" "$r"; else run after "$after" "$p" "$r"; run before "$before" "$p" "$r"; fi
  done
done
python3 - "$out" "${presets[@]}" <<'PY'
import glob, json, statistics, sys
out = sys.argv[1]
for p in sys.argv[2:]:
    def med(label, key):
        return statistics.median(json.load(open(f))["engine"][key] for f in glob.glob(f"{out}/{label}-{p}-*.json"))
    for key in ("total_ms", "decode_ms_per_step", "nar_ms"):
        b, a = med("before", key), med("after", key)
        print(f"{p:5} {key:18} before {b:8.2f}  after {a:8.2f}  after/before {a / b:.3f}")
PY
