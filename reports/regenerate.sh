#!/usr/bin/env bash
# Regenerate every committed report from stored results: results/<name> -> reports/<name>.
# (The runs themselves: see the table in reports/README.md.)
set -euo pipefail
cd "$(dirname "$0")/.."
for name in quick oracles lin_tegmark_product rolnick_tegmark_heatmap poggio_tree telgarsky_sawtooth \
            rhm_sample_complexity broadcast_bayes radial teacher_control \
            rolnick_tegmark_heatmap_full radial_full teacher_control_full; do
  # thresholds: each experiment's report.eps, declared in its YAML and stored in its rows
  if [ -d "results/$name" ]; then
    depthbench report "results/$name" --out "reports/$name"
  else
    echo "skipping $name: no results/$name (run its experiment first)" >&2
  fi
done
