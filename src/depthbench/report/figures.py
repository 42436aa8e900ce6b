"""The report's figures (seaborn; depths along a colour-blind-safe sequential palette),
each saved as PNG and PDF.

Every function returns the PNG paths it wrote, or ``[]`` when the results do not
hold the data the figure needs (e.g. no second problem size).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path
from typing import Any, cast

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter  # noqa: E402
from numpy.typing import ArrayLike  # noqa: E402

from depthbench.analysis import INSTANCE, PANEL, TASK, Analysis, ordered  # noqa: E402
from depthbench.analysis.efficiency import FLOOR  # noqa: E402
from depthbench.analysis.samples import LEARNED, LEARNED_TEXT  # noqa: E402
from depthbench.schema import DEEP_NEURONS, P_STAR, SHALLOW_NEURONS, theory_column  # noqa: E402

DEPTH = "hidden layers"
# TrueType (Type 42) fonts in PDFs: many publishers' checks reject matplotlib's default
# Type 3 fonts
matplotlib.rcParams.update({"pdf.fonttype": 42, "ps.fonttype": 42})


def metric_name(chance: float) -> str:
    """The axis label of the test metric of a task with this chance level: relative
    MSE for regression (chance 1, predicting the mean), the error rate for
    classification (chance 1 - 1/classes, below 1)."""
    return "test relative MSE" if chance == 1.0 else "test error rate"


@dataclass(frozen=True)
class Output:
    """Where figures go: ``dir``, as PNG, and also as PDF when ``pdf``."""

    dir: Path
    pdf: bool = False


DPI = 192  # pixels per inch: the page shows a figure at its size in inches (96 CSS px
# an inch, page.html_page), so every PNG has twice the pixels of its displayed size
MAX_PIXELS = 8e6  # a figure of many panels gets a lower resolution, not a multi-MB PNG


def _save(fig: plt.Figure, out: Output, name: str) -> list[Path]:
    """``fig`` as ``name``.png (and .pdf), cropped to what is drawn, so that no label or
    legend outside the panels is cut off."""
    width, height = fig.get_size_inches()
    dpi = min(DPI, (MAX_PIXELS / (width * height)) ** 0.5)
    fig.savefig(out.dir / f"{name}.png", dpi=dpi, bbox_inches="tight")
    if out.pdf:  # no creation date in the PDF: the same rows give the same files
        fig.savefig(out.dir / f"{name}.pdf", metadata={"CreationDate": None}, bbox_inches="tight")
    plt.close(fig)
    return [out.dir / f"{name}.png"]


TEXT_WIDTH = 345 / 72.27  # inches: the text width the LaTeX tables fit (article, 10 pt)


def _grid(n: int, height: float = 2.3, wide: bool = False) -> tuple[plt.Figure, list[plt.Axes]]:
    """A figure of ``n`` panels, at most 2 a row, :data:`TEXT_WIDTH` wide (one panel:
    half of it, a column's width, unless ``wide``), in the "paper" context so that
    8-pt type stays 8 pt when set at that width."""
    sns.set_theme(context="paper", style="whitegrid")
    cols = min(n, 2)
    rows = -(-n // cols)
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(TEXT_WIDTH if wide else TEXT_WIDTH / 2 * cols, height * rows),
        squeeze=False,
        layout="constrained",  # room for the legend below the panels (:func:`_legend`)
    )
    for ax in axes.flat[n:]:
        ax.remove()
    return fig, list(axes.flat[:n])


def _title(ax: plt.Axes, text: str) -> None:
    """A panel title wrapped to the panel's width."""
    ax.set_title(textwrap.fill(text, 34), fontsize=8)


def _depth_first(label: str) -> int:
    """Sort key of a legend label: its depth where it starts with one (``2``,
    ``1 (budget 300)``), after every depth otherwise."""
    found = re.match(r"\d+", label)
    return int(found[0]) if found else 1 << 30


def _legend(fig: plt.Figure, title: str | None = DEPTH) -> None:
    """One legend for the whole figure, outside its panels so that no legend covers
    data: every distinct label of its panels once, the depths first (in order), then
    the rest in the order first drawn. Beside a figure of one panel, in as many columns
    as keep it within the panel's height; below a figure of two columns of panels, in
    as many columns as its width holds. The figure grows by the legend, so that the
    panels keep their size."""
    found: dict[str, Artist] = {}
    for ax in fig.axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            found.setdefault(label, handle)
    if not found:
        return
    labels = sorted(found, key=_depth_first)
    column = (30 + 3.4 * max(map(len, labels))) / 72  # inches; 6-pt type is ~3.4 pt a character
    titled = title is not None
    beside = len(fig.axes) == 1
    if beside:
        lines = max(1, int((fig.get_figheight() * 72 - 8) // 9) - titled)
        ncol = -(-len(labels) // lines)
        fig.set_figwidth(fig.get_figwidth() + ncol * column)
    else:
        ncol = max(1, min(4, len(labels), int(fig.get_figwidth() // column)))
        lines = -(-len(labels) // ncol) + titled
        fig.set_figheight(fig.get_figheight() + (lines * 9 + 8) / 72)
    fig.legend(
        [found[label] for label in labels],
        labels,
        title=title,
        loc="outside right upper" if beside else "outside lower center",
        ncol=ncol,
        fontsize=6,
        title_fontsize=6,
        frameon=False,
    )


def _log_ticks(axis: matplotlib.axis.Axis, values: pd.Series) -> None:
    """Labelled ticks on a log axis where the ``values`` lie: at the powers of ten
    where they span over two decades, at 1, 2 and 5 times them where over one, at 1,
    2, 3 and 5 times them where over half of one (fewer would label one tick or
    none), else at three or four round numbers; labels as plain numbers (``0.05``)."""
    span = values.max() / values.min()
    if span < 3:
        axis.set_major_locator(MaxNLocator(nbins=4))
    else:
        subs = (1.0,) if span > 100 else (1.0, 2.0, 5.0) if span > 10 else (1.0, 2.0, 3.0, 5.0)
        axis.set_major_locator(LogLocator(subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _palette(depths: Iterable[int]) -> dict[int, tuple]:
    """A colour per depth, in depth order along plasma from dark blue (shallowest) to
    orange (deepest; its pale yellow end left out): perceptually uniform and
    colour-blind safe, so the order reads from the colour. Given every depth of the
    report, a depth has one colour in every figure."""
    found = sorted(set(depths))
    cmap = matplotlib.colormaps["plasma"]
    return {d: cmap(x)[:3] for d, x in zip(found, np.linspace(0, 0.85, len(found)))}


MARGIN = 0.15  # decades of a log axis beyond the values that set its range


@dataclass(frozen=True)
class LogY:
    """A panel's log y-axis: ``low`` to ``high`` hold the values that set it (with a
    margin), and where something drawn is exactly 0, ``zero`` is the floor below them
    that zeros lie on (a log axis has no 0), a dashed line labelled '0 (exact)'."""

    low: float
    high: float
    zero: float | None

    def at(self, values: ArrayLike) -> np.ndarray:
        """Where ``values`` are drawn: zeros on the floor, the others where they are."""
        v = np.asarray(values, float)
        return np.where(v == 0, np.nan if self.zero is None else self.zero, v)

    def show(self, ax: plt.Axes) -> None:
        """Make ``ax``'s y-axis this one: log, its range, ticks as :func:`_log_ticks`
        puts them, and the zero floor as a dashed line with the tick '0 (exact)' (the
        ticks below the range left out: nothing lies between it and the floor)."""
        ax.set_yscale("log")
        _log_ticks(ax.yaxis, pd.Series([self.low, self.high]))
        if self.zero is None:
            ax.set_ylim(self.low, self.high)
            return
        ax.set_ylim(self.zero / 10**MARGIN, self.high)
        ticks = ax.yaxis.get_major_locator().tick_values(self.low, self.high)
        shown = [t for t in ticks if self.low <= t <= self.high]
        ax.set_yticks([self.zero, *shown], labels=["0 (exact)", *(f"{t:g}" for t in shown)])
        ax.axhline(self.zero, color="black", linestyle="--", linewidth=0.8)


def log_y(setting: Sequence[ArrayLike], zeros: bool = False) -> LogY:
    """The :class:`LogY` whose range the ``setting`` values (NaN ignored) set, at
    least a decade wide, with a zero floor half a decade below it where one of them is
    0, or ``zeros`` (a value drawn but not setting the range is 0)."""
    v = np.concatenate([np.ravel(np.asarray(s, float)) for s in setting])
    positive = v[v > 0]
    low, high = (positive.min(), positive.max()) if len(positive) else (0.1, 1.0)
    widen = max(1.0, 10 / (high / low)) ** 0.5  # at least a decade: ticks to read it by
    low, high = low / widen, high * widen
    pad = 10 ** (MARGIN + 0.05 * np.log10(high / low))
    zero = low / pad / 10**0.5 if zeros or (v == 0).any() else None
    return LogY(low / pad, high * pad, zero)


def _tuned_line(
    ax: plt.Axes, line: pd.DataFrame, x: str, colour: tuple, label: str, y: LogY
) -> None:
    """A depth's tuned test_metric against column ``x`` with its bootstrap band (zeros
    on ``y``'s floor)."""
    xs = line[x].to_numpy(float)
    ax.plot(xs, y.at(line["tuned"]), marker="o", color=colour, label=label)
    ax.fill_between(
        xs, y.at(line["tuned_lo"]), y.at(line["tuned_hi"]), color=colour, alpha=0.2, linewidth=0
    )


def _per_panel(
    frame: pd.DataFrame, depths: pd.Series
) -> tuple[plt.Figure, list[tuple[plt.Axes, str, pd.DataFrame]], dict[int, tuple]]:
    """A figure with one panel per ``panel`` of ``frame`` (in :func:`ordered` order): the
    figure, ``(axes, panel, its rows)`` per panel, and a colour per one of ``depths``."""
    panels = ordered(frame[PANEL])
    fig, axes = _grid(len(panels))
    return fig, [(ax, p, frame[frame[PANEL] == p]) for ax, p in zip(axes, panels)], _palette(depths)


BOUNDS = {">=": "^", "<=": "v"}  # a censored E_d's mark: lower bounds up, upper bounds down
BOUND_NAMES = {">=": "lower bound (censored)", "<=": "upper bound (censored)"}


def _bound_key(ax: plt.Axes, censors: pd.Series) -> None:
    """Legend entries for the marks of the censored values among ``censors``: triangles
    for bounds, a bar for a value known to lie in an interval."""
    for mark, marker in BOUNDS.items():
        if (censors == mark).any():
            ax.scatter([], [], marker=marker, color="grey", label=BOUND_NAMES[mark])
    if (censors == "in").any():
        ax.plot([], [], color="grey", linewidth=2.5, label="in [a, b] (censored)")


def _efficiency(
    ax: plt.Axes, xs: pd.Series, line: pd.DataFrame, colour: tuple, label: str, bars: bool
) -> None:
    """One depth's E_d against ``xs``: exact medians as a line, the range of the
    replicates (the tables' range, an open end drawn at its bound) as a band, or as
    thin bars where ``bars`` (few, far apart ``xs``), lower and upper bounds as
    triangles (:data:`BOUNDS`), a median known only to lie in [value, value_hi] as a
    thick bar; an undetermined median is not drawn."""
    x = xs.to_numpy(float)
    censor = line["censor"].to_numpy()
    ax.plot(x, line["value"].where(censor == ""), marker="o", color=colour, label=label)
    if bars:
        ax.vlines(x, line["lo"], line["hi"], color=colour, linewidth=0.8)
    else:
        ax.fill_between(x, line["lo"], line["hi"], color=colour, alpha=0.2, linewidth=0)
    for mark, marker in BOUNDS.items():
        bound = censor == mark
        ax.scatter(x[bound], line["value"][bound], marker=marker, color=colour, s=40, zorder=3)
    inside = censor == "in"
    ax.vlines(x[inside], line["value"][inside], line["value_hi"][inside], color=colour, lw=2.5)


def _efficiency_axis(ax: plt.Axes, rows: pd.DataFrame, what: str) -> None:
    """E_d's y-axis: log, the line E_d = 1 (depth gains nothing) and ticks labelled
    over the values of ``rows`` drawn; where none is drawn, it says that E_d is
    undetermined at every ``what``."""
    ax.set_yscale("log")
    ax.axhline(1, color="grey", linewidth=0.8)
    drawn = rows[["value", "value_hi", "lo", "hi"]].to_numpy(float).ravel()
    if (drawn > 0).any():
        _log_ticks(ax.yaxis, pd.Series([*drawn[drawn > 0], 1.0]))
    else:
        ax.text(0.5, 0.5, f"undetermined at every {what}", transform=ax.transAxes, ha="center")


def _references(ax: plt.Axes, info: pd.Series, y: LogY) -> None:
    """Chance and (where the task has one) the Bayes-optimal test_metric as lines."""
    ax.axhline(info["chance"], color="grey", linestyle="--", linewidth=1, label="chance")
    if pd.notna(info.get("bayes_metric")):
        ax.axhline(
            float(y.at(info["bayes_metric"])),
            color="black",
            linestyle=":",
            linewidth=1,
            label="Bayes optimum",
        )


def _off_scale(ax: plt.Axes, y: LogY, x: float, value: float, **marker: Any) -> None:
    """A point ``(x, value)`` marked with ``marker`` (scatter's arguments); one outside
    ``y``'s range at the edge of the axis, with its value and an arrow pointing off the
    axis written upright on its left (upright: the values of neighbouring marks do not
    overlap; on the left: a construction is a small network, and the trained curves
    lie high at the small sizes)."""
    at = float(y.at(value)) if value == 0 else min(max(value, y.low), y.high)
    ax.scatter(x, at, clip_on=False, **marker)
    if value > 0 and at != value:
        below = value < at
        ax.annotate(
            f"{'↓' if below else '↑'}{value:.2g}",
            (x, at),
            xytext=(-4, 3 if below else -3),
            textcoords="offset points",
            rotation=90,
            ha="right",
            va="bottom" if below else "top",
            fontsize=6,
        )


def _metric_panel(
    ax: plt.Axes,
    a: Analysis,
    part: pd.DataFrame,
    colours: dict[int, tuple],
    mine: pd.DataFrame,
    markers: dict[str, str],
    zeros: bool,
) -> LogY:
    """Figure 1's trained lines, theorems' floors and baselines (``mine``, one marker
    each) of the panel whose points are ``part``; returns the y-axis that their values
    and the references (chance, the Bayes error) set, with a zero floor where
    ``zeros`` (a construction drawn later is 0)."""
    info = a.instances.loc[part[INSTANCE].iloc[0]]
    floors = a.cells[(a.cells[PANEL] == part[PANEL].iloc[0]) & (a.cells["floor"] > 0)]
    floors = floors[floors["depth"].isin(part["depth"])]  # depths with a selected cell
    y = log_y(
        [part[["tuned", "tuned_lo", "tuned_hi"]], floors["floor"], mine["test_metric"]]
        + [[info["chance"], info.get("bayes_metric", np.nan)]],
        zeros=zeros,
    )
    for depth, line in part.groupby("depth"):
        _tuned_line(ax, line, "n_params", colours[cast(int, depth)], str(depth), y)
    for depth, line in floors.sort_values("n_params").groupby("depth"):
        ax.plot(
            line["n_params"],
            line["floor"],
            linestyle="--",
            color=colours[depth],
            label=f"{depth}: theorem's floor",
        )
    for name, line in mine.groupby("baseline"):
        ax.plot(
            line["n_params"].clip(lower=1),
            y.at(line["test_metric"]),
            marker=markers[str(name)],
            color="grey",
            linestyle=":",
            label=f"baseline: {name}",
        )
    _references(ax, info, y)
    return y


def metric_vs_params(a: Analysis, df: pd.DataFrame, out: Output) -> list[Path]:
    """Figure 1: selected test_metric against n_params, one line per depth with its
    interval band, the constructed networks of the same task as black markers (one
    shape per construction, named in the legend) and the baselines
    (same task, same n_train or a rule) as grey markers, and, dashed in a depth's
    colour, the floor a theorem puts under every network of that depth and size
    (where it is above 0). The trained lines, floors, baselines and references set
    the y-range: a construction outside it is marked at its edge with its value."""
    points = a.curves.points
    if points.empty:
        return []
    built = df[df["status"] == "constructed"]
    shapes = dict(zip(sorted(built["model"].unique()), cycle(("*", "X", "P", "h", "d"))))
    base = a.baselines
    markers = dict(zip(sorted(base["baseline"].unique()), cycle(("s", "D", "p", "8", "<"))))
    panels = ordered(points[PANEL])
    colours = _palette(a.cells["depth"])
    fig, axes = _grid(len(panels))
    for ax, panel in zip(axes, panels):
        part = points[points[PANEL] == panel].sort_values("n_params")
        instance = part[INSTANCE].iloc[0]
        task = a.instances.loc[instance, TASK]
        n_train = part["n_train"].iloc[0]
        mine = base[
            (base[TASK] == task)
            & (base["n_train"].isna() | base["n_train"].eq(n_train).fillna(False))
        ]
        made = built[built[PANEL] == task].set_index("model")
        zeros = bool((made["test_metric"] == 0).any())
        y = _metric_panel(ax, a, part, colours, mine, markers, zeros)
        for name, row in made.iterrows():
            _off_scale(
                ax,
                y,
                row["n_params"],
                row["test_metric"],
                marker=shapes[str(name)],
                s=70,
                color="black",
                zorder=5,
                label=f"constructed: {name}",
            )
        ax.set(
            xscale="log",
            xlabel="parameters (n_params)",
            ylabel=metric_name(a.instances.loc[instance, "chance"]),
        )
        y.show(ax)
        _title(ax, a.names.get(panel, panel))
    _legend(fig)
    return _save(fig, out, "fig1_metric_vs_params")


def _size_parameter(instances: pd.DataFrame) -> dict[str, str]:
    """Per task family with several instances: the one ``task.*`` parameter that
    varies between them, if it is a number (families varying in more than one, or in
    a choice such as a mode, are left out)."""
    found: dict[str, str] = {}
    for task, part in instances.groupby("task"):
        varying = [
            c for c in part.columns if c.startswith("task.") and part[c].nunique(dropna=True) > 1
        ]
        if len(part) > 1 and len(varying) == 1 and pd.api.types.is_numeric_dtype(part[varying[0]]):
            found[cast(str, task)] = varying[0]  # task names are strings
    return found


def efficiency_vs_size(a: Analysis, out: Output) -> list[Path]:
    """Figure 2: E_d(eps) against the problem size that varies between instances of a
    family, in parameters and in hidden neurons; the theorems' shallow/deep neuron
    ratio is drawn over the neuron panel where the task states both counts. Marks as
    figure 6's (:func:`_efficiency`)."""
    sizes = _size_parameter(a.instances)
    if not sizes or a.e.empty:
        return []
    eps = {i: sorted(v)[len(v) // 2] for i, v in a.eps.items()}  # the middle threshold
    colours = _palette(a.cells["depth"])  # one per depth in every panel and figure
    fig, axes = _grid(2 * len(sizes))
    for k, (task, column) in enumerate(sorted(sizes.items())):
        info = a.instances[a.instances["task"] == task]
        for ax, (frame, unit) in zip(
            axes[2 * k : 2 * k + 2], ((a.e, "parameters"), (a.e_neurons, "hidden neurons"))
        ):
            rows = frame[frame[INSTANCE].isin(info.index)]
            rows = rows[[e == eps[i] for i, e in zip(rows[INSTANCE], rows["eps"])]]
            rows = rows.assign(size=rows[INSTANCE].map(info[column]).astype(float))
            for depth, line in rows.sort_values("size").groupby("depth"):
                _efficiency(ax, line["size"], line, colours[depth], str(depth), bars=True)
            _bound_key(ax, rows["censor"])
            shallow, deep = theory_column(SHALLOW_NEURONS), theory_column(DEEP_NEURONS)
            if unit == "hidden neurons" and {shallow, deep} <= set(info.columns):
                theory = info[[column, shallow, deep]].astype(float).sort_values(column)
                ax.plot(
                    theory[column],
                    theory[shallow] / theory[deep],
                    color="black",
                    linestyle="--",
                    label="theory: shallow / deep",
                )
            ax.set(xlabel=f"{task}: {column.removeprefix('task.')}", ylabel=f"E_d in {unit}")
            ax.set_xticks(sorted(info[column].unique()))  # the sizes run
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            _efficiency_axis(ax, rows, "size")
            _title(ax, f"{task}: E_d = P_1 / P_d at eps = {eps[info.index[0]]:g}")
    _legend(fig)
    return _save(fig, out, "fig2_efficiency_vs_size")


def _fitting(cell_pt: float, notes: pd.DataFrame) -> float:
    """The largest font size up to 7 pt, and at least 4, at which the longest line of
    ``notes`` fits a heat-map cell ``cell_pt`` wide (a digit is about 0.6 em)."""
    chars = max(len(line) for note in notes.stack() for line in str(note).split("\n"))
    return max(4.0, min(7.0, 0.85 * cell_pt / (0.6 * chars)))


def heatmap(a: Analysis, out: Output) -> list[Path]:
    """Figure 3: selected test_metric over hidden layers x budget, each cell annotated
    with its width (the layout of Rolnick & Tegmark 2018, Fig. 2), for the panels with
    two or more depths and budgets (a grid of one row or column is figure 1's line)."""
    cells = a.cells.dropna(subset=["tuned"])
    shape = cells.groupby(PANEL)[["depth", "budget"]].nunique()
    grids = shape.index[(shape["depth"] > 1) & (shape["budget"] > 1)]
    cells = cells[cells[PANEL].isin(grids)]
    if cells.empty:
        return []
    panels = ordered(cells[PANEL])
    fig, axes = _grid(len(panels), height=3.0, wide=True)
    panel_pt = TEXT_WIDTH / min(len(panels), 2) * 72 * 0.55  # the map, its labels aside
    positive = cells["tuned"][cells["tuned"] > 0]
    norm = (
        LogNorm(vmin=max(positive.min(), FLOOR), vmax=max(positive.max(), 1.0))
        if len(positive)
        else None
    )
    for ax, panel in zip(axes, panels):
        part = cells[cells[PANEL] == panel]
        values = part.pivot(index="depth", columns="budget", values="tuned")
        width = part.pivot(index="depth", columns="budget", values="width")
        notes = (
            values.map(lambda v: "" if pd.isna(v) else f"{v:.3g}")
            + "\nw="
            + width.astype("string").fillna("-")
        )
        sns.heatmap(
            values.clip(lower=FLOOR),
            annot=notes,
            fmt="",
            norm=norm,
            cmap="viridis_r",
            annot_kws={"fontsize": _fitting(panel_pt / values.shape[1], notes)},
            cbar=False,
            ax=ax,
        )
        ax.set(xlabel="parameter budget", ylabel=DEPTH)
        _title(ax, a.names.get(panel, panel))
    metrics = {metric_name(c) for c in a.instances.loc[cells[INSTANCE].unique(), "chance"]}
    fig.colorbar(  # one scale (norm) for every panel, so one bar
        axes[0].collections[0], ax=axes, label=metrics.pop() if len(metrics) == 1 else "test_metric"
    )
    return _save(fig, out, "fig3_heatmap")


def sample_complexity(a: Analysis, out: Output) -> list[Path]:
    """Figure 4: tuned test_metric against n_train per depth (largest budget of each
    depth), with the "learned" threshold (10% of chance) and the theory's P_star."""
    points = a.curves.points[a.curves.points["n_train"] > 0]  # not online data
    several = points.groupby(INSTANCE)["n_train"].nunique()
    instances = ordered(several[several > 1].index)
    if not instances:
        return []
    colours = _palette(a.cells["depth"])  # one per depth in every panel and figure
    fig, axes = _grid(len(instances))
    for ax, instance in zip(axes, instances):
        part = points[points[INSTANCE] == instance]
        largest = part.groupby("depth")["budget"].transform("max") == part["budget"]
        part = part[largest].sort_values("n_train")
        info = a.instances.loc[instance]
        y = log_y(
            [part[["tuned", "tuned_lo", "tuned_hi"]]]
            + [[info["chance"], info.get("bayes_metric", np.nan), LEARNED * info["chance"]]]
        )
        for depth, line in part.groupby("depth"):
            label = f"{depth} (budget {line['budget'].iloc[0]})"
            _tuned_line(ax, line, "n_train", colours[depth], label, y)
        _references(ax, info, y)
        ax.axhline(
            LEARNED * info["chance"],
            color="grey",
            linestyle="-.",
            linewidth=1,
            label=f"learned: {LEARNED_TEXT}",
        )
        if pd.notna(info.get(theory_column(P_STAR))):
            ax.axvline(
                info[theory_column(P_STAR)], color="black", linewidth=1, label="P_star (theory)"
            )
        ax.set(
            xscale="log", xlabel="training samples (n_train)", ylabel=metric_name(info["chance"])
        )
        y.show(ax)
        ticks = sorted(part["n_train"].unique())
        every = -(-len(ticks) // 4)  # at most 4 labels fit the panel's width
        ax.set_xticks(ticks, labels=[str(t) if k % every == 0 else "" for k, t in enumerate(ticks)])
        ax.xaxis.set_minor_formatter(NullFormatter())
        _title(ax, a.names.get(instance, instance))
    _legend(fig)
    return _save(fig, out, "fig4_sample_complexity")


def collapse(a: Analysis, out: Output) -> list[Path]:
    """Figure 8: the sample-complexity curves of every instance whose theory states
    P_star, against n_train / P_star, one panel per model (with its parameters) and
    depth (largest budget): where the theory's scaling holds, the instances' curves fall
    on one line."""
    column = theory_column(P_STAR)
    if column not in a.instances:
        return []
    stated = a.instances[a.instances[column].notna()]
    points = a.curves.points[
        a.curves.points[INSTANCE].isin(stated.index) & (a.curves.points["n_train"] > 0)
    ]
    if points.empty or stated.index.nunique() < 2:
        return []
    largest = points.groupby([INSTANCE, "depth"])["budget"].transform("max") == points["budget"]
    points = points[largest].assign(
        model=points[INSTANCE].str.split(" · ").str[1],  # the model part of the label
        scaled=points["n_train"] / points[INSTANCE].map(stated[column]),
    )
    panels = sorted({(m, d) for m, d in zip(points["model"], points["depth"])})
    fig, axes = _grid(len(panels))
    tasks = ordered(stated[TASK])  # a task has one colour in every panel (one legend)
    colours = dict(zip(tasks, sns.color_palette("colorblind", len(tasks))))
    for ax, (model, depth) in zip(axes, panels):
        part = points[(points["model"] == model) & (points["depth"] == depth)]
        chance = stated.loc[part[INSTANCE].iloc[0], "chance"]
        y = log_y([part[["tuned", "tuned_lo", "tuned_hi"]], [LEARNED * chance]])
        for instance, line in part.sort_values("scaled").groupby(INSTANCE, sort=False):
            label = f"{stated.loc[instance, TASK]} (P_star {stated.loc[instance, column]:g})"
            _tuned_line(ax, line, "scaled", colours[stated.loc[instance, TASK]], label, y)
        ax.axhline(LEARNED * chance, color="grey", linestyle="-.", linewidth=1)
        ax.axvline(1, color="black", linewidth=1)
        ax.set(xscale="log", xlabel="n_train / P_star", ylabel=metric_name(chance))
        y.show(ax)
        _title(ax, f"{model}, {depth} hidden layers")
    _legend(fig, title=None)
    return _save(fig, out, "fig8_collapse")


def efficiency_vs_eps(a: Analysis, out: Output) -> list[Path]:
    """Figure 6: E_d(eps) over a range of eps per panel, eps decreasing to the right:
    exact values as lines, the replicates' range as a band, lower and upper bounds as
    triangles up and down, an interval-censored value as a bar (:func:`_efficiency`);
    a panel where E_d is undetermined at every eps says so."""
    if a.e_curve.empty:
        return []
    fig, panels, colours = _per_panel(a.e_curve, a.cells["depth"])
    for ax, panel, part in panels:
        for depth, line in part.sort_values("eps").groupby("depth"):
            _efficiency(ax, line["eps"], line, colours[cast(int, depth)], str(depth), bars=False)
        _bound_key(ax, part["censor"])
        ax.set(xscale="log", xlabel="eps (test_metric threshold)", ylabel="E_d(eps) = P_1 / P_d")
        low, high = part["eps"].min(), part["eps"].max()
        if high > low:  # from the eps, not the points drawn: a panel may have none
            ax.set_xlim(high * 10**0.05, low / 10**0.05)  # the end marks inside the axes
        else:
            ax.invert_xaxis()
        _log_ticks(ax.xaxis, part["eps"])
        _efficiency_axis(ax, part, "eps")
        _title(ax, a.names.get(panel, panel))
    _legend(fig)
    return _save(fig, out, "fig6_efficiency_vs_eps")


def training_loss(a: Analysis, out: Output) -> list[Path]:
    """Figure 7: median training loss at the chosen rate against n_params per depth;
    hollow markers: cells with members that did not converge."""
    cells = a.cells.dropna(subset=["train_loss"])
    if cells.empty:
        return []
    fig, panels, colours = _per_panel(cells, a.cells["depth"])
    for ax, panel, part in panels:
        y = log_y([part["train_loss"]])
        for depth, line in part.sort_values("n_params").groupby("depth"):
            ax.plot(
                line["n_params"],
                y.at(line["train_loss"]),
                color=colours[depth],
                marker="o",
                label=str(depth),
            )
            open_ = line[line["converged"] < line["members"]]
            ax.scatter(
                open_["n_params"],
                y.at(open_["train_loss"]),
                s=90,
                facecolors="white",
                edgecolors=colours[depth],
                zorder=5,
            )
        if (part["converged"] < part["members"]).any():
            ax.scatter(
                [], [], s=40, facecolors="white", edgecolors="grey", label="not converged (hollow)"
            )
        ax.set(xscale="log", xlabel="parameters (n_params)", ylabel="training loss")
        y.show(ax)
        _title(ax, a.names.get(panel, panel))
    _legend(fig)
    return _save(fig, out, "fig7_training_loss")


def wall_time(df: pd.DataFrame, out: Output) -> list[Path]:
    """Figure 5: training time per model (its group's time shared among members)
    against n_params, per depth (colour) and device (marker)."""
    ok = df[df["status"] == "ok"]
    if ok.empty:
        return []
    fig, (ax,) = _grid(1, height=2.8)
    colours = _palette(ok["depth"])
    devices = dict(zip(sorted(ok["device"].unique()), cycle(("o", "s", "D", "P"))))
    for (depth, device), part in ok.groupby(["depth", "device"]):
        ax.scatter(
            part["n_params"],
            part["train_time_s"],
            color=colours[cast(int, depth)],
            marker=devices[device],
            s=14,
            label=str(depth),
        )
    for device, marker in devices.items():
        ax.scatter([], [], color="grey", marker=marker, s=14, label=f"device: {device}")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="parameters (n_params)",
        ylabel="training time per model (s)",
    )
    _log_ticks(ax.yaxis, ok["train_time_s"][ok["train_time_s"] > 0])
    _legend(fig)
    return _save(fig, out, "fig5_wall_time")
