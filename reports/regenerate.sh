#!/usr/bin/env bash
# Rebuild every committed report from the rows it ships (reports/<name>/rows/), then the
# front page (reports/index.md) from reports/claims.yaml, as a fresh clone can: nothing
# is trained, nothing outside the repository is read.
set -euo pipefail
cd "$(dirname "$0")/.."
for report in reports/*/; do
  name=$(basename "$report")
  if [ -d "$report/rows" ]; then
    depthbench report "$report/rows" --out "$report"
  elif [ -f "$report/index.md" ]; then
    echo "not rebuilt: $name has no rows/ (re-run its experiment: reports/README.md)" >&2
  fi
done
depthbench front reports
