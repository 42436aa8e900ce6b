#!/usr/bin/env bash
# Rebuild every committed report from the rows it ships (reports/<name>/rows/), as a
# fresh clone can: nothing is trained, nothing outside the repository is read.
# Reports without rows predate kept rows (schema version 2); they are listed, not
# rebuilt: re-run their experiment (reports/README.md) to bring them back.
set -euo pipefail
cd "$(dirname "$0")/.."
for report in reports/*/; do
  name=$(basename "$report")
  if [ -d "$report/rows" ]; then
    depthbench report "$report/rows" --out "$report"
  elif [ -f "$report/index.md" ]; then
    echo "not rebuilt: $name has no rows/ (made before reports kept their rows; re-run it)" >&2
  fi
done
