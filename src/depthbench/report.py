"""``depthbench report``: tables and plots from stored results, and nothing else.

Outputs under ``--out``: ``report.md`` (provenance and, per task instance, a table
of test_metric by budget x depth), ``summary.csv`` (one row per cell),
``test_metric_vs_n_params.{png,pdf}``, and, when constructed networks are stored,
their table beside the theorems' counts (``constructed.csv``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from depthbench import results  # noqa: E402
from depthbench.errors import ResultsError  # noqa: E402

FIGURE = "test_metric_vs_n_params"
PANEL = "panel"


def instance_columns(df: pd.DataFrame) -> list[str]:
    """Columns that identify a task instance and model family (``task``, ``task.*``, ...)."""
    params = [c for c in df.columns if c.startswith(("task.", "model."))]
    return ["task", *[c for c in params if c.startswith("task.")], "model",
            *[c for c in params if c.startswith("model.")]]


def _label(row: pd.Series, columns: Sequence[str]) -> str:
    """``product n=8 low=-1 high=1 · mlp activation=silu · n_train=8192``."""
    def part(name: str) -> str:
        args = [f"{c.split('.', 1)[1]}={row[c]:g}" if isinstance(row[c], float) else
                f"{c.split('.', 1)[1]}={row[c]}"
                for c in columns if c.startswith(f"{name}.") and pd.notna(row[c])]
        return " ".join([str(row[name]), *args])
    return f"{part('task')} · {part('model')} · n_train={row['n_train']}"


def with_panels(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with a ``panel`` column naming its task instance, model and n_train,
    labelled once per distinct panel."""
    keys = [*instance_columns(df), "n_train"]
    groups = df.groupby(keys, dropna=False, sort=False)
    firsts = df.loc[groups.head(1).index]  # one row per group, in ngroup order
    labels = [_label(row, keys) for _, row in firsts.iterrows()]
    return df.assign(**{PANEL: [labels[code] for code in groups.ngroup()]})


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """One row per cell (panel x depth x budget) of a :func:`with_panels` frame.

    Columns: the keys, ``width``, ``n_params``, ``n_hidden``, ``median`` and ``best``
    test_metric over the ``ok`` members (seeds x learning rates), the count of
    members per status, and the mean amortised ``train_time_s``.
    """
    keys = [PANEL, "n_train", "depth", "budget"]
    counts = pd.crosstab([df[k] for k in keys], df["status"])
    counts = counts.reindex(columns=[s for s in results.STATUSES if s != "constructed"], fill_value=0)
    ok = df[df["status"] == "ok"]
    stats = ok.groupby(keys).agg(
        width=("width", "first"),
        n_params=("n_params", "first"),
        n_hidden=("n_hidden", "first"),
        median=("test_metric", "median"),
        best=("test_metric", "min"),
        train_time_s=("train_time_s", "mean"),
    )
    return stats.join(counts, how="outer").reset_index().sort_values(keys, ignore_index=True)


def _cell_text(row: pd.Series) -> str:
    if row["ok"] > 0:
        return f"{row['median']:.3g} ({row['best']:.3g})"
    return "infeasible" if row["infeasible"] > 0 else "diverged"


def _tables(summary: pd.DataFrame) -> list[str]:
    lines = []
    for panel, part in summary.groupby(PANEL, sort=False):
        table = part.assign(text=part.apply(_cell_text, axis=1)).pivot(
            index="budget", columns="depth", values="text"
        )
        table.columns = [f"depth {d}" for d in table.columns]
        lines += [f"### {panel}", "", table.to_markdown(), ""]
    return lines


def _provenance(df: pd.DataFrame, dirs: Sequence[Path]) -> list[str]:
    shas = ", ".join(
        f"`{sha[:12]}`" + (" (uncommitted changes)" if dirty is True else "")
        for sha, dirty in df.groupby(["git_sha", "git_dirty"], dropna=False).size().index
    )
    counts = df["status"].value_counts().to_dict()
    ok = df[df["status"] == "ok"]
    return [
        "Regenerate with: `depthbench report "
        + " ".join(os.path.relpath(d) for d in dirs) + " --out <dir>`",
        "",
        f"- rows: {len(df)} ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})",
        f"- code: {shas}; depthbench {', '.join(sorted(df['package_version'].unique()))}; "
        f"torch {', '.join(sorted(df['torch_version'].unique()))}",
        f"- devices: {', '.join(sorted(set(df['device'] + ' (' + df['device_name'] + ')')))}",
        f"- created: {df['created_at'].min()} to {df['created_at'].max()}; "
        f"training + evaluation time summed over models: "
        f"{(df['train_time_s'] + df['eval_time_s']).sum():.1f} s",
    ] + ([
        f"- training: steps {', '.join(map(str, sorted(ok['steps'].unique())))}, "
        f"batch size {', '.join(map(str, sorted(ok['batch_size'].unique())))}, "
        f"learning rates {', '.join(f'{v:g}' for v in sorted(ok['lr'].unique()))}, "
        f"seeds {ok['seed'].nunique()}",
    ] if len(ok) else [])


def constructed_table(df: pd.DataFrame) -> pd.DataFrame:
    """One row per constructed network: its size beside the theorem's count.

    ``theorem`` is the task's ``theory.deep_*`` or ``theory.shallow_*`` entry (neurons,
    or ReLU units for the sawtooth), matched by the construction's name.
    """
    built = df[df["status"] == "constructed"].sort_values([*instance_columns(df), "model"])
    rows = []
    for _, row in built.iterrows():
        kind = row["model"].split("_", 1)[0]  # deep | shallow
        theory = [c for c in df.columns if c.startswith(f"theory.{kind}_") and pd.notna(row[c])]
        rows.append({
            "task": row[PANEL].split(" · ")[0],
            "construction": row["model"],
            "hidden layers": row["depth"],
            "hidden neurons": row["n_hidden"],
            "theorem": round(row[theory[0]]) if theory else None,
            "n_params": row["n_params"],
            "lambda": row["scale"],
            "test_metric": row["test_metric"],
        })
    return pd.DataFrame(rows).astype({"theorem": "Int64"})


def plot(df: pd.DataFrame, summary: pd.DataFrame, out: Path) -> list[Path]:
    """test_metric against n_params per depth, log-log, one panel per instance.

    Solid: median over seeds x learning rates, band: interquartile range;
    dotted: the best member.
    """
    ok = df[df["status"] == "ok"].astype({"n_params": float, "depth": str})
    best = summary.dropna(subset=["best"]).astype({"n_params": float, "depth": str})
    panels = list(dict.fromkeys(ok[PANEL]))
    sns.set_theme(style="whitegrid", palette="colorblind")
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.2), squeeze=False)
    hue_order = sorted(ok["depth"].unique(), key=int)
    for ax, panel in zip(axes[0], panels):
        sns.lineplot(
            data=ok[ok[PANEL] == panel], x="n_params", y="test_metric", hue="depth",
            hue_order=hue_order, estimator="median", errorbar=("pi", 50), marker="o", ax=ax,
        )
        sns.lineplot(
            data=best[best[PANEL] == panel], x="n_params", y="best", hue="depth",
            hue_order=hue_order, linestyle=":", legend=False, ax=ax,
        )
        ax.set(xscale="log", yscale="log", xlabel="parameters (n_params)",
               ylabel="test metric (relative MSE or error rate)")
        ax.set_title(panel, fontsize=9)
        sns.move_legend(ax, "upper left", bbox_to_anchor=(1.01, 1), title="hidden layers")
    fig.text(0.01, 0.01, "solid: median over seeds x lrs (band: IQR); dotted: best", fontsize=8)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    paths = [out / f"{FIGURE}.png", out / f"{FIGURE}.pdf"]
    for path in paths:
        # no creation date in the PDF: the same rows give the same files
        fig.savefig(path, dpi=150, metadata={"CreationDate": None} if path.suffix == ".pdf" else None)
    plt.close(fig)
    return paths


def build_report(dirs: Sequence[Path], out: Path) -> Path:
    """Write the report for the results under ``dirs`` into ``out``; returns ``report.md``."""
    if out.exists() and not out.is_dir():
        raise ResultsError(f"--out {out} is a file; give a directory to write the report into")
    df = results.load(dirs)
    if df.empty:
        raise ResultsError(f"no result rows in {', '.join(map(str, dirs))}; run `depthbench run` first")
    trained, built = (df["status"] == "ok").any(), (df["status"] == "constructed").any()
    if not (trained or built):
        counts = df["status"].value_counts().to_dict()
        raise ResultsError(
            f"no trained (status=ok) or constructed rows to report; rows by status: {counts}")
    df = with_panels(df)
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# depthbench report", "", *_provenance(df, dirs), ""]
    if trained:
        summary = summarize(df)
        summary.to_csv(out / "summary.csv", index=False)
        plot(df, summary, out)
        lines += [
            "## test_metric by budget and depth",
            "",
            "Median over seeds x learning rates, best in parentheses. test_metric is the",
            "relative MSE `MSE / Var(y_test)` (1.0 = predicting the mean) for regression and",
            "the error rate for classification; lower is better. Exact parameter counts per",
            "cell are in `summary.csv`.",
            "",
            *_tables(summary),
            f"![test_metric vs n_params]({FIGURE}.png)",
            "",
        ]
    if built:
        table = constructed_table(df)
        table.to_csv(out / "constructed.csv", index=False)
        lines += [
            "## Constructed networks",
            "",
            "The networks the theorems build (SCIENCE.md, \"Constructed networks\"), evaluated",
            "in float32 on the same test draw as trained networks; `theorem` is the neuron (or",
            "ReLU unit) count the theory states, `lambda` the input scale chosen on a separate",
            "validation draw. A product tree over n inputs, n not a power of two, carries a",
            "value through a layer (2 neurons), so it can exceed 4(n-1). Also in `constructed.csv`.",
            "",
            table.to_markdown(index=False, floatfmt=".3g"),
            "",
        ]
    page = out / "report.md"
    page.write_text("\n".join(lines))
    return page
