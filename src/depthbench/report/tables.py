"""Report tables: analysis frames shaped for reading, and written as CSV (the
analysis numbers, for scripts), Markdown and LaTeX (:mod:`depthbench.report.latex`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from depthbench.analysis import INSTANCE, PANEL, TASK, Analysis, natural
from depthbench.analysis.censoring import BETWEEN, UNDETERMINED
from depthbench.analysis.efficiency import BRACKETED, SUMMARY
from depthbench.analysis.intervals import LEVEL
from depthbench.analysis.samples import LEARNED_TEXT
from depthbench.report.latex import latex
from depthbench.schema import DEEP_NEURONS, P_STAR, SHALLOW_NEURONS, theory_column

MARKS = {"": "", ">": "> ", "<=": "<= ", ">=": ">= "}


def number(value: float) -> str:
    """Three significant digits (whole numbers from 1000 up); ``-`` for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def end(value: float, censor: str = "") -> str:
    """One end of a range or interval, with its open side marked: ``1602``,
    ``>10089`` (the replicate at that rank lies above), ``<=5``, ``?`` (unknown)."""
    if censor == UNDETERMINED:
        return "?"
    return f"{MARKS[censor].strip()}{number(value)}"


def interval(
    lo: float, hi: float, coverage: float, lo_censor: str = "", hi_censor: str = ""
) -> str:
    """``[0.03, 0.052]`` for an interval of at least the nominal coverage,
    ``(range 0.03-0.052)`` for a range over fewer seeds (its coverage is lower, said in
    the table's caption; ``(range -0.47 to -0.24)`` where a bound is negative or in
    exponent notation, ``(range 1602 to >10089)`` where an end is open, :func:`end`);
    empty where there is none or where both ends are unknown."""
    if not (isinstance(coverage, float) and coverage > 0):
        return ""
    if lo_censor == hi_censor == UNDETERMINED:  # the replicates say nothing: no "(? to ?)"
        return ""
    a, b = end(lo, lo_censor), end(hi, hi_censor)
    if coverage >= LEVEL:
        return f"[{a}, {b}]"
    plain = not lo_censor and not hi_censor and lo >= 0 and hi >= 0 and "e" not in a + b
    return f"(range {a}{'-' if plain else ' to '}{b})"  # -0.47 to -0.24, 1e-05 to 2e-05


def with_interval(value: float, lo: float, hi: float, coverage: float) -> str:
    """``0.041 [0.03, 0.052]``: the value and its :func:`interval`; ``-`` where
    there is no value."""
    if isinstance(value, float) and math.isnan(value):
        return "-"
    return f"{number(value)} {interval(lo, hi, coverage)}".strip()


def bound(value: float, censor: str, value_hi: float = math.nan) -> str:
    """A possibly censored value as the analysis gives it: ``0.041``, ``> 3000``,
    ``>= 12.5``, ``<= 100``, ``in [0.94, 0.97]`` (the replicates place it there),
    ``undetermined``."""
    if censor == UNDETERMINED:
        return UNDETERMINED
    if censor == BETWEEN:
        return f"in [{number(value)}, {number(value_hi)}]"
    return f"{MARKS[censor]}{number(value)}"


def censored(
    value: float,
    censor: str,
    value_hi: float,
    lo: float,
    lo_censor: str,
    hi: float,
    hi_censor: str,
    coverage: float,
) -> str:
    """A censored median (the :data:`~depthbench.analysis.efficiency.SUMMARY` columns)
    with its interval, open ends marked: ``2495 (range 1602 to >10089)``,
    ``>= 44.4 (range 4.2 to >=51)``."""
    around = interval(lo, hi, coverage, lo_censor, hi_censor)
    return f"{bound(value, censor, value_hi)} {around}".strip()


def censored_column(frame: pd.DataFrame) -> list[str]:
    """:func:`censored` of every row of ``frame``."""
    return [censored(*row) for row in frame[SUMMARY].itertuples(index=False)]


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
    text = frame.assign(text=censored_column(frame))
    wide = text.pivot_table(index=[PANEL, "eps"], columns="depth", values="text", aggfunc="first")
    wide = wide.fillna("-")  # a depth with no trained cell in this panel
    wide.columns = [f"{name} depth {d}" for d in wide.columns]
    wide = in_order(wide.reset_index().assign(eps=lambda t: -t["eps"]), PANEL, "eps")
    wide["eps"] = (-wide["eps"]).map("{:.3g}".format)
    return wide


def bracketing(a: Analysis) -> pd.DataFrame:
    """Rows panel x declared eps, one column per depth: whether its cells' median curve
    brackets eps (:func:`~depthbench.analysis.efficiency.bracket`), and ``verdict
    for``: the E_d whose two depths (1 and d) both bracket it, the only ones read at
    that eps (``none``; ``no depth 1`` where the panel has no one-hidden-layer net)."""
    if a.p.empty:
        return pd.DataFrame()
    wide = a.p.pivot_table(index=[PANEL, "eps"], columns="depth", values="bracket", aggfunc="first")
    wide = wide.fillna("no cells")
    read = [
        ", ".join(f"E_{d}" for d in row.index if d > 1 and row[d] == BRACKETED) or "none"
        if row.get(1) == BRACKETED
        else ("none" if 1 in row.index and row[1] != "no cells" else "no depth 1")
        for _, row in wide.iterrows()
    ]
    wide.columns = [f"depth {d}" for d in wide.columns]
    wide = wide.assign(**{"verdict for": read}).reset_index().assign(eps=lambda t: -t["eps"])
    wide = in_order(wide, PANEL, "eps")
    wide["eps"] = (-wide["eps"]).map("{:.3g}".format)
    return wide


def depth_tests(a: Analysis) -> pd.DataFrame:
    """Per panel, depth and declared eps: E_d, whether eps is bracketed, the pairs with
    E_d > 1, and the one-sided sign test's p-value, raw and Holm-adjusted over the
    report's tests (:func:`depthbench.analysis._tested`); where the report has a
    best-effort fit, E_d from the best-effort values, the fit of the cells deciding it
    and whether its side of 1 agrees (:func:`depthbench.analysis.fitness.judged`)."""
    e = in_order(a.e.assign(eps=-a.e["eps"]), PANEL, "depth", "eps")
    table = pd.DataFrame(
        {
            "panel": e[PANEL],
            "depth": e["depth"],
            "eps": (-e["eps"]).map("{:.3g}".format),
            "E_d": censored_column(e),
            "bracketed": e["bracketed"].map({True: "yes", False: "no: no verdict"}),
            "pairs E_d > 1": [f"{k}/{n}" for k, n in zip(e["above"], e["paired"])],
            "p (sign)": e["p"].map(number),
            "p (Holm)": e["p_holm"].map(number),
        }
    )
    if a.fit.empty:
        return table
    return table.assign(
        **{
            "E_d best effort": [
                bound(*v) for v in zip(e["best_value"], e["best_censor"], e["best_value_hi"])
            ],
            "deciding cells": e["fit"],
            "sign": e["sign"],
        }
    )


def fitness(a: Analysis) -> pd.DataFrame:
    """Per refit cell: the median test_metric of each stage of the best-effort fit, the
    best-effort value (each replicate's lowest-validation stage), the verdicts and the
    training-loss gate (:mod:`depthbench.analysis.fitness`)."""
    f = in_order(a.fit, PANEL, "depth", "budget")
    yes = {True: "yes", False: "no"}
    return pd.DataFrame(
        {
            "panel": f[PANEL],
            "depth": f["depth"],
            "budget": f["budget"],
            "replicates": f["refit"],
            "default": f["default"].map(number),
            "x steps": f["steps"].map(number),
            "+ L-BFGS": f["polish"].map(number),
            "best effort": f["best"].map(number),
            "stable": f["stable"].map(yes),
            "polish < 1.5x": f["polished"].map(yes),
            "fitted": f["fitted"].map({True: "yes", False: "no: optimiser-limited"}),
            "best from": f["stage"],
            "train loss": f["train_loss"].map(number),
            "random features": f["rf_train_loss"].map(number),
            "gated": f["gated"].map({True: "yes: cannot decide", False: "no"}),
        }
    )


def depth_gap(a: Analysis) -> pd.DataFrame:
    """Per panel and depth: ``R_d`` (:mod:`depthbench.analysis.gap`) with its interval,
    the budget range it covers, the pairs with R_d > 1 and the sign test."""
    g = in_order(a.gap, PANEL, "depth")
    return pd.DataFrame(
        {
            "panel": g[PANEL],
            "depth": g["depth"],
            "R_d = e_1 / e_d": [
                with_interval(*v) for v in zip(g["ratio"], g["lo"], g["hi"], g["coverage"])
            ],
            "n_params range": [f"{number(lo)}-{number(hi)}" for lo, hi in zip(g["low"], g["high"])],
            "pairs R_d > 1": [f"{k}/{n}" for k, n in zip(g["above"], g["paired"])],
            "p (sign)": g["p"].map(number),
            "p (Holm)": g["p_holm"].map(number),
        }
    )


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
            "params": s["n_params"].map(number),
            "forward FLOPs per sample": s["forward_flops"].map(number),
            f"eps ({LEARNED_TEXT})": s["eps"].map("{:g}".format),
            "n_train to learn": censored_column(s),
        }
    )
    if theory_column(P_STAR) in a.instances.columns:
        table["P_star (theory)"] = s[INSTANCE].map(a.instances[theory_column(P_STAR)]).map(number)
    return table


def basins(a: Analysis) -> pd.DataFrame:
    """Per task instance, construction and noise scale: the draws the polish brought
    below eps, the median and worst test_metric after it, and the construction's basin
    width (:mod:`depthbench.analysis.basin`)."""
    b = in_order(a.basins, TASK, "model", "noise")
    return pd.DataFrame(
        {
            "task": b[TASK],
            "construction": b["model"],
            "depth": b["depth"],
            "width": b["width"],
            "params": b["n_params"],
            "noise x layer RMS": b["noise"].map(number),
            "recovered": b["recovered"].astype(str) + "/" + b["draws"].astype(str),
            "eps": b["eps"].map(number),
            "median after L-BFGS": b["median"].map(number),
            "worst": b["worst"].map(number),
            "basin width": b["width_censor"] + b["width_noise"].map(number),
        }
    )


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


DIGITS = "%.6g"  # CSV floats: last-bit differences between BLAS builds and CPUs vanish


def _replicates_text(replicates: object) -> object:
    """A ``replicates`` mapping (key -> ``(value, censor)``) as ``key: value; ...``,
    bounds marked, at :data:`DIGITS`; anything else as it is."""
    if not isinstance(replicates, Mapping):
        return replicates
    return "; ".join(
        f"{key}: {UNDETERMINED if c == UNDETERMINED else c + DIGITS % v}"
        for key, (v, c) in replicates.items()
    )


def csv(numbers: pd.DataFrame, path: Path) -> None:
    """``numbers`` as CSV at :data:`DIGITS` significant digits (byte-stable across
    machines), per-replicate values as text (:func:`_replicates_text`), the isotonic
    per-replicate crossings left out (their median is the ``isotonic`` column)."""
    frame = numbers.drop(columns=["isotonic_replicates"], errors="ignore")
    if "replicates" in frame:
        frame = frame.assign(replicates=frame["replicates"].map(_replicates_text))
    frame.to_csv(path, index=False, float_format=DIGITS)


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
    csv(numbers, folder / f"{name}.csv")
    markdown = table.to_markdown(index=False, floatfmt=".3g")
    (folder / f"{name}.md").write_text(markdown + "\n")
    (folder / f"{name}.tex").write_text(latex(table, caption, name))
    return markdown
