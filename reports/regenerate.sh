#!/usr/bin/env bash
# Regenerate every committed report from stored results: results/<name> -> reports/<name>.
# (The runs themselves: see the table in reports/README.md.)
set -euo pipefail
cd "$(dirname "$0")/.."
for name in quick oracles lin_tegmark_product teacher_control telgarsky_sawtooth broadcast_bayes; do
  if [ -d "results/$name" ]; then
    depthbench report "results/$name" --out "reports/$name"
  else
    echo "skipping $name: no results/$name (run its experiment first)" >&2
  fi
done
