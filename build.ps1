# VallE.NET build entry point (Windows, PowerShell 7+). Mirrors build.sh; thin on purpose.
#
#   .\build.ps1 test      build Release, run the NUnit suite, print "N passed, N failed, N skipped"
#   .\build.ps1 demo      build and run tools/demo.sh's steps (needs Python with torch + onnx on PATH)
#   .\build.ps1 build     build Release only
#   .\build.ps1 kernels   compile native/kernels with nvcc through CMake (CUDA Toolkit must be installed)
#   .\build.ps1 deps      check the prerequisites (ONNX Runtime comes with the build: NuGet Microsoft.ML.OnnxRuntime)
#   .\build.ps1 bench     run `valle bench`
#   .\build.ps1 pack      NuGet packages VallE.Weights + VallE.Runtime into artifacts/packages ($env:VERSION overrides)
#
# Windows has no apt: the .NET 10 SDK, espeak-ng and (for kernels) the CUDA Toolkit + CMake are installed by hand
# (e.g. `winget install Microsoft.DotNet.SDK.10 espeak-ng.espeak-ng Kitware.CMake`).
# Untested in CI: CI runs build.sh on Debian.
param([Parameter(Position = 0)][string]$Command = "test", [Parameter(ValueFromRemainingArguments = $true)][string[]]$Rest)
$ErrorActionPreference = "Stop"
$Root = $PSScriptRoot
$Configuration = if ($env:CONFIGURATION) { $env:CONFIGURATION } else { "Release" }
$Deps = Join-Path $Root ".deps"
$env:DOTNET_CLI_TELEMETRY_OPTOUT = "1"; $env:DOTNET_NOLOGO = "1"

function Log([string]$m) { Write-Host "[build] $m" }
function Die([string]$m) { Write-Error "[build] error: $m"; exit 1 }

function Ensure-Dotnet {
    $sdks = & dotnet --list-sdks 2>$null
    if (-not ($sdks -match '^10\.')) { Die ".NET 10 SDK not found: install it (winget install Microsoft.DotNet.SDK.10)" }
}

function Ensure-Deps {
    New-Item -ItemType Directory -Force $Deps | Out-Null
    Ensure-Dotnet
    if (-not (Get-Command espeak-ng -ErrorAction SilentlyContinue)) { Log "espeak-ng not found: phonemizer tests will skip (winget install espeak-ng.espeak-ng)" }
}

function Build { Log "dotnet build ($Configuration)"; & dotnet build (Join-Path $Root "VallE.sln") -c $Configuration -nologo -clp:ErrorsOnly -v:quiet; if ($LASTEXITCODE) { exit $LASTEXITCODE } }

function Valle { & dotnet (Join-Path $Root "src/VallE.Cli/bin/$Configuration/net10.0/valle.dll") @args; exit $LASTEXITCODE }

function Run-Tests {
    $results = Join-Path $Root "artifacts/test-results"
    Remove-Item -Recurse -Force $results -ErrorAction SilentlyContinue
    & dotnet test (Join-Path $Root "tests/VallE.Tests/VallE.Tests.csproj") -c $Configuration --no-build -nologo `
        --logger "trx;LogFileName=results.trx" --results-directory $results -- NUnit.DisplayName=FullName
    $rc = $LASTEXITCODE
    $trx = Get-ChildItem $results -Filter *.trx -ErrorAction SilentlyContinue | Select-Object -First 1
    if (-not $trx) { "0 passed, 1 failed"; Die "no test results (build or runner failure)" }
    $c = ([xml](Get-Content $trx.FullName)).TestRun.ResultSummary.Counters
    "$($c.passed) passed, $($c.failed) failed, $([int]$c.total - [int]$c.executed) skipped"
    exit $rc
}

function Build-Kernels {
    if (-not (Get-Command nvcc -ErrorAction SilentlyContinue)) { Log "no CUDA compiler found: skipping the kernels (the runtime falls back to the CPU)"; return }
    $build = Join-Path $Root "build/kernels"
    & cmake -S $Root -B $build -DCMAKE_BUILD_TYPE=Release; if ($LASTEXITCODE) { exit $LASTEXITCODE }
    & cmake --build $build --config Release; if ($LASTEXITCODE) { exit $LASTEXITCODE }
}

function Pack {
    $out = Join-Path $Root "artifacts/packages"
    $version = $env:VERSION
    if (-not $version) { $version = ([xml](Get-Content (Join-Path $Root "Directory.Build.props"))).Project.PropertyGroup.Version | Where-Object { $_ } | Select-Object -First 1 }
    Remove-Item -Recurse -Force $out -ErrorAction SilentlyContinue
    Log "dotnet pack $version -> artifacts/packages"
    foreach ($p in "VallE.Weights", "VallE.Runtime") {
        & dotnet pack (Join-Path $Root "src/$p/$p.csproj") -c Release -o $out "-p:Version=$version" -nologo -clp:ErrorsOnly -v:quiet
        if ($LASTEXITCODE) { exit $LASTEXITCODE }
    }
}

switch ($Command) {
    "deps" { Ensure-Deps }
    "build" { Ensure-Deps; Build }
    "test" { Ensure-Deps; Build; Run-Tests }
    "kernels" { Build-Kernels }
    "demo" { Ensure-Deps; Build; & bash (Join-Path $Root "tools/demo.sh") @Rest; exit $LASTEXITCODE }
    "bench" { Ensure-Deps; Build; Valle bench @Rest }
    "pack" { Ensure-Dotnet; Pack }
    default { Die "unknown command '$Command' (use: test, demo, build, kernels, deps, bench, pack)" }
}
