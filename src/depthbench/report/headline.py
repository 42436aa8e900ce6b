"""The report's answer in a few sentences, first on its page and printed by ``run`` and
``report``: per panel and declared eps, E_d with its spread and replicates (or why there
is no verdict), and a trust line (cells unconverged, at a rate grid's edge, beaten by a
baseline, and the best-effort fit's verdicts)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pandas as pd

from depthbench import analysis, results
from depthbench.analysis import INSTANCE, PANEL, Analysis
from depthbench.analysis.censoring import UNDETERMINED
from depthbench.analysis.samples import LEARNED_TEXT
from depthbench.report.tables import bound, censored_column, in_order, interval, number

SIGNIFICANT = 0.05  # p (Holm) below which "depth helps" is said


def _ratio(row: dict) -> str:
    """``depth 2 needs 3.81x fewer parameters than depth 1 (range 1.54-5.31, 3
    replicates)``, a bound as ``E_4 <= 0.71``, with its spread."""
    d, value, censor = row["depth"], row["value"], row["censor"]
    if censor:
        said = f"E_{d} {bound(value, censor, row.get('value_hi', float('nan')))}"
    elif value >= 1:
        said = f"depth {d} needs {number(value)}x fewer parameters than depth 1"
    else:
        said = f"depth {d} needs {number(1 / value)}x more parameters than depth 1"
    around = interval(row["lo"], row["hi"], row["coverage"], row["lo_censor"], row["hi_censor"])
    spread = ", ".join(s for s in (around.strip("()"), f"{row['paired']} replicates") if s)
    helps = row["p_holm"] < SIGNIFICANT if pd.notna(row["p_holm"]) else False
    test = f"; sign test p (Holm) {number(row['p_holm'])}" if helps else ""
    return f"{said} ({spread}{test}{_fit(row)})"


def _fit(row: dict) -> str:
    """The best-effort fit's word on an E_d, where it ran: its value, the deciding
    cells' fit and, where default and best effort disagree on the side of 1, that the
    sign is the optimiser's."""
    if not isinstance(row.get("fit"), str) or not row["fit"]:
        return ""
    best = bound(row["best_value"], row["best_censor"], row["best_value_hi"])
    sign = "; the sign is optimiser-dependent" if row["sign"] == "optimiser-dependent" else ""
    return f"; best effort {best}, {row['fit']}{sign}"


def _at(rows: pd.DataFrame, eps: float) -> str:
    """The sentence for one panel and eps."""
    read = rows[rows["bracketed"] & (rows["censor"] != UNDETERMINED)]
    unread = sorted(set(rows["depth"]) - set(read["depth"]))
    parts = [_ratio(r) for r in read.sort_values("depth").to_dict("records")]
    if unread:
        depths = ", ".join(map(str, unread))
        parts.append(f"no verdict for depth {depths} (eps not bracketed by the budget grid)")
    return f"at eps {eps:g}: " + "; ".join(parts)


def _tested(e: pd.DataFrame) -> str:
    """Whether any E_d passes the paired sign test."""
    tested = e.dropna(subset=["p_holm"])
    if tested.empty:
        return "No E_d is tested: no declared eps is bracketed for both depths compared."
    passed = tested[tested["p_holm"] < SIGNIFICANT]
    if passed.empty:
        return (
            f"No E_d passes the paired sign test (smallest p (Holm) "
            f"{number(tested['p_holm'].min())} over {len(tested)} tests): a direction at "
            "most, not a demonstrated depth effect."
        )
    return f"{len(passed)} of {len(tested)} tested E_d pass the paired sign test (p (Holm) < 0.05)."


def _learned(a: Analysis) -> list[str]:
    """Where the rows span training-set sizes: per instance, the n_train each depth
    needs to reach :data:`~depthbench.analysis.samples.LEARNED_TEXT` at each budget
    (the sample-complexity table), one line per instance."""
    if a.samples.empty:
        return []
    s = in_order(a.samples.assign(text=censored_column(a.samples)), INSTANCE, "depth", "budget")
    return [
        f"n_train to reach {LEARNED_TEXT}{_named(a.names.get(str(i), str(i)))}: "
        + "; ".join(
            f"depth {d} at {number(b)} parameters{_flops(f)}: {t}"
            for d, b, f, t in part[["depth", "budget", "forward_flops", "text"]].itertuples(
                index=False
            )
        )
        for i, part in s.groupby(INSTANCE, sort=False)
    ]


def _named(name: str) -> str:
    """``, m=3 mlp`` for an instance's short name; nothing where it has none."""
    return f", {name}" if name else ""


def _flops(forward: float) -> str:
    """`` (71230 FLOPs a sample)``, or nothing where they were not recorded."""
    return "" if pd.isna(forward) else f" ({number(forward)} FLOPs a sample)"


def _trust(a: Analysis) -> str:
    """Cells to read with care, and the best-effort fit's verdict where it ran."""
    cells = a.cells[a.cells["ok"].fillna(0) > 0]
    unconverged = int((cells["converged"].fillna(0) < cells["members"].fillna(0)).sum())
    edge = int((cells["lr_edge"].fillna("") != "").sum())
    beaten = int((cells["beaten_by"].fillna("") != "").sum())
    said = (
        f"Trust: {unconverged} of {len(cells)} trained cells not converged, {edge} chose a "
        f"learning rate at the edge of its grid, {beaten} beaten by a baseline of no more "
        "parameters"
    )
    if len(a.fit):
        fitted = int(a.fit["fitted"].sum())
        gated = int(a.fit["gated"].sum())
        said += (
            f"; best-effort fit: {fitted} of {len(a.fit)} refit cells fitted, "
            f"{len(a.fit) - fitted} optimiser-limited, {gated} with a training loss above "
            "random features'"
        )
    return said + "."


def lines(a: Analysis) -> list[str]:
    """The headline: one line per panel and declared eps (largest first), panels with
    no verdict at any eps named together on one line, the sample complexity per
    instance where the rows span training-set sizes, whether any E_d passes its test,
    and the trust line."""
    out, silent = [], []
    several = a.e[PANEL].nunique() > 1
    for panel, rows in a.e.groupby(PANEL, sort=False):
        name = a.names.get(str(panel), str(panel))
        if several and not (rows["bracketed"] & (rows["censor"] != UNDETERMINED)).any():
            silent.append(name)
            continue
        for eps in sorted(rows["eps"].unique(), reverse=True):
            at = _at(rows[rows["eps"] == eps], float(eps))
            out.append((f"{name}, " if several and name else "") + at)
    if silent:
        out.append(
            f"no verdict in {len(silent)} panels (no declared eps bracketed by the budget "
            f"grid): {'; '.join(silent)}"
        )
    if not len(a.e):
        out.append("No E_d: the rows hold one depth, or no trained depth 1 to compare with.")
    return [*out, *_learned(a), _tested(a.e), _trust(a)]


def of_results(dirs: list[Path]) -> list[str]:
    """:func:`lines` of the rows stored under ``dirs`` (as their report would say
    them, at each task's declared eps); empty where they hold nothing to report."""
    df = results.load(dirs)
    if df.empty or not (df["status"] == "ok").any():
        return []
    df = analysis.label(df)
    return lines(analysis.analyze(df, None))


def show(dirs: list[str]) -> None:
    """Print the headline of ``dirs`` after a run or sweep (its report's first lines)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        said = of_results([Path(d) for d in dict.fromkeys(dirs)])
    for w in caught:  # e.g. rows of two protocols in one store, said plainly
        print(f"warning: {w.message}", file=sys.stderr)
    if said:
        print("headline (as the report will say it):\n" + "\n".join(f"  {s}" for s in said))
