"""Report tables: analysis frames shaped for reading, and written as CSV (the
analysis numbers, for scripts), Markdown and LaTeX (booktabs, ready to ``\\input``)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from depthbench.analysis import INSTANCE, PANEL, Analysis

MARKS = {"": "", ">": "> ", "<=": "<= ", ">=": ">= ", "undetermined": ""}


def number(value: float) -> str:
    """Three significant digits (whole numbers from 1000 up); ``-`` for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def with_interval(value: float, lo: float, hi: float) -> str:
    """``0.041 [0.03, 0.052]``: a value and its 95% bootstrap interval."""
    if isinstance(value, float) and math.isnan(value):
        return "-"
    return f"{number(value)} [{number(lo)}, {number(hi)}]"


def censored(value: float, censor: str, lo: float, hi: float) -> str:
    """A possibly censored value: ``> 3000`` or ``>= 12.5 [9.1, 20]``; the interval is
    shown only for exact values and lower/upper bounds of ratios."""
    if censor == "undetermined":
        return "undetermined"
    if censor in (">", "<="):  # a size the grid did not bracket: the bound is the grid's edge
        return f"{MARKS[censor]}{number(value)}"
    return MARKS[censor] + with_interval(value, lo, hi)


def cells(a: Analysis) -> pd.DataFrame:
    """Per cell: size, tuned value with interval, median, best, mean with interval, counts."""
    c = a.cells
    return pd.DataFrame({
        "panel": c[PANEL], "depth": c["depth"], "budget": c["budget"],
        "width": c["width"], "n_params": c["n_params"],
        "tuned [95% CI]": [with_interval(*v) for v in zip(c["tuned"], c["tuned_lo"], c["tuned_hi"])],
        "median": c["median"].map(number), "best": c["best"].map(number),
        "mean [95% CI]": [with_interval(*v) for v in zip(c["mean"], c["mean_lo"], c["mean_hi"])],
        "ok": c["ok"], "diverged": c["diverged"], "infeasible": c["infeasible"],
    })


def by_depth(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Rows panel x eps, one column per depth, cells from :func:`censored`."""
    if frame.empty:
        return pd.DataFrame()
    text = frame.assign(text=[censored(*v) for v in
                              zip(frame["value"], frame["censor"], frame["lo"], frame["hi"])])
    wide = text.pivot_table(index=[PANEL, "eps"], columns="depth", values="text", aggfunc="first")
    wide = wide.fillna("-")  # a depth with no trained cell in this panel
    wide.columns = [f"{name} depth {d}" for d in wide.columns]
    wide = wide.reset_index()
    wide["eps"] = wide["eps"].map("{:g}".format)
    return wide


def neurons(a: Analysis) -> pd.DataFrame:
    """``N_d(eps)`` by depth with the theorems' neuron counts of the task beside it."""
    table = by_depth(a.n, "N")
    if table.empty:
        return table
    theory = [c for c in a.instances.columns
              if c.startswith("theory.") and ("neurons" in c or "units" in c)]
    if theory:
        instance = a.n.drop_duplicates(PANEL).set_index(PANEL)[INSTANCE]
        for column in theory:
            values = instance.map(a.instances[column])
            table[column.removeprefix("theory.")] = table[PANEL].map(values).map(number)
    return table


def fits(a: Analysis) -> pd.DataFrame:
    f = a.fits
    return pd.DataFrame({
        "panel": f[PANEL], "depth": f["depth"],
        "alpha [95% CI]": [with_interval(*v) for v in zip(f["alpha"], f["lo"], f["hi"])],
        "c": f["c"].map(number), "cells fitted": f["points"],
    })


def samples(a: Analysis) -> pd.DataFrame:
    s = a.samples
    if s.empty:
        return pd.DataFrame()
    table = pd.DataFrame({
        "instance": s[INSTANCE], "depth": s["depth"], "budget": s["budget"],
        "eps (10% of chance)": s["eps"].map("{:g}".format),
        "n_train to learn": [censored(*v) for v in zip(s["value"], s["censor"], s["lo"], s["hi"])],
    })
    if "theory.P_star" in a.instances.columns:
        table["P_star (theory)"] = s[INSTANCE].map(a.instances["theory.P_star"]).map(number)
    return table


def constructed(df: pd.DataFrame) -> pd.DataFrame:
    """One row per constructed network: its size beside the theorem's count.

    ``theorem`` is the task's ``theory.deep_*`` or ``theory.shallow_*`` entry (neurons,
    or ReLU units for the sawtooth), matched by the construction's name.
    """
    params = sorted(c for c in df.columns if c.startswith("task."))
    built = df[df["status"] == "constructed"].sort_values(["task", *params, "model"])
    rows = []
    for _, row in built.iterrows():
        kind = row["model"].split("_", 1)[0]  # deep | shallow
        theory = [c for c in df.columns if c.startswith(f"theory.{kind}_") and pd.notna(row[c])]
        rows.append({
            "task": row[PANEL], "construction": row["model"], "hidden layers": row["depth"],
            "hidden neurons": row["n_hidden"],
            "theorem": round(row[theory[0]]) if theory else None,
            "n_params": row["n_params"], "lambda": row["scale"], "test_metric": row["test_metric"],
        })
    return pd.DataFrame(rows).astype({"theorem": "Int64"})


TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
       "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
       "<": r"$<$", ">": r"$>$"}


def tex(text: object) -> str:
    """``text`` safe in LaTeX text mode; ``<=``/``>=`` become math relations."""
    out = "".join(TEX.get(ch, ch) for ch in str(text))
    return out.replace("$<$=", r"$\leq$").replace("$>$=", r"$\geq$")


def _latex(table: pd.DataFrame, caption: str, label: str) -> str:
    styler = table.style.hide(axis="index").format(tex).format_index(tex, axis=1)
    return styler.to_latex(hrules=True, caption=tex(caption), label=f"tab:{label}",
                           position="htbp", position_float="centering") + "\n"


def write(table: pd.DataFrame, numbers: pd.DataFrame, out: Path, name: str, caption: str) -> str:
    """Write ``tables/<name>.{csv,md,tex}`` under ``out``: the CSV holds ``numbers``
    (the analysis frame), the others the readable ``table``. Returns the Markdown."""
    folder = out / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    numbers.drop(columns=["replicates"], errors="ignore").to_csv(folder / f"{name}.csv", index=False)
    markdown = table.to_markdown(index=False, floatfmt=".3g")
    (folder / f"{name}.md").write_text(markdown + "\n")
    (folder / f"{name}.tex").write_text(_latex(table, caption, name))
    return markdown
