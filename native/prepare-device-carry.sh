#!/usr/bin/env bash
# Prepares .device/ for native/device-check.sh on a GPU machine that has nvcc but no .NET (the lent H200 image):
#   .device/dotnet-rt.tar.xz   the .NET runtime (host + Microsoft.NETCore.App) of this machine, xz-compressed
#   .device/runner/            tests/VallE.CudaTestRunner Release build (NUnit in-process runner + VallE.Tests)
#   .device/shared/            the valle-tiny and vallex-tiny PyTorch fixtures and ecker arnar_d64, which the CUDA tests read
# .device/ is excluded from git locally (.git/info/exclude). Then, with the device tool:
#   run(command="native/device-check.sh", carry=[".device"], timeout_s=540)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUTDIR="$ROOT/.device"
EXCLUDE="$(git rev-parse --git-path info/exclude)"
grep -qx '/.device/' "$EXCLUDE" 2>/dev/null || echo '/.device/' >> "$EXCLUDE"
rm -rf "$OUTDIR" && mkdir -p "$OUTDIR/runner"

dotnet build tests/VallE.CudaTestRunner -c Release -nologo -clp:ErrorsOnly -v:quiet
cp -r tests/VallE.CudaTestRunner/bin/Release/net10.0/. "$OUTDIR/runner/"
# Satellite resource folders (cs/, de/, ...) and symbols are not needed there; the carry limit is 64 MiB.
find "$OUTDIR/runner" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} + ; rm -f "$OUTDIR/runner"/*.pdb

DOTNET_ROOT="$(dirname "$(readlink -f "$(command -v dotnet)")")"
runtime="$(ls -d "$DOTNET_ROOT"/shared/Microsoft.NETCore.App/10.* | sort -V | tail -1)"
tar -C "$DOTNET_ROOT" -cf - dotnet host "shared/Microsoft.NETCore.App/$(basename "$runtime")" | xz -T0 -9e > "$OUTDIR/dotnet-rt.tar.xz"

SHARED="${VALLE_SHARED:-$ROOT/../shared}"
# What tests/VallE.Tests/Cuda/CudaFixtureTests reads of every fixture (not the NAR logits: 5 MB each, unused there).
for fixture in valle-tiny vallex-tiny; do
  mkdir -p "$OUTDIR/shared/fixtures/valle/$fixture"
  for f in checkpoint.pt text_tokens.npy prompt_codes.npy expected_codes.npy expected_ar_logits.npy meta.json \
           continual_input_codes.npy expected_continual_codes.npy; do
    cp "$SHARED/fixtures/valle/$fixture/$f" "$OUTDIR/shared/fixtures/valle/$fixture/" 2>/dev/null || echo "note: $fixture/$f not found"
  done
done
# The ecker CUDA test (tests/VallE.Tests/Cuda/CudaEckerTests) reads these of arnar_d64 (7.4 MB; not the NAR logits).
mkdir -p "$OUTDIR/shared/fixtures/ecker/arnar_d64"
for f in fp32.sft text.npy prompt_codes.npy expected_codes.npy ar_logits.npy meta.json; do
  cp "$SHARED/fixtures/ecker/arnar_d64/$f" "$OUTDIR/shared/fixtures/ecker/arnar_d64/" 2>/dev/null || echo "note: ecker/arnar_d64/$f not found"
done
du -sh "$OUTDIR"
bytes=$(du -sb "$OUTDIR" | cut -f1)
[ "$bytes" -le $((64 * 1024 * 1024)) ] || echo "warning: .device is $bytes bytes, over the device tool's 64 MiB carry limit" >&2
