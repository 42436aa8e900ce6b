"""The report's figures (seaborn, colour-blind palette), each saved as PNG and PDF.

Every function returns the PNG paths it wrote, or ``[]`` when the results do not
hold the data the figure needs (e.g. no second problem size).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path
from typing import cast

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter  # noqa: E402

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


DPI = 150
MAX_PIXELS = 4e6  # a figure of many panels gets a lower resolution, not a multi-MB PNG


def _save(fig: plt.Figure, out: Output, name: str) -> list[Path]:
    width, height = fig.get_size_inches()
    dpi = min(DPI, (MAX_PIXELS / (width * height)) ** 0.5)
    fig.savefig(out.dir / f"{name}.png", dpi=dpi)
    if out.pdf:  # no creation date in the PDF: the same rows give the same files
        fig.savefig(out.dir / f"{name}.pdf", metadata={"CreationDate": None})
    plt.close(fig)
    return [out.dir / f"{name}.png"]


TEXT_WIDTH = 345 / 72.27  # inches: the text width the LaTeX tables fit (article, 10 pt)


def _grid(n: int, height: float = 2.3, wide: bool = False) -> tuple[plt.Figure, list[plt.Axes]]:
    """A figure of ``n`` panels, at most 2 a row, :data:`TEXT_WIDTH` wide (one panel:
    half of it, a column's width, unless ``wide``), in the "paper" context so that
    8-pt type stays 8 pt when set at that width."""
    sns.set_theme(context="paper", style="whitegrid", palette="colorblind")
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
    """One legend for the whole figure, below its panels, so that no legend covers
    data: every distinct label of its panels once, the depths first (in order), then
    the rest in the order first drawn, in as many columns as the figure's width holds;
    the figure grows by the legend's height."""
    found: dict[str, Artist] = {}
    for ax in fig.axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            found.setdefault(label, handle)
    if not found:
        return
    labels = sorted(found, key=_depth_first)
    widest = max(map(len, labels))  # characters; 6-pt type is about 3.4 pt each
    ncol = max(1, min(4, len(labels), int(fig.get_figwidth() * 72 // (30 + 3.4 * widest))))
    lines = -(-len(labels) // ncol) + (title is not None)
    fig.set_figheight(fig.get_figheight() + (lines * 9 + 8) / 72)  # the panels keep their size
    fig.legend(
        [found[label] for label in labels],
        labels,
        title=title,
        loc="outside lower center",
        ncol=ncol,
        fontsize=6,
        title_fontsize=6,
        frameon=False,
    )


def _log_ticks(axis: matplotlib.axis.Axis, values: pd.Series) -> None:
    """Labelled ticks on a log axis at 1, 2 and 5 times the powers of ten where the
    ``values`` span at most two decades (powers alone would label one tick or none),
    else at the powers; labels as plain numbers (``0.05``)."""
    subs = (1.0, 2.0, 5.0) if values.max() <= 100 * values.min() else (1.0,)
    axis.set_major_locator(LogLocator(subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _palette(depths: list[int]) -> dict[int, tuple]:
    return dict(zip(depths, sns.color_palette("colorblind", len(depths))))


def _tuned_line(ax: plt.Axes, line: pd.DataFrame, x: str, colour: tuple, label: str) -> None:
    """A depth's tuned test_metric against column ``x`` with its bootstrap band
    (values floored at :data:`FLOOR` for the log axis)."""
    xs = line[x].to_numpy(float)
    ax.plot(xs, np.maximum(line["tuned"], FLOOR), marker="o", color=colour, label=label)
    ax.fill_between(
        xs,
        np.maximum(line["tuned_lo"], FLOOR),
        np.maximum(line["tuned_hi"], FLOOR),
        color=colour,
        alpha=0.2,
        linewidth=0,
    )


def _per_panel(
    frame: pd.DataFrame,
) -> tuple[plt.Figure, list[tuple[plt.Axes, str, pd.DataFrame]], dict[int, tuple]]:
    """A figure with one panel per ``panel`` of ``frame`` (in :func:`ordered` order): the
    figure, ``(axes, panel, its rows)`` per panel, and a colour per depth."""
    panels = ordered(frame[PANEL])
    fig, axes = _grid(len(panels))
    return (
        fig,
        [(ax, p, frame[frame[PANEL] == p]) for ax, p in zip(axes, panels)],
        _palette(sorted(frame["depth"].unique())),
    )


def _bound_key(ax: plt.Axes, upper: bool = False) -> None:
    """Legend entries for the triangles that mark censored values: lower bounds, and
    upper bounds where ``upper``."""
    ax.scatter([], [], marker="^", color="grey", label="lower bound (censored)")
    if upper:
        ax.scatter([], [], marker="v", color="grey", label="upper bound (censored)")


def _references(ax: plt.Axes, info: pd.Series) -> None:
    """Chance and (where the task has one) the Bayes-optimal test_metric as lines."""
    ax.axhline(info["chance"], color="grey", linestyle="--", linewidth=1, label="chance")
    if pd.notna(info.get("bayes_metric")):
        ax.axhline(
            info["bayes_metric"], color="black", linestyle=":", linewidth=1, label="Bayes optimum"
        )


def metric_vs_params(a: Analysis, df: pd.DataFrame, out: Output) -> list[Path]:
    """Figure 1: selected test_metric against n_params, one line per depth with its
    interval band, the constructed networks of the same task as black markers (one
    shape per construction, named in the legend) and the baselines
    (same task, same n_train or a rule) as grey markers, and, dashed in a depth's
    colour, the floor a theorem puts under every network of that depth and size
    (where it is above 0)."""
    points = a.curves.points
    if points.empty:
        return []
    built = df[df["status"] == "constructed"]
    shapes = dict(zip(sorted(built["model"].unique()), cycle(("*", "X", "P", "h", "d"))))
    base = a.baselines
    markers = dict(zip(sorted(base["baseline"].unique()), cycle(("s", "D", "v", "^", "<"))))
    panels = ordered(points[PANEL])
    colours = _palette(sorted(points["depth"].unique()))
    fig, axes = _grid(len(panels))
    for ax, panel in zip(axes, panels):
        part = points[points[PANEL] == panel].sort_values("n_params")
        for depth, line in part.groupby("depth"):
            _tuned_line(ax, line, "n_params", colours[depth], str(depth))
        floors = a.cells[(a.cells[PANEL] == panel) & (a.cells["floor"] > 0)]
        for depth, line in floors.sort_values("n_params").groupby("depth"):
            if depth not in colours:  # a depth with no selected (trained) cell
                continue
            ax.plot(
                line["n_params"],
                line["floor"],
                linestyle="--",
                color=colours[depth],
                label=f"{depth}: theorem's floor",
            )
        instance = part[INSTANCE].iloc[0]
        task = a.instances.loc[instance, TASK]
        n_train = part["n_train"].iloc[0]
        mine = base[
            (base[TASK] == task)
            & (base["n_train"].isna() | base["n_train"].eq(n_train).fillna(False))
        ]
        for name, line in mine.groupby("baseline"):
            ax.plot(
                line["n_params"].clip(lower=1),
                np.maximum(line["test_metric"], FLOOR),
                marker=markers[str(name)],
                color="grey",
                linestyle=":",
                label=f"baseline: {name}",
            )
        for name, row in built[built[PANEL] == task].set_index("model").iterrows():
            ax.scatter(
                row["n_params"],
                max(row["test_metric"], FLOOR),
                marker=shapes[str(name)],
                s=70,
                color="black",
                zorder=5,
                label=f"constructed: {name}",
            )
        _references(ax, a.instances.loc[instance])
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="parameters (n_params)",
            ylabel=metric_name(a.instances.loc[instance, "chance"]),
        )
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
    ratio is drawn over the neuron panel where the task states both counts."""
    sizes = _size_parameter(a.instances)
    if not sizes or a.e.empty:
        return []
    eps = {i: sorted(v)[len(v) // 2] for i, v in a.eps.items()}  # the middle threshold
    colours = _palette(sorted(a.e["depth"].unique()))  # one per depth in every panel
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
                exact = line["censor"] == ""
                value = line["value"][exact]
                shut = exact & (line["lo_censor"] == "") & (line["hi_censor"] == "")
                ax.errorbar(  # an interval with an end the replicates leave open: no bar
                    line["size"][exact],
                    value,
                    yerr=[
                        (value - line["lo"]).where(shut, 0)[exact].fillna(0),
                        (line["hi"] - value).where(shut, 0)[exact].fillna(0),
                    ],
                    marker="o",
                    color=colours[depth],
                    label=str(depth),
                    capsize=3,
                )
                bound = line["censor"] == ">="
                ax.scatter(
                    line["size"][bound],
                    line["value"][bound],
                    marker="^",
                    color=colours[depth],
                    s=60,
                )
            _bound_key(ax)
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
            ax.set(
                yscale="log",
                xlabel=f"{task}: {column.removeprefix('task.')}",
                ylabel=f"E_d in {unit}",
            )
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # sizes are integers
            ax.axhline(1, color="grey", linewidth=0.8)
            ax.set_title(
                f"{task}: depth 1 / depth d at eps = {eps[info.index[0]]:g} (^: lower bound)",
                fontsize=8,
            )
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
    colours = _palette(sorted(points["depth"].unique()))  # one per depth in every panel
    fig, axes = _grid(len(instances))
    for ax, instance in zip(axes, instances):
        part = points[points[INSTANCE] == instance]
        largest = part.groupby("depth")["budget"].transform("max") == part["budget"]
        part = part[largest].sort_values("n_train")
        for depth, line in part.groupby("depth"):
            _tuned_line(
                ax, line, "n_train", colours[depth], f"{depth} (budget {line['budget'].iloc[0]})"
            )
        info = a.instances.loc[instance]
        _references(ax, info)
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
            xscale="log",
            yscale="log",
            xlabel="training samples (n_train)",
            ylabel=metric_name(info["chance"]),
        )
        ticks = sorted(part["n_train"].unique())
        ax.set_xticks(ticks, labels=[str(t) for t in ticks])
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
        for instance, line in part.sort_values("scaled").groupby(INSTANCE, sort=False):
            label = f"{stated.loc[instance, TASK]} (P_star {stated.loc[instance, column]:g})"
            _tuned_line(ax, line, "scaled", colours[stated.loc[instance, TASK]], label)
        chance = stated.loc[part[INSTANCE].iloc[0], "chance"]
        ax.axhline(LEARNED * chance, color="grey", linestyle="-.", linewidth=1)
        ax.axvline(1, color="black", linewidth=1)
        ax.set(xscale="log", yscale="log", xlabel="n_train / P_star", ylabel=metric_name(chance))
        _title(ax, f"{model}, {depth} hidden layers")
    _legend(fig, title=None)
    return _save(fig, out, "fig8_collapse")


def efficiency_vs_eps(a: Analysis, out: Output) -> list[Path]:
    """Figure 6: E_d(eps) over a range of eps per panel (exact values as lines, lower
    and upper bounds as triangles up and down), eps decreasing to the right."""
    if a.e_curve.empty:
        return []
    fig, panels, colours = _per_panel(a.e_curve)
    for ax, panel, part in panels:
        for depth, line in part.groupby("depth"):
            colour = colours[cast(int, depth)]  # depths are ints
            exact = line[line["censor"] == ""]
            ax.plot(exact["eps"], exact["value"], marker="o", color=colour, label=str(depth))
            for mark, marker in ((">=", "^"), ("<=", "v")):
                bound = line[line["censor"] == mark]
                ax.scatter(bound["eps"], bound["value"], marker=marker, color=colour, s=40)
        _bound_key(ax, upper=True)
        ax.axhline(1, color="grey", linewidth=0.8)
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="eps (test_metric threshold)",
            ylabel="E_d(eps) = P_1 / P_d",
        )
        low, high = part["eps"].min(), part["eps"].max()
        if high > low:  # from the eps, not the points drawn: a panel may have none
            ax.set_xlim(high, low)
        else:
            ax.invert_xaxis()
        _log_ticks(ax.xaxis, part["eps"])
        _log_ticks(ax.yaxis, part["value"][part["value"] > 0])
        _title(ax, a.names.get(panel, panel))
    _legend(fig)
    return _save(fig, out, "fig6_efficiency_vs_eps")


def training_loss(a: Analysis, out: Output) -> list[Path]:
    """Figure 7: median training loss at the chosen rate against n_params per depth;
    hollow markers: cells with members that did not converge."""
    cells = a.cells.dropna(subset=["train_loss"])
    if cells.empty:
        return []
    fig, panels, colours = _per_panel(cells)
    for ax, panel, part in panels:
        for depth, line in part.sort_values("n_params").groupby("depth"):
            ax.plot(
                line["n_params"],
                np.maximum(line["train_loss"], FLOOR),
                color=colours[depth],
                marker="o",
                label=str(depth),
            )
            open_ = line[line["converged"] < line["members"]]
            ax.scatter(
                open_["n_params"],
                np.maximum(open_["train_loss"], FLOOR),
                s=90,
                facecolors="white",
                edgecolors=colours[depth],
                zorder=5,
            )
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="parameters (n_params)",
            ylabel="training loss (hollow: not converged)",
        )
        _title(ax, a.names.get(panel, panel))
    _legend(fig)
    return _save(fig, out, "fig7_training_loss")


def wall_time(df: pd.DataFrame, out: Output) -> list[Path]:
    """Figure 5: training time per model (its group's time shared among members)
    against n_params, per depth and device."""
    ok = df[df["status"] == "ok"]
    if ok.empty:
        return []
    fig, (ax,) = _grid(1, height=2.8)
    sns.scatterplot(
        data=ok.assign(**{DEPTH: ok["depth"].astype(str)}),
        x="n_params",
        y="train_time_s",
        hue=DEPTH,
        style="device",
        palette="colorblind",
        ax=ax,
        hue_order=[str(d) for d in sorted(ok["depth"].unique())],
    )
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="parameters (n_params)",
        ylabel="training time per model (s)",
    )
    _log_ticks(ax.yaxis, ok["train_time_s"][ok["train_time_s"] > 0])
    sns.move_legend(  # below the axes, as every figure's legend
        ax, "upper center", bbox_to_anchor=(0.5, -0.25), ncol=4, fontsize=6, frameon=False
    )
    return _save(fig, out, "fig5_wall_time")
