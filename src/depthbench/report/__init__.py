"""``depthbench report``: the numbers and figures a paper needs, from stored results
only.

Outputs under ``--out``: ``index.md`` and ``index.html``; figures ``fig*.png`` (and
``.pdf`` with ``--pdf``); ``tables/<name>.{csv,md,tex}``; ``manifest.json`` (what the
report was made from); ``rows/``, the rows it read, from which it rebuilds. The same
rows give identical tables and files. A report is built in a directory of its own
beside ``--out`` and swapped in whole, so ``--out`` holds at every moment one
report, its tables, figures and rows from the same build.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from depthbench import analysis, results
from depthbench.analysis import INSTANCE, Analysis
from depthbench.analysis.cells import status_counts
from depthbench.analysis.censoring import replicates_needed
from depthbench.analysis.compute import unrecorded
from depthbench.analysis.intervals import LEVEL, describe
from depthbench.analysis.samples import LEARNED_TEXT
from depthbench.errors import ResultsError
from depthbench.report import figures, headline, numbers, regime, tables
from depthbench.report.page import Block, Figure, Heading, Table, Text, html_page, markdown
from depthbench.schedule import CONVERGED_GAIN, FIT_LOSS

TITLE = "depthbench report"
HEADLINE = "Headline"


def headline_of(page: Path) -> list[str]:
    """The headline lines of the report page ``page`` (``index.md``), as printed by
    ``depthbench report`` after writing it."""
    section = page.read_text().split(f"## {HEADLINE}\n", 1)[1].split("\n## ", 1)[0]
    return [line[2:] for line in section.splitlines() if line.startswith("- ")]


def _optimiser(ok: pd.DataFrame) -> str:
    """The optimiser of trained rows as the header says it (Adam for rows from before
    the optimiser was recorded)."""
    if "train.optimizer" not in ok:
        return "adam"
    said = []
    for name, momentum, decay, stop in (
        ok[["train.optimizer", "train.momentum", "train.weight_decay", "train.stop_loss"]]
        .astype("string")
        .fillna("-")
        .drop_duplicates()
        .itertuples(index=False)
    ):
        extra = f" (momentum {momentum}, weight decay {decay})" if name == "sgd" else ""
        said.append(
            name + extra + (f", each member stopped at training loss {stop}" if stop != "-" else "")
        )
    return "; ".join(said)


def _provenance(
    df: pd.DataFrame, dirs: Sequence[Path], eps: Sequence[float] | None, fixed: str
) -> list[Block]:
    shas = ", ".join(
        f"`{sha[:12]}`" + (" (uncommitted changes)" if dirty is True else "")
        for sha, dirty in df.groupby(["git_sha", "git_dirty"], dropna=False).size().index
    )
    ok = df[df["status"] == "ok"]
    command = (
        "depthbench report "
        + " ".join(shlex.quote(os.path.relpath(d)) for d in dirs)
        + " --out <dir>"
    )
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
    if fixed:
        items.append(f"in every panel: {fixed} (panels are named by what varies)")
    if len(ok):
        stopped = "train.stop_loss" in ok and ok["train.stop_loss"].notna().any()
        steps = (
            f"at most {ok['steps'].max()} (median {ok['steps'].median():.0f})"
            if stopped
            else ", ".join(map(str, sorted(ok["steps"].unique())))
        )
        items.append(
            f"training: {_optimiser(ok)}; steps {steps}, batch size "
            f"{', '.join(map(str, sorted(ok['batch_size'].unique())))}, schedule "
            f"{', '.join(sorted(ok['schedule'].unique()))}, learning rates "
            f"{', '.join(f'{v:g}' for v in sorted(ok['lr'].unique()))}, replicates "
            f"{ok['replicate'].nunique()} (data seed / function seed / model seed); "
            f"validation {', '.join(map(str, sorted(ok['n_val'].unique())))} and test "
            f"{', '.join(map(str, sorted(ok['n_test'].unique())))} samples"
        )
    return [Text("\n".join(f"- {item}" for item in items))]


METHOD = (
    "Each cell (task instance, model, n_train, depth, budget) is trained over replicates "
    "(model seed; data draw and task function seed where the sweep has several) x learning "
    "rates. Every choice is made on a validation split drawn apart from the test set: the "
    "cell's learning rate is the one with the lowest mean validation metric over replicates "
    "(selected on validation), and its value is the median over replicates of test_metric "
    "at that rate; a diverged member counts at chance. test_metric is `MSE / Var(y_test)` "
    "for regression (1 = predicting the mean) and the error rate for classification; lower "
    "is better. P_d(eps) is, per replicate, the first crossing of eps by the running minimum "
    "of its curve over increasing n_params (a larger net can emulate a smaller one), "
    "interpolated log-log between budgets; `> x`: not reached up to the largest budget x (a "
    "lower bound), `<= x`: already reached at the smallest budget x. E_d(eps) = P_1(eps) / "
    "P_d(eps) per replicate (paired by seed); from censored sizes it is a bound (`>=`, `<=`) "
    "or undetermined. The value shown is the median over replicates, each replicate an "
    "interval (a bound is open on one side, an undetermined one anywhere): a point, a bound, "
    "`in [a, b]` (the replicates place the median there) or undetermined, whichever the "
    "replicates allow. Intervals are distribution-free order-statistic intervals for the "
    "median over replicates (per-replicate values of the same statistic, each from its own "
    "curve), their ends marked where a replicate leaves them open (`>10089`: above; `?`: "
    "unknown); the CSVs also hold each replicate's value and, as a robustness column "
    "(`isotonic`), the crossing of an isotonic fit of each curve instead of its running "
    "minimum. "
    f"`[a, b]` has at least {LEVEL:.0%} coverage, `(range a-b)` is the range over too few "
    "replicates for that, with the coverage said below each table. A member *converged* "
    f"when its mean training loss over the last tenth of the steps fell by less than "
    f"{CONVERGED_GAIN:.0%} against the tenth before, or is below {FIT_LOSS:g}. "
    "`lr*`: the chosen rate is the smallest or largest tried (the optimum may lie outside "
    "the grid). Baselines (ridge on the inputs, random features with a ridge-fitted read-out "
    "at each budget, the task's rules) are selected on validation too; a cell that a "
    "baseline of no more parameters beats measures the optimiser, not the architecture."
)

COMPUTE = (
    "Parameters are one cost; compute is another. A net's forward FLOPs per sample count "
    "2 per multiply-add (a bias as one with input 1) and 1 per pooled addition, not the "
    "activations (docs/results.md, `forward_flops`). A dense or locally connected net uses "
    "each parameter once per sample, so its FLOPs are 2 n_params and E_d at matched FLOPs "
    "is E_d at matched parameters; a weight-shared net applies each filter at every "
    "position of its level, so it spends more FLOPs per parameter, and a depth comparison "
    "between such nets is read again here at matched FLOPs: F_d(eps) is the first crossing "
    "of eps over increasing forward FLOPs, as P_d is over parameters."
)
HELD = (
    "(forward FLOPs = 2 n_params in every cell), so the tables above hold at matched FLOPs "
    "as they stand."
)
NO_SHARING = "No panel here has a net that shares weights or pools " + HELD
NO_SHARING_REST = "No other panel has a net that shares weights or pools " + HELD
BRACKETING = (
    "A declared eps is read for E_d only where the budget grid brackets it for both depths "
    "compared (1 and d): each depth's median curve is above eps at its smallest budget and "
    "its running minimum reaches eps at some budget. Elsewhere P_d is a bound at the grid's "
    "edge, and a difference between depths there says where the grid stops, not how depth "
    "acts."
)
TESTS = (
    "Where both depths bracket eps, a one-sided exact sign test asks whether E_d > 1 over "
    "the replicates paired by seed (a censored ratio counts as above 1 only when its whole "
    "interval is; one whose side is unknown counts against). p (Holm): adjusted across the "
    "tests of this table, the declared eps, panels and depths of the report's claim (the R_d "
    "tests below are a family of their own). 'Depth helps' needs p (Holm) < 0.05; with m "
    "tests and n pairs the smallest adjusted p is m 2^-n."
)


def _needed(tests: int, what: str) -> str:
    """How many paired replicates ``tests`` Holm-adjusted sign tests need, in words."""
    return (
        f" This report has {tests} {what} tests: 'depth helps' can pass only with at least "
        f"{replicates_needed(tests)} paired replicates."
    )


GAP = (
    "R_d does not vanish between grid points: per replicate, the mean over the budget range "
    "both depths cover of log10(e_1 / e_d), the two running-minimum error curves "
    "interpolated log-log, floored at the smallest declared eps; R_d = 10^that. R_d > 1: "
    "depth d's error is lower, by that factor on geometric average. Its interval is over "
    "replicates; its sign test is one-sided, R_d > 1, Holm-adjusted across this table."
)


def _coverage(frame: pd.DataFrame) -> str:
    """What the intervals of ``frame`` (a ``coverage`` column; replicates from the
    number that achieved it) are, in words."""
    counts = sorted({int(k) for k in frame.get("replicates", pd.Series(dtype=float)).dropna()})
    if not counts:
        return ""
    return "Intervals: " + "; ".join(describe(k, LEVEL, "replicates") for k in counts) + "."


def _table(
    out: Path,
    name: str,
    table: pd.DataFrame,
    numbers: pd.DataFrame,
    caption: str,
    names: dict[str, str],
) -> Table:
    md = tables.write(table, numbers, out, name, caption, names)
    return Table(md, f"`tables/{name}.csv` (numbers), `.md` and `.tex`")


def _efficiency(a: Analysis, out: Path, drawn: figures.Output, coverage: Text) -> list[Block]:
    """The E_d table, the bracketing of each declared eps, the paired tests, the curve
    statistic R_d and figure 6."""
    if a.e.empty:
        return []
    blocks: list[Block] = [
        Heading("Depth efficiency E_d(eps) = P_1(eps) / P_d(eps)"),
        _table(
            out,
            "efficiency",
            tables.by_depth(a.e, "E"),
            a.e,
            "Depth efficiency (selected on validation): parameters depth 1 needs over those "
            "depth d needs",
            a.names,
        ),
        coverage,
    ]
    beaten = a.cells[(a.cells["depth"] == 1) & (a.cells["beaten_by"] != "")]
    if len(beaten):
        blocks.append(
            Text(
                "Caution: at these budgets a baseline of no more parameters beats the trained "
                "one-hidden-layer net, so P_1 there measures the optimiser, not the "
                "architecture, and E_d is inflated: "
                + "; ".join(
                    f"{a.names.get(p, p)} budget {b}: {by}".strip()
                    for p, b, by in zip(beaten["panel"], beaten["budget"], beaten["beaten_by"])
                )
                + "."
            )
        )
    bracketing = tables.bracketing(a)
    blocks += [
        Heading("Which declared eps the budget grid brackets"),
        Text(BRACKETING + _unbracketed(bracketing, a.names)),
        _table(out, "bracketing", bracketing, a.p, "Bracketing of each declared eps", a.names),
        Heading("Paired tests of depth efficiency"),
        Text(TESTS + _needed(int(a.e["p"].notna().sum()), "E_d")),
        _table(
            out,
            "depth_tests",
            tables.depth_tests(a),
            a.e,
            "E_d at each declared eps with its one-sided sign test of E_d > 1",
            a.names,
        ),
        coverage,
    ]
    if not a.gap.empty:
        blocks += [
            Heading("The depth gap over the whole curve: R_d"),
            Text(GAP + _needed(len(a.gap), "R_d")),
            _table(
                out,
                "depth_gap",
                tables.depth_gap(a),
                a.gap,
                "R_d, the geometric-mean ratio of depth-1 to depth-d error over the budgets "
                "both cover",
                a.names,
            ),
            coverage,
        ]
    if not a.e_curve.empty:
        blocks += [
            Figure(
                p,
                "Figure 6: depth efficiency E_d against eps (selected on validation; "
                "triangles up: lower bounds, where depth 1 never reaches eps; down: upper "
                "bounds, where depth 1 reaches eps at its smallest budget)",
                drawn.pdf,
            )
            for p in figures.efficiency_vs_eps(a, drawn)
        ]
        blocks += [Text("`tables/efficiency_curve.csv` holds E_d over the whole eps range.")]
        (out / "tables").mkdir(parents=True, exist_ok=True)
        tables.csv(a.e_curve, out / "tables" / "efficiency_curve.csv")
    return blocks


FIT = (
    'The best-effort fit (docs/science.md, "Best-effort fit") trained the members at each '
    "refit cell's chosen rate again for {factor} times the steps, then polished them by "
    "full-batch float64 L-BFGS. A cell is stable when the longer run moves its median by "
    "less than 1.5x (or its replicate spread), fitted when it is stable and the polish "
    "moves it by less than 1.5x, and optimiser-limited otherwise; it is gated (cannot "
    "decide a crossing) when its training loss is above that of random features of at "
    "most 1.1x its parameters. Each replicate's best-effort value is its stage of lowest "
    "validation metric. In the paired tests, 'deciding cells' says whether the cells on "
    "both sides of each depth's crossing are fitted, and 'sign' whether the default and "
    "best-effort E_d lie on the same side of 1 (optimiser-dependent where they do not)."
)


def _fit(a: Analysis, out: Path, df: pd.DataFrame) -> list[Block]:
    """The best-effort fit's table, where the report has one."""
    if a.fit.empty:
        return []
    refit = df[df["status"] == "refit"]
    factors = sorted({str(p).split(" steps")[0].removeprefix("adam x") for p in refit["protocol"]})
    return [
        Heading("Best-effort fit: is each cell's number the architecture's or the optimiser's?"),
        Text(FIT.format(factor=", ".join(factors))),
        _table(
            out,
            "best_effort",
            tables.fitness(a),
            a.fit,
            "Median test_metric per stage of the best-effort fit, per refit cell",
            a.names,
        ),
    ]


BASIN = (
    'Construction + noise + L-BFGS (docs/science.md, "Basin of a construction"): each '
    "construction is embedded in the dense network of its depth and widest layer, every "
    "layer perturbed by Gaussian noise of the stated scale times the RMS of its weights, "
    "then polished by {protocol}. A draw recovers when its test_metric "
    "after the polish is at most the smallest declared eps; the basin width is the "
    "largest noise scale at which most draws recover (and every smaller scale did). A "
    "construction that recovers from noise while trained nets of its size stay above "
    "eps says the optimum exists and is reachable nearby, not that a random start finds it."
)


def _basins(a: Analysis, out: Path, df: pd.DataFrame) -> list[Block]:
    """The constructions' basin table, where the report has basin rows."""
    if a.basins.empty:
        return []
    polish = sorted({p.split(" + ", 2)[2] for p in df.loc[df["status"] == "basin", "protocol"]})
    return [
        Heading("Basins: do the constructions' optima sit where an optimiser can reach them?"),
        Text(BASIN.format(protocol="; ".join(polish))),
        _table(out, "basins", tables.basins(a), a.basins, "Basin of each construction", a.names),
    ]


def _unbracketed(bracketing: pd.DataFrame, names: dict[str, str]) -> str:
    """The declared eps at which no E_d is read, named per panel, in one sentence."""
    none = bracketing[bracketing["verdict for"] == "none"]
    if none.empty:
        return ""
    said = [
        f"{names.get(panel, panel) or 'eps'} {', '.join(part['eps'])}".strip()
        for panel, part in none.groupby("panel", sort=False)
    ]
    return " No E_d is read at: " + "; ".join(said) + "."


def _sizes(a: Analysis, out: Path, coverage: Text) -> list[Block]:
    """The tables P_d(eps) and N_d(eps)."""
    if a.p.empty:
        return []
    return [
        Heading("P_d(eps): parameters to reach eps"),
        _table(
            out,
            "p_d",
            tables.by_depth(a.p, "P"),
            a.p,
            "Smallest parameter count reaching test_metric <= eps (selected on validation)",
            a.names,
        ),
        coverage,
        Heading("N_d(eps): hidden neurons to reach eps, beside the theorems' counts"),
        _table(
            out,
            "n_d",
            tables.neurons(a),
            a.n,
            "Smallest hidden-neuron count reaching test_metric <= eps (selected on validation)",
            a.names,
        ),
        coverage,
    ]


def _compute(a: Analysis, out: Path, coverage: Text) -> list[Block]:
    """Matched compute: F_d(eps) and E_d at matched forward FLOPs where they differ
    from the parameter counts' (:mod:`depthbench.analysis.compute`), else why not."""
    if a.p.empty:
        return []
    missing = unrecorded(a.curves.points)
    said = Text(
        COMPUTE
        + (
            " Forward FLOPs are not recorded for "
            + "; ".join(a.names.get(i, i) or i for i in missing)
            + " (weight-shared rows written before schema 6): re-run them to compare "
            "them at matched compute."
            if missing
            else ""
        )
    )
    if a.f.empty:
        rest = Text(NO_SHARING_REST if missing else NO_SHARING)
        return [Heading("Matched compute: forward FLOPs per sample"), said, rest]
    blocks: list[Block] = [
        Heading("Matched compute: forward FLOPs per sample"),
        said,
        _table(
            out,
            "f_d",
            tables.by_depth(a.f, "F"),
            a.f,
            "Smallest forward FLOPs per sample reaching test_metric <= eps (selected on "
            "validation)",
            a.names,
        ),
    ]
    if not a.e_flops.empty:
        blocks.append(
            _table(
                out,
                "efficiency_flops",
                tables.by_depth(a.e_flops, "E"),
                a.e_flops,
                "Depth efficiency at matched compute: forward FLOPs depth 1 needs over "
                "those depth d needs",
                a.names,
            )
        )
    return [*blocks, coverage]


def _blocks(a: Analysis, df: pd.DataFrame, out: Path, pdf: bool) -> list[Block]:
    blocks: list[Block] = []
    drawn = figures.Output(out, pdf)
    coverage = Text(_coverage(a.curves.points))
    if not a.curves.points.empty:
        blocks += [
            Heading("How to read this report"),
            Text(METHOD),
            Text(f"Thresholds eps: {a.eps_source}."),
        ]
    blocks += _efficiency(a, out, drawn, coverage) + _fit(a, out, df)
    blocks += _sizes(a, out, coverage) + _compute(a, out, coverage)
    flags = analysis.flags(a.cells)
    if len(flags):
        blocks += [
            Heading("Cells to read with care"),
            Text(
                "The chosen learning rate lies at the edge of the rates tried, or "
                'members at it did not converge (rule under "How to read"): more '
                "rates or steps could change these cells."
            ),
            _table(
                out,
                "flags",
                tables.in_order(flags, "panel", "depth", "budget").drop(columns="n_train"),
                flags,
                "Cells whose rate is at the grid's edge or that did not converge",
                a.names,
            ),
        ]
    made = [
        (
            figures.metric_vs_params(a, df, drawn),
            "Figure 1: test_metric against parameters per depth, selected on validation "
            "(band: interval over replicates, see the tables; black markers: constructed networks; "
            "grey markers: baselines; dashed: chance; dotted: Bayes optimum)",
        ),
        (
            figures.efficiency_vs_size(a, drawn),
            "Figure 2: depth efficiency against problem size (middle eps, selected on "
            "validation); dashed: the theorems' shallow / deep neuron ratio",
        ),
        (
            figures.heatmap(a, drawn),
            "Figure 3: test_metric over hidden layers x budget (selected on validation), "
            "cells annotated with width",
        ),
        (
            figures.training_loss(a, drawn),
            "Figure 7: training loss at the chosen rate against parameters per depth (median "
            "over replicates; standardised MSE or cross-entropy): a shallow net that does not "
            "fit its training set is an optimisation, not an expressivity, result",
        ),
    ]
    for paths, caption in made:
        blocks += [Figure(p, caption, pdf) for p in paths]
    if not a.baselines.empty:
        built = tables.baselines(a)
        blocks += [
            Heading("Baselines"),
            Text(
                "Models that are fitted, not trained: ridge regression on the raw "
                "inputs (`linear`; for classification, least squares on one-hot "
                "labels), random features (a one-hidden-layer net of the budget's "
                "width with random hidden weights and a ridge read-out; input gain and "
                "ridge chosen on validation; `n_params` counts the random layer), and "
                "the task's own rules. Values are medians over seeds."
            ),
            _table(
                out, "baselines", built, a.baselines, "Baselines (selected on validation)", a.names
            ),
        ]
    if not a.fits.empty:
        blocks += [
            Heading("Scaling: test_metric ~ c n_params^(-alpha)"),
            _table(
                out,
                "scaling",
                tables.fits(a),
                a.fits,
                "Power-law fits of test_metric (selected on validation) against parameters",
                a.names,
            ),
            coverage,
        ]
    if not a.samples.empty:
        blocks += [
            Heading("Sample complexity"),
            _table(
                out,
                "samples",
                tables.samples(a),
                a.samples,
                f"Training samples at which test error falls below {LEARNED_TEXT} "
                "(selected on validation)",
                a.names,
            ),
            coverage,
        ]
        blocks += [
            Figure(
                p,
                "Figure 4: test_metric against training samples (largest budget "
                "per depth, selected on validation); dash-dot: learned threshold; "
                "vertical: theory's P_star",
                pdf,
            )
            for p in figures.sample_complexity(a, drawn)
        ]
        blocks += [
            Figure(
                p,
                "Figure 8: the same curves against n_train / P_star (the theory's sample "
                "complexity), one panel per model and depth: where the scaling holds, the "
                "instances fall on one curve; dash-dot: learned threshold",
                pdf,
            )
            for p in figures.collapse(a, drawn)
        ]
    if (df["status"] == "constructed").any():
        built = tables.constructed(df)
        blocks += [
            Heading("Constructed networks"),
            Text(
                'The networks the theorems build (docs/science.md, "Constructed networks"), '
                "evaluated in float32 on the same test draw as trained networks; "
                "`theorem` is the neuron (or ReLU unit) count the theory states, "
                "`lambda` the input scale chosen on the validation draw. A "
                "product tree over n inputs, n not a power of two, carries a value "
                "through a layer (2 neurons), so it can exceed 4(n-1)."
            ),
            _table(out, "constructed", built, built, "Constructed networks", a.names),
        ]
    blocks += _basins(a, out, df)
    if not a.cells.empty:
        blocks += [Heading("Cost")]
        blocks += [
            Figure(
                p,
                "Figure 5: training time per model (its group's time shared "
                "among members) against parameters",
                pdf,
            )
            for p in figures.wall_time(df, drawn)
        ]
        blocks += [
            Heading("Every cell"),
            _table(
                out,
                "cells",
                tables.cells(a),
                a.cells,
                "Every cell of the grid (lr and test selected on validation)",
                a.names,
            ),
            coverage,
        ]
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
        "eps_source": a.eps_source,
        "intervals": {
            "method": "order-statistic interval of the median over replicates",
            "level": LEVEL,
            "replicates": sorted({int(k) for k in a.curves.points["replicates"].dropna()}),
        },
        "selection": "learning rate per cell by mean val_metric over replicates",
        "files": sorted(
            str(p.relative_to(out))
            for p in out.rglob("*")
            if p.is_file() and p.name != "manifest.json"
        ),
    }


def _check_below_chance(df: pd.DataFrame, eps: Sequence[float]) -> None:
    """``--eps`` values are absolute test_metric thresholds: one at or above a task's
    chance level is met by predicting the mean (or a constant class), so P_d and E_d
    would say nothing. Raises :class:`ResultsError` naming the task and its chance."""
    chance = df.groupby("task")["chance"].min()
    for task, level in chance.items():
        high = [e for e in eps if e >= level]
        if high:
            raise ResultsError(
                f"--eps {' '.join(f'{e:g}' for e in high)}: at or above chance for {task} "
                f"(test_metric {level:g} by predicting the mean or a constant class); "
                f"give thresholds below {level:g}"
            )


def build_report(
    dirs: Sequence[Path], out: Path, eps: Sequence[float] | None = None, pdf: bool = False
) -> Path:
    """Write the report for the results under ``dirs`` into ``out``; returns ``index.md``.

    ``eps``: absolute thresholds for P_d / E_d for every task (default: each task's
    ``report.eps``, declared with its run and stored in its rows). ``pdf``: figures as
    PDF too. The rows read are stored with the report (``out/rows/``, a results
    directory), so ``depthbench report out/rows --out out`` rebuilds it anywhere.
    The report is built beside ``out`` and swapped in whole (:func:`_swap`): nothing of
    an earlier report outlives a rebuild, and a rebuild stopped midway (an error,
    Ctrl-C, a kill) leaves the earlier one as it was.
    """
    if out.exists() and not out.is_dir():
        raise ResultsError(f"--out {out} is a file; give a directory to write the report into")
    if eps is not None and any(e <= 0 for e in eps):
        raise ResultsError(
            f"--eps: thresholds must be positive test_metric values, got {list(eps)}"
        )
    df = results.load(dirs, refuse_versions=True)
    if df.empty:
        raise ResultsError(
            f"no result rows in {', '.join(map(str, dirs))}; run `depthbench run` first"
        )
    if not df["status"].isin(["ok", "constructed"]).any():
        raise ResultsError(
            "no trained (status=ok) or constructed rows to report; rows by status: "
            f"{status_counts(df)}"
        )
    if eps is not None:
        _check_below_chance(df, eps)
    stored = df
    df = analysis.label(df)
    a = analysis.analyze(df, eps)
    out.parent.mkdir(parents=True, exist_ok=True)
    building = out.with_name(f".{out.name}.building-{secrets.token_hex(4)}")
    building.mkdir()
    try:
        _write(a, df, dirs, eps, building, pdf, out.resolve().name)
        _keep_rows(stored, building / ROWS, out / ROWS)
        _swap(building, out)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return out / "index.md"


def _write(
    a: Analysis,
    df: pd.DataFrame,
    dirs: Sequence[Path],
    eps: Sequence[float] | None,
    out: Path,
    pdf: bool,
    name: str,
) -> None:
    """The report's page, figures, tables and manifest, into the empty ``out``; the
    page titled ``name`` (the experiment's, as reports are named), its headline first."""
    title = f"{name}: {TITLE}"
    blocks = [
        Heading(title, 1),
        Heading(HEADLINE),
        Text("\n".join(f"- {line}" for line in headline.lines(a))),
        Heading("What is tested"),
        Text("\n".join(f"- {line}" for line in regime.lines(df))),
        Heading("Provenance"),
        *_provenance(df, dirs, eps, a.fixed),
        *_blocks(a, df, out, pdf),
    ]
    (out / "tables").mkdir(exist_ok=True)
    (out / "tables" / "numbers.tex").write_text(numbers.tex(a, df))
    blocks += _citable(a, df)
    page = out / "index.md"
    text = markdown(blocks)
    page.write_text(text)
    (out / "index.html").write_text(html_page(text, title, folder=out))
    (out / "manifest.json").write_text(json.dumps(_manifest(df, dirs, a, out), indent=2) + "\n")


def _citable(a: Analysis, df: pd.DataFrame) -> list[Block]:
    """The section listing every number a paper can cite, by key (:func:`numbers.citable`)."""
    keys = numbers.citable(a, df)
    example = keys["key"].iloc[0] if len(keys) else "KEY"
    return [
        Heading("Cite these numbers"),
        Text(
            "Every headline number (E_d, P_d, N_d, R_d and its tests, the best selected "
            "test_metric per depth, baselines, the Bayes error, constructions, alpha, P*) is "
            f"a LaTeX macro in `tables/numbers.tex`: `\\input` it, then `\\dbnum{{{example}}}` "
            "prints one, a regenerated report keeps a paper's numbers true, and a key the "
            "file does not hold stops LaTeX with the key named. Each key has a stable form "
            "naming its whole panel, the same whatever other panels a report holds; each "
            "interval has companions `<key> interval`, `<key> coverage` and, where censored, "
            "`<key> replicates`."
        ),
        Text(keys.to_markdown(index=False) if len(keys) else "(no numbers)"),
    ]


ROWS = "rows"  # the report's own copy of the rows it read: a results directory
# what a report writes under --out (and fig*.png, fig*.pdf); anything else there (a
# user's notes) is carried over
OWN = {"index.md", "index.html", "manifest.json", "tables", ROWS}


def _keep_rows(rows: pd.DataFrame, to: Path, before: Path) -> None:
    """Store ``rows`` as ``to/rows.parquet`` (the store's format: marker, checksums), so a
    report can be rebuilt or re-analysed from its own directory; the file of the
    report ``before`` where it holds the same rows, every value (so that a rebuild
    leaves its bytes as they were)."""
    kept = before / f"{ROWS}.parquet"
    if kept.is_file() and _same_rows(results.load(before), rows):
        to.mkdir()
        shutil.copyfile(kept, to / kept.name)
    else:
        results.write(rows, to, ROWS)


def _swap(built: Path, out: Path) -> None:
    """Put the report ``built`` at ``out`` by two renames, so ``out`` is always one
    whole report (absent only for the instant between them); then what the earlier
    ``out`` held that no report writes (a user's notes) moves into it."""
    if not out.exists():
        built.rename(out)
        return
    old = out.with_name(f".{out.name}.old-{secrets.token_hex(4)}")
    out.rename(old)
    built.rename(out)
    for entry in old.iterdir():
        if not _owned(entry.name) and not (out / entry.name).exists():
            entry.rename(out / entry.name)
    shutil.rmtree(old)


def _owned(name: str) -> bool:
    """Whether a report writes the entry ``name`` of its directory."""
    return name in OWN or (name.startswith("fig") and name.endswith((".png", ".pdf")))


def _same_rows(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether two loaded frames hold the same rows, every value (not only the same
    ``run_id``s: a re-run under another protocol keeps its ids, not its numbers)."""
    if sorted(a.columns) != sorted(b.columns) or len(a) != len(b):
        return False
    columns = sorted(a.columns)
    first, second = (f[columns].sort_values("run_id", ignore_index=True) for f in (a, b))
    return first.equals(second)
