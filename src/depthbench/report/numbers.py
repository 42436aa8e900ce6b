"""``numbers.tex``: every headline number of a report as a LaTeX macro, so that a paper
can ``\\input{numbers.tex}``, cite ``\\dbnum{E2 n=6 eps=0.01}`` and stay true when the
report is regenerated. Values are the tables' own (same rounding, censoring marks)."""

from __future__ import annotations

import re
from dataclasses import replace

import pandas as pd

from depthbench.analysis import INSTANCE, PANEL, TASK, Analysis
from depthbench.analysis.censoring import Replicate, bounds
from depthbench.report.tables import bound, end, interval, number

MARKS = {
    ">=": r"\ensuremath{\geq}",
    "<=": r"\ensuremath{\leq}",
    ">": r"\ensuremath{>}",
    "<": r"\ensuremath{<}",
}
MARK = re.compile("|".join(MARKS))  # longest first: >= before >, <= before <
UNSAFE = re.compile(r"[#%\\{}$&^~]|[^\x00-\x7f]")  # what a \csname key cannot hold
# (non-ASCII too: pdflatex's inputenc makes it active)


def key(*parts: str) -> str:
    """``E2 n=6 eps=0.01``: the non-empty ``parts`` (the quantity and depth, the
    panel's short name, what else tells the number apart) joined, minus what a
    ``\\csname`` cannot hold."""
    return UNSAFE.sub("", " ".join(p for p in parts if p))


def math_marks(text: str) -> str:
    """``text`` with its censoring marks (``>``, ``>=``, ``<=``, ``<``) as math, which LaTeX's
    text fonts cannot set."""
    return MARK.sub(lambda m: MARKS[m.group()], text)


def plain(value: str) -> str:
    """A macro's value as text: its marks as ``>=``, ``<=``, ``>``, ``<``, ``\\%`` as ``%``."""
    for mark, tex_mark in MARKS.items():
        value = value.replace(tex_mark, mark)
    return value.replace("\\%", "%")


def _value(row: dict) -> str:
    return math_marks(bound(row["value"], row["censor"], row.get("value_hi", float("nan"))))


def _replicates(replicates: dict[str, Replicate]) -> str:
    """Every replicate's value, smallest first, bounds marked: ``4.2, >=44.4, >=51``."""
    ordered = sorted(replicates.values(), key=lambda r: bounds(*r))
    return ", ".join(end(*r) for r in ordered)


def _with_interval(
    name: str, value: str, what: str, row: dict, lo: str = "lo", hi: str = "hi"
) -> list[tuple[str, str, str]]:
    """The entry ``(name, value, what)``; where ``row`` has an interval,
    ``(name + " interval", "[lo, hi]" or "(range lo-hi)", ...)`` as the tables print
    it, open ends marked; where its value is censored, ``(name + " replicates", "4.2,
    >=44.4, >=51", ...)``: the spread a bound hides."""
    out = [(name, value, what)]
    around = interval(
        row[lo], row[hi], row["coverage"], row.get("lo_censor", ""), row.get("hi_censor", "")
    )
    if around:
        kind = "interval" if around.startswith("[") else "range over replicates"
        covers = f"; covers the median with probability {row['coverage']:.0%}"
        out.append((f"{name} interval", math_marks(around), f"{kind} of {name}{covers}; {what}"))
        out.append(
            (
                f"{name} coverage",
                f"{row['coverage']:.0%}".replace("%", "\\%"),
                f"probability that the {kind} of {name} covers the median; {what}",
            )
        )
    elif row.get("censor"):  # a censored key always has its companions
        out.append((f"{name} interval", "(no interval)", f"no interval of {name}; {what}"))
    if row.get("censor"):
        out.append(
            (
                f"{name} replicates",
                math_marks(_replicates(row["replicates"])),
                f"each replicate of the censored {name}; {what}",
            )
        )
    return out


def _p(name: str, row: dict, what: str) -> tuple[str, str, str]:
    return (
        f"{name} p",
        number(row["p_holm"]),
        f"one-sided sign test of {what} > 1 over {row['paired']} paired replicates "
        f"({row['above']} above), Holm-adjusted across the report; raw p {number(row['p'])}",
    )


def _tests(a: Analysis) -> list[tuple[str, str, str]]:
    """``<E key> p`` for each E_d tested (its eps bracketed), and ``R<d> <panel>`` (the
    depth gap over the curve, :mod:`depthbench.analysis.gap`) with its interval and
    ``p``: Holm-adjusted p-values of one-sided sign tests."""
    out = []
    for row in a.e.dropna(subset=["p_holm"]).to_dict("records"):
        name = key(f"E{row['depth']}", a.names.get(row[PANEL], row[PANEL]), f"eps={row['eps']:.3g}")
        out.append(_p(name, row, "E_d"))
    for row in a.gap.to_dict("records"):
        name = key(f"R{row['depth']}", a.names.get(row[PANEL], row[PANEL]))
        what = (
            f"R_d, geometric-mean ratio of depth-1 to depth-d error over n_params "
            f"{number(row['low'])}-{number(row['high'])}; panel {row[PANEL]}"
        )
        out += _with_interval(name, number(row["ratio"]), what, row)
        out.append(_p(name, row, "R_d"))
    return out


def _best_effort(a: Analysis) -> list[tuple[str, str, str]]:
    """``<E key> best effort`` (E_d from the best-effort values) and ``<E key> fit``
    (the deciding cells' fit; the side of 1 against the default), where the report has
    a best-effort fit (:mod:`depthbench.analysis.fitness`)."""
    if a.fit.empty:
        return []
    out = []
    for row in a.e.to_dict("records"):
        name = key(f"E{row['depth']}", a.names.get(row[PANEL], row[PANEL]), f"eps={row['eps']:.3g}")
        best = bound(row["best_value"], row["best_censor"], row["best_value_hi"])
        out += [
            (
                f"{name} best effort",
                math_marks(best),
                f"E_d from best-effort values; panel {row[PANEL]}",
            ),
            (
                f"{name} fit",
                f"{row['fit']}; {row['sign']}",
                "fit of the cells deciding E_d, and whether default and best-effort E_d agree",
            ),
        ]
    return out


def entries(a: Analysis, df: pd.DataFrame) -> list[tuple[str, str, str]]:
    """``(key, value, what it is)`` per headline number: E_d, P_d and N_d per panel,
    depth and eps (eps as the tables give it: absolute test_metric, 3 digits), the
    selected test_metric per panel and depth at the budget with the lowest validation
    metric (``best``: the test set picks nothing), each baseline's test_metric per
    task at its size with the lowest validation metric, the Bayes error per task
    where the family computes it, each constructed network's test_metric (from the
    labelled rows ``df``) and its basin width, the fitted
    exponent alpha per panel and depth, and P* (training samples to learn) per
    instance, depth and budget; each with its interval where it has one
    (:func:`_with_interval`); and the paired tests with the curve statistic R_d
    (:func:`_tests`)."""
    out = []
    for quantity, frame, what in (
        ("E", a.e, "E_d(eps) = P_1 / P_d"),
        ("P", a.p, "P_d(eps), parameters"),
        ("N", a.n, "N_d(eps), hidden neurons"),
    ):
        for row in frame.to_dict("records"):
            name = a.names.get(row[PANEL], row[PANEL])
            out += _with_interval(
                key(f"{quantity}{row['depth']}", name, f"eps={row['eps']:.3g}"),
                _value(row),
                f"{what}; panel {row[PANEL]}",
                row,
            )
    out += _tests(a) + _best_effort(a)
    tried = a.cells.dropna(subset=["tuned", "val"])  # the budget, as the rate: on validation
    best = tried.sort_values(["val", "budget"]).groupby([PANEL, "depth"]).head(1)
    for row in best.sort_values([PANEL, "depth"]).to_dict("records"):
        name = a.names.get(row[PANEL], row[PANEL])
        out += _with_interval(
            key(f"best{row['depth']}", name),
            number(row["tuned"]),
            f"selected test_metric at the budget with the lowest validation metric "
            f"(budget {row['budget']}); panel {row[PANEL]}",
            row,
            "tuned_lo",
            "tuned_hi",
        )
    chosen = a.baselines.sort_values(["val_metric", "n_params"], kind="stable")
    for row in chosen.groupby([TASK, "baseline"]).head(1).sort_index().to_dict("records"):
        task, baseline, value = str(row[TASK]), str(row["baseline"]), row["test_metric"]
        out.append(
            (
                key(baseline, a.names.get(task, task)),
                number(value),
                f"baseline {baseline}, test_metric at its size with the lowest validation "
                f"metric ({row['n_params']} parameters); task {task}",
            )
        )
    bayes = a.instances.groupby(TASK)["bayes_metric"].first().dropna()
    for row in bayes.reset_index().to_dict("records"):
        name = a.names.get(str(row[TASK]), str(row[TASK]))
        out.append((key("bayes", name), number(row["bayes_metric"]), "Bayes error"))
    built = df[df["status"] == "constructed"]
    for row in built.to_dict("records"):
        name = a.names.get(row[TASK], row[TASK])
        out.append(
            (
                key(row["model"], name),
                number(row["test_metric"]),
                f"constructed network, {row['n_hidden']} hidden neurons; task {row[TASK]}",
            )
        )
    widths = a.basins.groupby([TASK, "model"], sort=False).first().reset_index()
    for row in widths.to_dict("records"):
        name = a.names.get(row[TASK], row[TASK])
        out.append(
            (
                key(row["model"], name, "basin"),
                math_marks(row["width_censor"] + number(row["width_noise"])),
                f"basin width of the construction (largest noise x layer RMS it recovers from); "
                f"task {row[TASK]}",
            )
        )
    for row in a.fits.to_dict("records"):
        name = a.names.get(row[PANEL], row[PANEL])
        out += _with_interval(
            key(f"alpha{row['depth']}", name),
            number(row["alpha"]),
            f"fitted exponent of test_metric ~ n_params^-alpha; panel {row[PANEL]}",
            row,
        )
    for row in a.samples.to_dict("records"):
        name = a.names.get(row[INSTANCE], row[INSTANCE])
        out += _with_interval(
            key(f"Pstar{row['depth']}", name, f"budget={row['budget']}"),
            _value(row),
            f"training samples to learn; instance {row[INSTANCE]}",
            row,
        )
    return out


def stable(a: Analysis) -> Analysis:
    """``a`` with every panel, instance and task named by its whole label (`` · ``
    written ``/``), not by what varies between the panels: the keys :func:`entries`
    then makes are the same whatever other panels a report holds."""
    return replace(a, names={label: label.replace(" · ", " / ") for label in a.names})


def keyed(a: Analysis, df: pd.DataFrame) -> list[tuple[str, str, str, str]]:
    """``(key, stable key, value, what)`` per :func:`entries` item: the short key names
    what varies between panels, the stable one (:func:`stable`) the whole panel."""
    short, whole = entries(a, df), entries(stable(a), df)
    return [(k, s, v, w) for (k, v, w), (s, *_) in zip(short, whole, strict=True)]


# \dbnum of a key the file does not define stops LaTeX with the key named, where
# \csname alone would print nothing
DBNUM = (
    "\\providecommand{\\dbnum}[1]{\\ifcsname db@#1\\endcsname\\csname db@#1\\endcsname"
    "\\else\\PackageError{depthbench}{no number `#1' in numbers.tex}"
    "{Its keys are listed in numbers.tex and in the report's index.md}??\\fi}"
)


def tex(a: Analysis, df: pd.DataFrame) -> str:
    """The file's text: a header naming the rows, commits and eps it came from, the
    ``\\dbnum`` command (:data:`DBNUM`), then one ``\\csname`` definition per
    :func:`keyed` item, under its short key and, where it differs, its stable key."""
    shas = ", ".join(sorted(df["git_sha"].str[:12].unique()))
    lines = [
        "% depthbench numbers: \\input{numbers.tex}, then \\dbnum{<key>} prints one.",
        f"% From {len(df)} stored rows (code {shas}); eps: {a.eps_source}.",
        "% Each number has a short key (what tells it apart in this report) and, where "
        "that differs, a stable key naming its whole panel (the same in any report).",
        "% Regenerated with the report: do not edit.",
        DBNUM,
    ]
    for name, whole, value, what in keyed(a, df):
        said = f" % {what}"  # once a number: its stable key's line follows the short one's
        for k in dict.fromkeys((name, whole)):
            lines.append(f"\\expandafter\\def\\csname db@{k}\\endcsname{{{value}}}{said}")
            said = ""
    return "\n".join(lines) + "\n"


def citable(a: Analysis, df: pd.DataFrame) -> pd.DataFrame:
    """The keys a paper cites, for the report's index: each number's short and stable
    key, value and meaning, its ``interval``, ``coverage`` and ``replicates``
    companions left to numbers.tex."""
    rows = [
        {"key": k, "value": plain(v), "stable key": s, "meaning": w.split("; panel ")[0]}
        for k, s, v, w in keyed(a, df)
        if not k.endswith((" interval", " replicates", " coverage"))
    ]
    return pd.DataFrame(rows, columns=["key", "value", "stable key", "meaning"])
