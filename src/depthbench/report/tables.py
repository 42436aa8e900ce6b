"""Report tables: analysis frames shaped for reading, and written as CSV (the
analysis numbers, for scripts), Markdown and LaTeX (:mod:`depthbench.report.latex`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from depthbench.analysis import INSTANCE, PANEL, TASK, Analysis, natural
from depthbench.analysis.intervals import LEVEL
from depthbench.analysis.samples import LEARNED_TEXT
from depthbench.report.latex import latex
from depthbench.schema import DEEP_NEURONS, P_STAR, SHALLOW_NEURONS, theory_column

MARKS = {"": "", ">": "> ", "<=": "<= ", ">=": ">= ", "undetermined": ""}


def number(value: float) -> str:
    """Three significant digits (whole numbers from 1000 up); ``-`` for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def interval(lo: float, hi: float, coverage: float) -> str:
    """``[0.03, 0.052]`` for an interval of at least the nominal coverage,
    ``(range 0.03-0.052)`` for a range over fewer seeds (its coverage is lower, said in
    the table's caption; ``(range -0.47 to -0.24)`` where a bound is negative); empty
    where there is none."""
    if not (isinstance(coverage, float) and coverage > 0):
        return ""
    if coverage >= LEVEL:
        return f"[{number(lo)}, {number(hi)}]"
    to = "-" if lo >= 0 and hi >= 0 else " to "  # -0.47 to -0.24, not -0.47--0.24
    return f"(range {number(lo)}{to}{number(hi)})"


def with_interval(value: float, lo: float, hi: float, coverage: float) -> str:
    """``0.041 [0.03, 0.052]``: the value and its :func:`interval`; ``-`` where
    there is no value."""
    if isinstance(value, float) and math.isnan(value):
        return "-"
    return f"{number(value)} {interval(lo, hi, coverage)}".strip()


def censored(value: float, censor: str, lo: float, hi: float, coverage: float) -> str:
    """A possibly censored value: ``> 3000`` or ``>= 12.5``: censored values are bounds
    and get no interval; exact ones get :func:`with_interval`."""
    if censor == "undetermined":
        return "undetermined"
    if censor:
        return f"{MARKS[censor]}{number(value)}"
    return with_interval(value, lo, hi, coverage)


def in_order(frame: pd.DataFrame, *keys: str) -> pd.DataFrame:
    """``frame`` sorted by ``keys`` with numbers inside labels compared by value."""
    return frame.sort_values(
        list(keys),
        key=lambda col: col if pd.api.types.is_numeric_dtype(col) else col.map(natural),
        ignore_index=True,
    )


def cells(a: Analysis) -> pd.DataFrame:
    """Per cell: size, the learning rate chosen on validation (``*`` at the grid's edge),
    validation metric, selected test metric with its interval, training loss,
    converged members, the test-selected oracle, counts, the baselines that beat it,
    and the theorem's floor for the cell's shape where one applies."""
    c = in_order(a.cells, PANEL, "depth", "budget")
    table = pd.DataFrame(
        {
            "panel": c[PANEL],
            "depth": c["depth"],
            "budget": c["budget"],
            "width": c["width"],
            "n_params": c["n_params"],
            "lr (val)": [
                ("-" if pd.isna(lr) else f"{lr:g}") + ("*" if e else "")
                for lr, e in zip(c["lr"], c["lr_edge"].fillna(""))
            ],
            "val": c["val"].map(number),
            "test": [
                with_interval(*v)
                for v in zip(c["tuned"], c["tuned_lo"], c["tuned_hi"], c["coverage"])
            ],
            "train loss": c["train_loss"].map(number),
            "converged": [
                f"{k:.0f}/{m:.0f}" if pd.notna(m) else "-"
                for k, m in zip(c["converged"], c["members"])
            ],
            "oracle (test-selected)": c["oracle"].map(number),
            "ok": c["ok"],
            "diverged": c["diverged"],
            "infeasible": c["infeasible"],
            "beaten by baseline": c["beaten_by"],
        }
    )
    if c["floor"].notna().any():
        table["floor (theorem)"] = c["floor"].map(number)
    return table


def by_depth(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Rows panel x eps, one column per depth, cells from :func:`censored`."""
    if frame.empty:
        return pd.DataFrame()
    text = frame.assign(
        text=[
            censored(*v)
            for v in zip(
                frame["value"], frame["censor"], frame["lo"], frame["hi"], frame["coverage"]
            )
        ]
    )
    wide = text.pivot_table(index=[PANEL, "eps"], columns="depth", values="text", aggfunc="first")
    wide = wide.fillna("-")  # a depth with no trained cell in this panel
    wide.columns = [f"{name} depth {d}" for d in wide.columns]
    wide = in_order(wide.reset_index().assign(eps=lambda t: -t["eps"]), PANEL, "eps")
    wide["eps"] = (-wide["eps"]).map("{:.3g}".format)
    return wide


def baselines(a: Analysis) -> pd.DataFrame:
    """Per task instance, n_train, baseline and budget: its size and test/validation metric."""
    b = in_order(a.baselines, TASK, "baseline", "n_params")
    return pd.DataFrame(
        {
            "task": b[TASK],
            "n_train": b["n_train"].astype("string").fillna("-"),
            "baseline": b["baseline"],
            "budget": b["budget"].astype("string").fillna("-"),
            "n_params": b["n_params"],
            "val": b["val_metric"].map(number),
            "test": b["test_metric"].map(number),
            "seeds": b["replicates"],
        }
    )


def neurons(a: Analysis) -> pd.DataFrame:
    """``N_d(eps)`` by depth with the theorems' neuron counts of the task beside it."""
    table = by_depth(a.n, "N")
    if table.empty:
        return table
    theory = [
        (key, theory_column(key))
        for key in (SHALLOW_NEURONS, DEEP_NEURONS)
        if theory_column(key) in a.instances.columns
    ]
    if theory:
        instance = a.n.drop_duplicates(PANEL).set_index(PANEL)[INSTANCE]
        for key, column in theory:
            values = instance.map(a.instances[column])
            table[key] = table[PANEL].map(values).map(number)
    return table


def guaranteed_alpha(a: Analysis) -> pd.Series:
    """Per fit: the exponent of test_metric against *parameters* that the task's theory
    guarantees, where it states one, else NaN. The theory's exponents are against
    units: ``theory.alpha_shallow`` holds as is for one hidden layer of a dense net
    (parameters grow like units); the locally connected tree net's parameters grow
    like its width squared and its units like its width, so ``theory.alpha_deep``
    halves. A weight-shared tree (a CNN) cannot hold position-dependent nodes: none."""
    info = a.instances.loc[a.fits[INSTANCE]].reset_index(drop=True)
    f = a.fits.reset_index(drop=True)
    shared = info["model.shared"].eq(True) if "model.shared" in info else False
    out = pd.Series(float("nan"), index=f.index)
    for key, applies, factor in (
        ("alpha_shallow", (info["model"] == "mlp") & (f["depth"] == 1), 1.0),
        ("alpha_deep", (info["model"] == "tree") & ~shared, 0.5),
    ):
        column = theory_column(key)
        if column in info:
            out = out.where(~applies, info[column] * factor)
    return out


def fits(a: Analysis) -> pd.DataFrame:
    f = a.fits
    table = pd.DataFrame(
        {
            "panel": f[PANEL],
            "depth": f["depth"],
            "alpha": [with_interval(*v) for v in zip(f["alpha"], f["lo"], f["hi"], f["coverage"])],
            "c": f["c"].map(number),
            "cells fitted": f["points"],
        }
    )
    guaranteed = guaranteed_alpha(a)
    if guaranteed.notna().any():  # a worst case over the class: a random member can beat it
        table["guaranteed alpha (worst case)"] = guaranteed.map(number).to_numpy()
    return table


def samples(a: Analysis) -> pd.DataFrame:
    s = a.samples
    if s.empty:
        return pd.DataFrame()
    table = pd.DataFrame(
        {
            "instance": s[INSTANCE],
            "depth": s["depth"],
            "budget": s["budget"],
            f"eps ({LEARNED_TEXT})": s["eps"].map("{:g}".format),
            "n_train to learn": [
                censored(*v) for v in zip(s["value"], s["censor"], s["lo"], s["hi"], s["coverage"])
            ],
        }
    )
    if theory_column(P_STAR) in a.instances.columns:
        table["P_star (theory)"] = s[INSTANCE].map(a.instances[theory_column(P_STAR)]).map(number)
    return table


def constructed(df: pd.DataFrame) -> pd.DataFrame:
    """One row per constructed network: its size beside the theorem's count.

    ``theorem`` is the task's theory count (hidden neurons, or ReLU units for the
    sawtooth) for the construction's depth: shallow for one hidden layer, else deep.
    """
    params = sorted(c for c in df.columns if c.startswith("task."))
    built = df[df["status"] == "constructed"].sort_values(["task", *params, "model"])
    rows = []
    for _, row in built.iterrows():
        column = theory_column(SHALLOW_NEURONS if row["depth"] == 1 else DEEP_NEURONS)
        theorem = row.get(column, float("nan"))
        rows.append(
            {
                "task": row[PANEL],
                "construction": row["model"],
                "hidden layers": row["depth"],
                "hidden neurons": row["n_hidden"],
                "theorem": None if pd.isna(theorem) else round(theorem),
                "n_params": row["n_params"],
                "lambda": row["scale"],
                "test_metric": row["test_metric"],
            }
        )
    return pd.DataFrame(rows).astype({"theorem": "Int64"})


def readable(table: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """``table`` with its ``panel``, ``task`` and ``instance`` labels shortened to what
    varies between panels (``names``, :func:`depthbench.analysis.short_names`); a label
    column that says nothing (one panel) is dropped; float columns as :func:`number`
    writes them, and ``-`` for every missing value."""
    table = table.copy()
    for column in table.columns[table.dtypes.map(pd.api.types.is_float_dtype)]:
        table[column] = table[column].map(number)  # as every other number: 3 digits, "-"
    for column in table.columns[table.isna().any()]:  # e.g. an infeasible cell's width
        table[column] = table[column].astype("string").fillna("-")
    for column in ("panel", "task", "instance"):
        if column in table:
            short = table[column].map(lambda v: names.get(v, v))
            if (short == "").all():
                table = table.drop(columns=column)
            else:
                table[column] = short
    return table


def write(
    table: pd.DataFrame,
    numbers: pd.DataFrame,
    out: Path,
    name: str,
    caption: str,
    names: Mapping[str, str],
) -> str:
    """Write ``tables/<name>.{csv,md,tex}`` under ``out``: the CSV holds ``numbers``
    (the analysis frame, full labels), the others the readable ``table`` with short
    labels (:func:`readable`). Returns the Markdown."""
    table = readable(table, names)
    folder = out / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    numbers.drop(columns=["replicates"], errors="ignore").to_csv(
        folder / f"{name}.csv", index=False
    )
    markdown = table.to_markdown(index=False, floatfmt=".3g")
    (folder / f"{name}.md").write_text(markdown + "\n")
    (folder / f"{name}.tex").write_text(latex(table, caption, name))
    return markdown
