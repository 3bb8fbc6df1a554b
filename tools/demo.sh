#!/usr/bin/env bash
# ./build.sh demo: shows what the product does today. Grows with each issue.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
echo "VallE.NET demo: nothing to show yet."
