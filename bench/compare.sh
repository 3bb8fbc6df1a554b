#!/usr/bin/env bash
# Side-by-side timing of VallE.NET's CPU engine and the PyTorch references, for both model sizes.
# Each size is one `valle bench` run: same random-weight checkpoint (cached in $VALLE_BENCH_CACHE or
# /tmp/valle-bench), same seeded inputs (text 60 tokens, 3 s prompt = 225 frames) and the same number of generated
# frames for every implementation. Tables go to stdout, JSON to artifacts/bench/<preset>.json.
#
#   bench/compare.sh                    small (150 frames) and full (50 frames), all cores
#   bench/compare.sh small              one preset
#   THREADS=2 FRAMES=100 bench/compare.sh small -- --weights-dtype bf16   (extra args after -- go to valle bench)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CONFIGURATION="${CONFIGURATION:-Release}"
VALLE="$ROOT/src/VallE.Cli/bin/$CONFIGURATION/net10.0/valle.dll"

presets=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do presets+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#presets[@]} -gt 0 ] || presets=(small full)

[ -f "$VALLE" ] || dotnet build "$ROOT/VallE.sln" -c "$CONFIGURATION" -nologo -clp:ErrorsOnly -v:quiet
mkdir -p "$ROOT/artifacts/bench"
for preset in "${presets[@]}"; do
  args=(bench --preset "$preset" --threads "${THREADS:-$(nproc)}")
  [ -n "${FRAMES:-}" ] && args+=(--frames "$FRAMES")
  echo "== valle ${args[*]} $*" >&2
  dotnet "$VALLE" "${args[@]}" "$@" --json > "$ROOT/artifacts/bench/$preset.json.tmp"
  mv "$ROOT/artifacts/bench/$preset.json.tmp" "$ROOT/artifacts/bench/$preset.json"
  /usr/bin/python3 - "$ROOT/artifacts/bench/$preset.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
m = r["model"]
print(f'{r["preset"]}: d={m["d_model"]} heads={m["nhead"]} layers={m["layers"]}, {r["weights_dtype"]}, {r["threads"]} threads, '
      f'text {r["text_tokens"]}, prompt {r["prompt_frames"]}, {r["frames"]} frames ({r["frames"] / 75:.2f} s audio)')
print(f'| implementation | AR ms/token | decode ms/step | prefill ms | NAR ms | total ms | RTF | engine speedup |')
print(f'|---|---:|---:|---:|---:|---:|---:|---:|')
for row in [r["engine"]] + r["references"]:
    print(f'| {row["name"]} | {row["ar_ms_per_token"]:.2f} | {row["decode_ms_per_step"]:.2f} | {row["prefill_ms"]:.0f} | '
          f'{row["nar_ms"]:.0f} | {row["total_ms"]:.0f} | {row["rtf"]:.3f} | {row["engine_speedup"]:.1f}x |')
f = r["floor"]
print(f'AR decode floor {f["weight_bytes_per_step"] / 1e6:.1f} MB / {f["bandwidth_gbps"]:.1f} GB/s = {f["floor_ms"]:.2f} ms; '
      f'engine {f["engine_vs_floor"]:.2f}x the floor')
for row in r["references"]:
    d = row["codes_first_different_frame"]
    print(f'codes vs {row["name"]}: ' + ("identical" if d is None else f"differ from frame {d}"))
if r.get("torch_skipped"):
    print("PyTorch references skipped:", r["torch_skipped"])
print("machine:", r["machine"])
PY
done
