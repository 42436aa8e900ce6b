"""``depthbench report``: the numbers and figures a paper needs, from stored results
only.

Outputs under ``--out``: ``index.md`` and a self-contained ``index.html``; figures
``fig*.png``/``.pdf``; ``tables/<name>.{csv,md,tex}``; ``manifest.json`` (what the
report was made from). The same rows give identical tables and files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from depthbench import analysis, results
from depthbench.analysis import INSTANCE, Analysis
from depthbench.analysis.cells import LEVEL, REPS, status_counts
from depthbench.errors import ResultsError
from depthbench.report import figures, tables
from depthbench.report.page import Block, Figure, Heading, Table, Text, html_page, markdown

TITLE = "depthbench report"


def _provenance(df: pd.DataFrame, dirs: Sequence[Path], eps: Sequence[float] | None) -> list[Block]:
    shas = ", ".join(
        f"`{sha[:12]}`" + (" (uncommitted changes)" if dirty is True else "")
        for sha, dirty in df.groupby(["git_sha", "git_dirty"], dropna=False).size().index
    )
    ok = df[df["status"] == "ok"]
    command = "depthbench report " + " ".join(os.path.relpath(d) for d in dirs) + " --out <dir>"
    if eps:
        command += " --eps " + " ".join(f"{e:g}" for e in eps)
    items = [
        f"Regenerate with: `{command}`",
        f"rows: {len(df)} ({', '.join(f'{k} {v}' for k, v in status_counts(df).items())})",
        f"code: {shas}; depthbench {', '.join(sorted(df['package_version'].unique()))}; "
        f"torch {', '.join(sorted(df['torch_version'].unique()))}",
        f"devices: {', '.join(sorted(set(df['device'] + ' (' + df['device_name'] + ')')))}",
        f"created: {df['created_at'].min()} to {df['created_at'].max()}; training + evaluation "
        f"time summed over models: {(df['train_time_s'] + df['eval_time_s']).sum():.1f} s",
    ]
    if len(ok):
        items.append(
            f"training: steps {', '.join(map(str, sorted(ok['steps'].unique())))}, batch size "
            f"{', '.join(map(str, sorted(ok['batch_size'].unique())))}, learning rates "
            f"{', '.join(f'{v:g}' for v in sorted(ok['lr'].unique()))}, seeds {ok['seed'].nunique()}")
    return [Text("\n".join(f"- {item}" for item in items))]


METHOD = (
    "Each cell (task instance, model, n_train, depth, budget) is trained over seeds x "
    "learning rates. Its value is *tuned*: per seed the best test_metric over learning "
    "rates, then the median over seeds. test_metric is `MSE / Var(y_test)` for "
    "regression (1 = predicting the mean) and the error rate for classification; lower "
    f"is better. Intervals are {LEVEL:.0%} percentile bootstrap intervals over seeds "
    f"({REPS} replicates, fixed generator). P_d(eps) is the smallest n_params at which "
    "depth d reaches test_metric <= eps, interpolated log-log between budgets; `> x`: "
    "not reached up to the largest budget x (a lower bound), `<= x`: already reached at "
    "the smallest budget x. E_d(eps) = P_1(eps) / P_d(eps); from censored sizes it is a "
    "bound (`>=`, `<=`) or undetermined. Default eps: 50%, 20% and 10% of chance."
)


def _table(out: Path, name: str, table: pd.DataFrame, numbers: pd.DataFrame, caption: str) -> Table:
    md = tables.write(table, numbers, out, name, caption)
    return Table(table, md, f"`tables/{name}.csv` (numbers), `.md` and `.tex`")


def _blocks(a: Analysis, df: pd.DataFrame, out: Path) -> list[Block]:
    blocks: list[Block] = []
    if not a.curves.points.empty:
        blocks += [Heading("How to read this report"), Text(METHOD)]
    if not a.e.empty:
        blocks += [Heading("Depth efficiency E_d(eps) = P_1(eps) / P_d(eps)"),
                   _table(out, "efficiency", tables.by_depth(a.e, "E"), a.e,
                          "Depth efficiency: parameters depth 1 needs over those depth d needs")]
    if not a.p.empty:
        blocks += [Heading("P_d(eps): parameters to reach eps"),
                   _table(out, "p_d", tables.by_depth(a.p, "P"), a.p,
                          "Smallest parameter count reaching test_metric <= eps"),
                   Heading("N_d(eps): hidden neurons to reach eps, beside the theorems' counts"),
                   _table(out, "n_d", tables.neurons(a), a.n,
                          "Smallest hidden-neuron count reaching test_metric <= eps")]
    made = [
        (figures.metric_vs_params(a, df, out),
         "Figure 1: tuned test_metric against parameters per depth (band: 95% bootstrap "
         "interval over seeds; stars: constructed networks; dashed: chance; dotted: Bayes optimum)"),
        (figures.efficiency_vs_size(a, out),
         "Figure 2: depth efficiency against problem size (middle default eps); dashed: the "
         "theorems' shallow / deep neuron ratio"),
        (figures.heatmap(a, out),
         "Figure 3: tuned test_metric over hidden layers x budget, cells annotated with width"),
    ]
    for paths, caption in made:
        blocks += [Figure(p, caption) for p in paths]
    if not a.fits.empty:
        blocks += [Heading("Scaling: test_metric ~ c n_params^(-alpha)"),
                   _table(out, "scaling", tables.fits(a), a.fits,
                          "Power-law fits of tuned test_metric against parameters")]
    if not a.samples.empty:
        blocks += [Heading("Sample complexity"),
                   _table(out, "samples", tables.samples(a), a.samples,
                          "Training samples at which test error falls below 10% of chance")]
        blocks += [Figure(p, "Figure 4: test_metric against training samples (largest budget "
                          "per depth); dash-dot: learned threshold; vertical: theory's P_star")
                   for p in figures.sample_complexity(a, out)]
    if (df["status"] == "constructed").any():
        built = tables.constructed(df)
        blocks += [Heading("Constructed networks"),
                   Text("The networks the theorems build (SCIENCE.md, \"Constructed networks\"), "
                        "evaluated in float32 on the same test draw as trained networks; "
                        "`theorem` is the neuron (or ReLU unit) count the theory states, "
                        "`lambda` the input scale chosen on a separate validation draw. A "
                        "product tree over n inputs, n not a power of two, carries a value "
                        "through a layer (2 neurons), so it can exceed 4(n-1)."),
                   _table(out, "constructed", built, built, "Constructed networks")]
    if not a.cells.empty:
        blocks += [Heading("Cost")]
        blocks += [Figure(p, "Figure 5: training time per model (its group's time shared "
                          "among members) against parameters")
                   for p in figures.wall_time(df, out)]
        blocks += [Heading("Every cell"),
                   _table(out, "cells", tables.cells(a), a.cells, "Every cell of the grid")]
    return blocks


def _manifest(df: pd.DataFrame, dirs: Sequence[Path], a: Analysis, out: Path) -> dict:
    return {
        "results_dirs": [os.path.relpath(d) for d in dirs],
        "rows": {"total": len(df), **status_counts(df)},
        "instances": sorted(set(df[INSTANCE])),
        "git_shas": sorted(set(df["git_sha"])),
        "uncommitted_changes": bool(df["git_dirty"].fillna(False).any()),
        "package_versions": sorted(set(df["package_version"])),
        "torch_versions": sorted(set(df["torch_version"])),
        "devices": sorted(set(df["device"] + " (" + df["device_name"] + ")")),
        "created": [df["created_at"].min(), df["created_at"].max()],
        "eps": a.eps,
        "bootstrap": {"replicates": REPS, "level": LEVEL, "unit": "seed"},
        "files": sorted(str(p.relative_to(out)) for p in out.rglob("*")
                        if p.is_file() and p.name != "manifest.json"),
    }


def build_report(dirs: Sequence[Path], out: Path, eps: Sequence[float] | None = None) -> Path:
    """Write the report for the results under ``dirs`` into ``out``; returns ``index.md``.

    ``eps``: thresholds for P_d / E_d for every task (default: fractions of chance).
    """
    if out.exists() and not out.is_dir():
        raise ResultsError(f"--out {out} is a file; give a directory to write the report into")
    if eps is not None and any(e <= 0 for e in eps):
        raise ResultsError(f"--eps: thresholds must be positive test_metric values, got {list(eps)}")
    df = results.load(dirs, refuse_versions=True)
    if df.empty:
        raise ResultsError(f"no result rows in {', '.join(map(str, dirs))}; run `depthbench run` first")
    if not df["status"].isin(["ok", "constructed"]).any():
        raise ResultsError("no trained (status=ok) or constructed rows to report; rows by status: "
                           f"{status_counts(df)}")
    df = analysis.label(df)
    a = analysis.analyze(df, eps)
    out.mkdir(parents=True, exist_ok=True)
    blocks = [Heading(TITLE, 1), *_provenance(df, dirs, eps), *_blocks(a, df, out)]
    page = out / "index.md"
    page.write_text(markdown(blocks))
    (out / "index.html").write_text(html_page(blocks, TITLE))
    (out / "manifest.json").write_text(json.dumps(_manifest(df, dirs, a, out), indent=2) + "\n")
    return page
