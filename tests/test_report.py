"""``depthbench report`` on real (smoke-sized) results: every figure, table and page."""

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.markers import MarkerStyle
from PIL import Image

import depthbench.report as report_module
from depthbench import analysis, cli, results
from depthbench.errors import ResultsError
from depthbench.report import build_report, figures, headline
from depthbench.report.front import build as build_front
from depthbench.report.front import macros as front_macros
from depthbench.report.tables import in_order, number
from depthbench.run import run

FIGURES = [
    "fig1_metric_vs_params",
    "fig2_efficiency_vs_size",
    "fig3_heatmap",
    "fig4_sample_complexity",
    "fig5_wall_time",
    "fig6_efficiency_vs_eps",
    "fig7_training_loss",
]
TABLES = ["efficiency", "p_d", "n_d", "scaling", "samples", "constructed", "baselines", "cells"]


@pytest.fixture(scope="module")
def store(tmp_path_factory, smoke) -> Path:
    """Two instances of product (n = 3, 4), depths 1-2, three budgets, two n_train
    values, constructions: data for every figure."""
    root = tmp_path_factory.mktemp("report")
    for n in (3, 4):
        run(
            smoke(
                root / f"n{n}",
                f"task.n={n}",
                "grid.depths=[1,2]",
                "grid.budgets=[100,300,1000]",
                "grid.n_train=[128,256]",
                "grid.lrs=[0.01]",
                "train.steps=300",
                "constructions=true",
            )
        )
    return root


@pytest.fixture(scope="module")
def report(store, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out") / "report"
    build_report([store / "n3", store / "n4"], out, pdf=True)
    return out


def test_every_figure_renders_as_png_and_pdf(report):
    page = (report / "index.md").read_text()
    for name in FIGURES:
        for suffix in ("png", "pdf"):
            assert (report / f"{name}.{suffix}").stat().st_size > 1000, name
        assert f"]({name}.png)" in page


def test_figure_pdfs_embed_truetype_fonts_not_type_3(report):
    pdfs = sorted(report.glob("fig*.pdf"))
    assert pdfs
    for pdf in pdfs:
        data = pdf.read_bytes()
        assert b"/Type3" not in data, pdf.name  # publishers' checks reject Type 3 fonts
        assert b"/FontFile2" in data, pdf.name  # an embedded TrueType font program


def test_tables_come_as_csv_markdown_and_booktabs_latex(report):
    for name in TABLES:
        numbers = pd.read_csv(report / "tables" / f"{name}.csv")
        assert len(numbers) > 0, name
        assert (report / "tables" / f"{name}.md").read_text().startswith("|")
        tex = (report / "tables" / f"{name}.tex").read_text()
        assert "\\toprule" in tex and "\\bottomrule" in tex and f"\\label{{tab:{name}}}" in tex
        body = re.sub(r"\\label\{[^}]*\}", "", tex.split("\\midrule", 1)[1])  # parts' labels
        assert "_" not in body.replace("\\_", ""), f"unescaped underscore in {name}.tex"
    efficiency = pd.read_csv(report / "tables" / "efficiency.csv")
    assert set(efficiency["depth"]) == {2} and efficiency["instance"].nunique() == 2


def test_html_links_its_figure_files_and_every_link_resolves(report):
    html = (report / "index.html").read_text()
    images = re.findall(r"<img [^>]*src=\"([^\"]+)\"", html)
    assert sorted(images) == sorted(f"{name}.png" for name in FIGURES)
    assert all((report / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for image in images)
    links = re.findall(r'href="([^"]+)"', html)
    assert links and all((report / link).is_file() for link in links)
    page = (report / "index.md").read_text()
    targets = re.findall(r"\]\(([^)]+)\)", page)
    assert all((report / t).is_file() for t in targets)


class _Reader(HTMLParser):
    """What a reader of the HTML sees: the visible text and the elements it is in."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self.skip = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.skip = tag in ("style", "code")

    def handle_endtag(self, tag):
        self.skip = False

    def handle_data(self, data):
        if not self.skip:
            self.text.append(data)


def test_the_html_is_rendered_markdown_lists_tables_and_no_literal_markers(report):
    reader = _Reader()
    reader.feed((report / "index.html").read_text())
    assert reader.tags.count("ul") >= 1 and reader.tags.count("li") >= 4  # the header list
    assert reader.tags.count("table") >= 3 and "th" in reader.tags
    assert "em" in reader.tags  # *emphasis* became emphasis
    seen = "".join(reader.text)
    for marker in ("**", "`", "](", "|---", "\n- ", "*Also"):
        assert marker not in seen, marker


def test_manifest_says_what_the_report_was_made_from(report, store):
    manifest = json.loads((report / "manifest.json").read_text())
    stored = results.load([store / "n3", store / "n4"])
    assert manifest["rows"]["total"] == len(stored)
    assert manifest["rows"]["constructed"] == 4 and manifest["git_shas"]
    assert len(manifest["instances"]) == 4  # two trained instances, two constructed tasks
    assert "tables/efficiency.tex" in manifest["files"]
    assert manifest["intervals"]["replicates"] == [2]  # two seeds a cell
    assert manifest["intervals"]["method"].startswith("order-statistic")
    assert manifest["eps"] and "declared in the experiment config" in manifest["eps_source"]


def test_same_results_give_identical_tables(report, store, tmp_path):
    again = tmp_path / "again" / report.name  # the page is titled with the report's name
    (again / "tables").mkdir(parents=True)
    stale = [again / "tables" / "gone.md", again / "fig9_gone.png", again / "fig9_gone.pdf"]
    for path in stale:  # what an earlier report left: nothing of it outlives a rebuild
        path.write_text("stale")
    build_report([store / "n3", store / "n4"], again, pdf=True)
    assert not any(path.exists() for path in stale)
    files = sorted(p.relative_to(report) for p in report.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert any(f.suffix == ".pdf" for f in files) and any(f.suffix == ".png" for f in files)
    for path in files:  # every file: tables, pages, figures, manifest, the rows kept
        assert (again / path).read_bytes() == (report / path).read_bytes(), path


def test_last_bit_differences_in_the_rows_leave_every_table_unchanged(report, store, tmp_path):
    """Another CPU or BLAS build computes the same rows to within the last bits: the
    tables (CSV, Markdown, LaTeX, numbers.tex) are written at digits that absorb it."""
    rows = results.load([store / "n3", store / "n4"])
    nudged = rows.assign(
        test_metric=rows["test_metric"] * (1 + 2.0**-50),
        val_metric=rows["val_metric"] * (1 - 2.0**-50),
    )
    results.write(nudged, tmp_path / "nudged", "all")
    build_report([tmp_path / "nudged"], tmp_path / "out", pdf=True)
    changed = [
        t.name
        for t in sorted((report / "tables").iterdir())
        if (tmp_path / "out" / "tables" / t.name).read_bytes() != t.read_bytes()
    ]
    assert changed == []


def test_only_infeasible_rows_is_a_clear_error(store, tmp_path):
    rows = results.load(store / "n3")
    rows = rows[rows["status"] == "ok"].assign(status="infeasible", test_metric=float("nan"))
    results.write(rows, tmp_path / "infeasible", "all")
    with pytest.raises(ResultsError, match="no trained .* or constructed rows"):
        build_report([tmp_path / "infeasible"], tmp_path / "out")


def test_non_positive_eps_is_refused(store, tmp_path):
    with pytest.raises(ResultsError, match="--eps"):
        build_report([store / "n3"], tmp_path / "out", eps=[0.1, 0.0])


def test_eps_at_or_above_chance_is_refused(store, tmp_path, depthbench):
    with pytest.raises(ResultsError, match=r"--eps 2 1: at or above chance for product"):
        build_report([store / "n3"], tmp_path / "out", eps=[0.1, 2.0, 1.0])  # chance: 1
    proc = depthbench("report", str(store / "n3"), "--out", "out", "--eps", "2", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_constructions_alone_make_a_report(tmp_path, smoke):
    run(smoke(tmp_path / "r", "task=sawtooth", "grid.depths=[]", "constructions=true"))
    build_report([tmp_path / "r"], tmp_path / "out")
    page = (tmp_path / "out" / "index.md").read_text()
    assert "## Constructed networks" in page and "deep_sawtooth" in page
    assert not list((tmp_path / "out").glob("fig*"))  # no trained rows: no figure


@pytest.fixture(scope="module")
def three_rates(tmp_path_factory, smoke) -> pd.DataFrame:
    """Real rows of a grid with three learning rates (to plant outcomes into)."""
    root = tmp_path_factory.mktemp("rates")
    run(smoke(root, "grid.lrs=[0.001,0.01,0.1]", "baselines=false"))
    return results.load(root)


@pytest.mark.parametrize("planted,flagged", [("middle", False), ("largest", True)])
def test_flags_appear_exactly_for_a_grid_built_to_trigger_them(
    three_rates, tmp_path, planted, flagged
):
    rows = three_rates.copy()
    best = rows["lr"] == (0.01 if planted == "middle" else 0.1)
    rows["val_metric"] = rows["val_metric"].where(~best, rows["val_metric"] / 100)
    rows["converged"] = pd.array([planted == "middle" or not b for b in best], dtype="boolean")
    results.write(rows, tmp_path / "planted", "planted")
    build_report([tmp_path / "planted"], tmp_path / "out")
    page = (tmp_path / "out" / "index.md").read_text()
    assert ("## Cells to read with care" in page) == flagged
    if flagged:
        problems = pd.read_csv(tmp_path / "out" / "tables" / "flags.csv")["problem"]
        assert len(problems) == 4 and problems.str.contains("lr at high edge").all()
        assert problems.str.contains("2/2 not converged").all()


def test_the_sawtooth_floor_sits_under_every_trained_cell_of_the_n_ap(tmp_path, smoke):
    """Telgarsky's floor reaches the cells table for the n-ap (and only there), and no
    trained network beats it: a trained error under its floor would be a bug."""
    for mode in ("points", "regression"):
        run(
            smoke(
                tmp_path / mode,
                "task=sawtooth",
                "task.k=6",
                f"task.mode={mode}",
                "model.activation=relu",
                "grid.depths=[1,2]",
                "grid.budgets=[10,30,300]",
                "train.steps=300",
            )
        )
    build_report([tmp_path / "points", tmp_path / "regression"], tmp_path / "out")
    cells = pd.read_csv(tmp_path / "out" / "tables" / "cells.csv")
    points = cells["panel"].str.contains("mode=points") & cells["width"].notna()
    assert cells["floor"][~points].isna().all() and cells["floor"][points].notna().all()
    assert (cells["floor"] > 0).any()  # the smallest nets of 64 points: (64 - 4 (2m)^l) / 192
    tested = cells[points & cells["tuned"].notna()]
    assert (tested["tuned"] >= tested["floor"]).all()
    assert "floor (theorem)" in (tmp_path / "out" / "index.md").read_text()


def test_panels_are_named_by_what_varies_and_the_rest_is_said_once(report):
    cells = (report / "tables" / "cells.md").read_text()
    assert "| n=3 n_train=128 " in cells and "| n=4 n_train=256 " in cells
    assert "activation=" not in cells and "low=" not in cells  # fixed: said in the header
    for table in (report / "tables").glob("*.md"):
        assert "<NA>" not in table.read_text() and "nan" not in table.read_text(), table.name
    page = (report / "index.md").read_text()
    assert "- in every panel: product low=-1 high=1 · mlp activation=silu residual=False" in page
    said = page.split("## Cite these numbers")[0]  # the keys there name whole panels
    assert said.count("activation=silu") == 1  # said once: not in a caption or a caution
    full = pd.read_csv(report / "tables" / "cells.csv")["panel"]  # the numbers keep full labels
    assert full.str.contains("activation=silu").all()


MACRO = re.compile(r"^\\expandafter\\def\\csname db@(.+?)\\endcsname\{(.*?)\}(?: % |$)", re.M)


def _plain(macro: str) -> str:
    """A ``numbers.tex`` value with its math marks back as the tables write them."""
    for tex, mark in (
        ("\\ensuremath{\\geq}", ">="),
        ("\\ensuremath{\\leq}", "<="),
        ("\\ensuremath{>}", ">"),
    ):
        macro = macro.replace(tex, mark)
    return macro


def _check_numbers_tex(report: Path) -> tuple[int, int]:
    """Every E_d of ``report``'s efficiency table equals its ``numbers.tex`` macro, its
    interval the ``<key> interval`` macro, and a censored one has ``<key> replicates``;
    how many values and intervals matched."""
    tex = (report / "tables" / "numbers.tex").read_text()
    macros = dict(MACRO.findall(tex))
    assert "\\providecommand{\\dbnum}" in tex
    assert len(macros) == tex.count("\\expandafter\\def")  # no key defined twice
    efficiency = (report / "tables" / "efficiency.md").read_text().splitlines()
    header = [c.strip() for c in efficiency[0].strip("|").split("|")]
    checked = intervals = 0
    for line in efficiency[2:]:
        cell = dict(zip(header, (c.strip() for c in line.strip("|").split("|"))))
        for column, text in cell.items():
            if column.startswith("E depth ") and text != "-":
                depth = column.removeprefix("E depth ")
                key = " ".join(
                    k for k in (f"E{depth}", cell.get("panel"), f"eps={cell['eps']}") if k
                )
                around = _plain(macros.get(f"{key} interval", "")).replace("(no interval)", "")
                assert text == f"{_plain(macros[key])} {around}".strip(), (column, cell)
                if text[:1] in "<>iu":  # a bound, an interval or undetermined
                    assert f"{key} replicates" in macros, (column, cell)
                checked += 1
                intervals += bool(around)
    return checked, intervals


def test_numbers_tex_holds_every_headline_number_as_its_table_prints_it(report):
    checked, _ = _check_numbers_tex(report)
    assert checked >= 4
    macros = dict(MACRO.findall((report / "tables" / "numbers.tex").read_text()))
    assert any(k.startswith("alpha1 ") for k in macros)


def test_numbers_tex_holds_the_intervals_of_a_report_over_replicates():
    checked, intervals = _check_numbers_tex(Path(__file__).parents[1] / "reports" / "quick")
    assert checked >= 4 and intervals >= 4


def test_the_front_page_reads_each_claims_numbers_from_its_report(report, tmp_path):
    root = tmp_path / "reports"
    shutil.copytree(report, root / "product")
    key = next(k for k in front_macros(root / "product") if k.startswith("E2 "))
    claim = {
        "claim": "depth helps",
        "source": "a paper",
        "tested": "noise-free regression, a fixed draw; eps above the theorem regime",
        "report": "product",
        "figure": "fig1_metric_vs_params.png",
        "numbers": {"E_2": key},
        "constructions": "holds",
        "trained": "partly",
    }
    (root / "claims.yaml").write_text(yaml.safe_dump([claim]))
    page = build_front(root).read_text()
    found = front_macros(root / "product")
    assert f"E_2 = {found[key]} {found.get(key + ' interval', '')}".strip() in page
    assert "[![product](product/fig1_metric_vs_params.png)](product/index.md)" in page
    assert "| a paper | noise-free regression, a fixed draw; eps above the theorem regime |" in page
    assert "<img" in (root / "index.html").read_text()
    del claim["tested"]
    (root / "claims.yaml").write_text(yaml.safe_dump([claim]))
    with pytest.raises(ResultsError, match="claim 1 lacks tested"):
        build_front(root)
    claim["tested"] = "noise-free regression"
    claim["numbers"] = {"E_2": "E9 nowhere"}
    (root / "claims.yaml").write_text(yaml.safe_dump([claim]))
    with pytest.raises(ResultsError, match="has no number 'E9 nowhere'"):
        build_front(root)


def test_the_front_page_prints_every_mark_as_the_tables_do(tmp_path):
    tables = tmp_path / "r" / "tables"
    tables.mkdir(parents=True)
    marks = {"a": r"\ensuremath{<}0.001", "b": r"(range \ensuremath{\leq}1 to \ensuremath{\geq}2)"}
    tables.joinpath("numbers.tex").write_text(
        "".join(
            f"\\expandafter\\def\\csname db@{k}\\endcsname{{{v}}} % a note\n"
            for k, v in marks.items()
        )
    )
    assert front_macros(tmp_path / "r") == {"a": "<0.001", "b": "(range <=1 to >=2)"}


@pytest.mark.parametrize("dtype", [object, "string", "str"])
def test_rows_are_ordered_by_the_numbers_inside_their_labels(dtype):
    frame = pd.DataFrame({"panel": ["n_train=1024", "n_train=128", "n_train=16"], "depth": 1})
    ordered = in_order(frame.astype({"panel": dtype}), "panel", "depth")
    assert ordered["panel"].tolist() == ["n_train=16", "n_train=128", "n_train=1024"]


def test_a_figure_has_one_legend_below_its_panels_depths_first():
    fig, axes = figures._grid(2)
    axes[0].plot([1, 2], [1, 2], label="baseline: linear")
    axes[0].plot([1, 2], [2, 1], label="2")
    axes[1].plot([1, 2], [1, 3], label="1")
    axes[1].plot([1, 2], [1, 3], label="2")
    figures._legend(fig)
    assert [ax.get_legend() for ax in axes] == [None, None]  # no legend over the data
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["1", "2", "baseline: linear"]
    plt.close(fig)


def test_a_narrow_log_axis_labels_1_2_5_ticks_as_plain_numbers():
    fig, (ax,) = figures._grid(1)
    eps = pd.Series([0.3, 0.1, 0.03, 0.01])
    ax.plot(eps, eps)
    ax.set(xscale="log", yscale="log")
    figures._log_ticks(ax.xaxis, eps)
    fig.canvas.draw()
    shown = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert {"0.01", "0.02", "0.05", "0.1", "0.2"} <= set(shown)
    plt.close(fig)


def test_a_one_panel_figure_has_its_legend_beside_the_panel_within_its_height():
    fig, (ax,) = figures._grid(1)
    for depth in range(1, 9):
        ax.plot([1, 2], [1, depth], label=str(depth))
    width = ax.get_position().width * fig.get_figwidth()
    figures._legend(fig)
    fig.canvas.draw()
    (legend,) = fig.legends
    box, panel = legend.get_window_extent(), ax.get_window_extent()
    assert box.x0 >= panel.x1 and box.height <= fig.bbox.height  # beside, not below
    assert ax.get_position().width * fig.get_figwidth() == pytest.approx(width, rel=0.1)
    plt.close(fig)


def test_zeros_lie_on_a_floor_below_the_positive_values_labelled_0_exact():
    y = figures.log_y([[0.0, 0.1, 0.5]])
    assert y.zero is not None and y.zero < y.low < 0.1 and y.high > 0.5
    assert y.at([0.0, 0.2]).tolist() == [y.zero, 0.2]
    fig, (ax,) = figures._grid(1)
    y.show(ax)
    labels = {t.get_text(): t.get_position()[1] for t in ax.get_yticklabels()}
    assert labels["0 (exact)"] == y.zero and ax.get_ylim()[0] < y.zero
    assert figures.log_y([[0.1, 0.5]]).zero is None  # no zero drawn: no floor
    plt.close(fig)


def test_depths_get_colours_in_order_of_lightness_so_that_depth_order_reads():
    colours = figures._palette([3, 1, 2, 4, 6, 5])
    lightness = [0.2126 * r + 0.7152 * g + 0.0722 * b for r, g, b in colours.values()]
    assert list(colours) == [1, 2, 3, 4, 5, 6]
    assert all(b - a > 0.05 for a, b in zip(lightness, lightness[1:]))


def test_every_figure_png_has_at_least_150_dpi_for_the_size_it_is_displayed_at(report):
    """The HTML page sets each figure's width in CSS px (96 an inch): its PNG holds at
    least 150 pixels per displayed inch, so it is not shown blown up."""
    page = (report / "index.html").read_text()
    shown = dict((s, int(w)) for w, s in re.findall(r'<img width="(\d+)" src="([^"]+)"', page))
    pngs = sorted(report.glob("fig*.png"))
    assert pngs and sorted(shown) == [p.name for p in pngs]
    for png in pngs:
        with Image.open(png) as image:
            assert min(image.info["dpi"]) >= 150 - 0.1, png.name
            assert image.width / (shown[png.name] / 96) >= 150 - 0.5, png.name


QUICK = Path(__file__).resolve().parents[1] / "reports" / "quick" / "rows"


@pytest.fixture(scope="module")
def quick() -> tuple[analysis.Analysis, pd.DataFrame]:
    """The analysis of the committed quick report's rows: its deep construction's error
    (1.7e-06) lies four decades below the trained curves, and E_d has upper bounds."""
    df = analysis.label(results.load([QUICK]))
    return analysis.analyze(df, None), df


def _drawn(monkeypatch, draw) -> plt.Figure:
    """The figure ``draw()`` makes, drawn but not saved."""
    kept: list[plt.Figure] = []
    monkeypatch.setattr(figures, "_save", lambda fig, out, name: kept.append(fig) or [])
    draw()
    (fig,) = kept
    fig.canvas.draw()
    return fig


def _marks(ax, marker: str) -> set[tuple[float, float]]:
    """The points of ``ax`` drawn with scatter's ``marker``."""
    style = MarkerStyle(marker)
    shape = style.get_path().transformed(style.get_transform()).vertices
    return {
        (round(x, 6), round(y, 6))
        for c in ax.collections
        if isinstance(c, PathCollection)
        and c.get_paths()
        and c.get_paths()[0].vertices.shape == shape.shape
        and np.allclose(c.get_paths()[0].vertices, shape)
        for x, y in c.get_offsets()
    }


def test_figure_1_takes_its_y_range_from_the_trained_curves_not_a_construction(
    quick, monkeypatch, tmp_path
):
    a, df = quick
    fig = _drawn(monkeypatch, lambda: figures.metric_vs_params(a, df, figures.Output(tmp_path)))
    (ax,) = fig.axes
    low, high = ax.get_ylim()
    assert 1e-3 < low <= a.curves.points["tuned_lo"].min() and high < 10
    deep = df[(df["status"] == "constructed") & (df["model"] == "deep_product")]
    (value,) = deep["test_metric"]
    assert value < low  # off the scale: marked at the edge with its value
    assert {(round(deep["n_params"].iloc[0], 6), round(low, 6))} == _marks(ax, "*")
    assert f"↓{value:.2g}" in {t.get_text() for t in ax.texts}
    plt.close(fig)


def test_figure_6_draws_upper_bounds_and_bands_and_no_undetermined_value(
    quick, monkeypatch, tmp_path
):
    a, _ = quick
    fig = _drawn(monkeypatch, lambda: figures.efficiency_vs_eps(a, figures.Output(tmp_path)))
    (ax,) = fig.axes
    curve = a.e_curve
    for mark, marker in figures.BOUNDS.items():
        bound = curve[curve["censor"] == mark]
        assert _marks(ax, marker) == {
            (round(e, 6), round(v, 6)) for e, v in zip(bound["eps"], bound["value"])
        }
    assert len(curve[curve["censor"] == "<="]) > 0
    shown = [y for line in ax.get_lines() for y in line.get_ydata() if np.isfinite(y)]
    assert set(shown) - {1.0} <= set(curve["value"][curve["censor"] == ""])
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == curve["depth"].nunique()
    plt.close(fig)


def test_nothing_drawn_in_a_figure_reaches_past_its_edges(quick, monkeypatch, tmp_path):
    """Figure 5's legend and figure 7's y label ran off the figure."""
    a, df = quick
    out = figures.Output(tmp_path)
    for draw in (
        lambda: figures.metric_vs_params(a, df, out),
        lambda: figures.wall_time(df, out),
        lambda: figures.efficiency_vs_eps(a, out),
        lambda: figures.training_loss(a, out),
    ):
        fig = _drawn(monkeypatch, draw)
        drawn = fig.get_tightbbox(fig.canvas.get_renderer())  # labels, legends, texts
        edge = fig.bbox_inches.padded(0.01)
        assert edge.x0 <= drawn.x0 and drawn.x1 <= edge.x1
        assert edge.y0 <= drawn.y0 and drawn.y1 <= edge.y1
        plt.close(fig)


def test_heat_map_notes_shrink_to_fit_their_cells_within_4_to_7_pt():
    notes = pd.DataFrame([["0.000891\nw=166", "8.43e-05\nw=51"]])
    assert figures._fitting(200.0, notes) == 7.0  # room to spare: the usual size
    narrow = figures._fitting(32.0, notes)
    assert 4.0 <= narrow < 7.0 and 8 * 0.6 * narrow <= 32.0  # eight digits fit the cell
    assert figures._fitting(5.0, notes) == 4.0  # never unreadably small


BEST = re.compile(  # a best<d> entry (not its interval): value, budget and panel
    r"db@best(\d+)[^\\]*?(?<! interval)(?<! coverage)\\endcsname"
    r"\{(.*?)\} % .*budget (\d+)\); panel (.+)$",
    re.M,
)


@pytest.mark.parametrize("where", ["built here", "broadcast_bayes"])
def test_best_per_depth_is_the_test_metric_at_the_budget_chosen_on_validation(report, where):
    """broadcast_bayes is a committed report where the budget with the lowest test
    metric is not the one with the lowest validation metric (silent channel, depth 4)."""
    if where != "built here":
        report = Path(__file__).resolve().parents[1] / "reports" / where
    cells = pd.read_csv(report / "tables" / "cells.csv").dropna(subset=["val", "tuned"])
    found = BEST.findall((report / "tables" / "numbers.tex").read_text())
    for depth, value, budget, panel in found:
        cell = cells[(cells["panel"] == panel) & (cells["depth"] == int(depth))]
        chosen = cell.sort_values(["val", "budget"]).iloc[0]
        assert (int(budget), value) == (chosen["budget"], number(chosen["tuned"])), panel
    assert len(found) >= 4


def test_a_report_rebuilt_from_other_rows_of_the_same_ids_keeps_the_rows_it_read(store, tmp_path):
    """Issue 27: rows of the same run_ids with other numbers (a re-run under another
    protocol) replace the report's kept rows; its tables and rows never disagree."""
    rows = results.load(store / "n3")
    other = rows.assign(test_metric=rows["test_metric"] * 2)
    results.write(other, tmp_path / "other", "all")
    out = tmp_path / "out"
    build_report([store / "n3"], out)
    build_report([tmp_path / "other"], out)
    kept = results.load(out / "rows").sort_values("run_id", ignore_index=True)
    expected = other.sort_values("run_id", ignore_index=True)
    pd.testing.assert_series_equal(kept["test_metric"], expected["test_metric"])
    build_report([out / "rows"], out)  # rebuilt from its own rows: they stay
    assert len(results.files(out / "rows")) == 1


def test_a_rebuild_stopped_midway_leaves_the_earlier_report_whole(
    store, tmp_path, monkeypatch, tree_digest
):
    """Issue 27: a rebuild killed or interrupted after it began writing left index.md
    pointing at figures and tables it had deleted."""
    out = tmp_path / "out"
    build_report([store / "n3"], out)
    (out / "notes.txt").write_text("mine")  # not the report's: carried over
    (out / "figure_notes.txt").write_text("mine too")  # a name a report's files start with
    before = tree_digest(out)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(report_module.numbers, "tex", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_report([store / "n4"], out)
    assert tree_digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no build left beside it
    monkeypatch.undo()
    build_report([store / "n4"], out)
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "figure_notes.txt").read_text() == "mine too"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    linked = re.findall(r"\]\(([^)]+\.(?:png|csv|md|tex))\)", (out / "index.md").read_text())
    assert linked and all((out / name).is_file() for name in linked)


def test_ctrl_c_during_report_says_one_line_and_exits_130(store, tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("depthbench.report.build_report", interrupted)
    status = cli.main(["report", str(store / "n3"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 130
    assert err.strip().splitlines() == [
        f"interrupted: nothing written; the report in {tmp_path / 'out'} is as it was"
    ]


def test_stable_keys_are_the_same_with_or_without_other_panels():
    """Issue 28: a one-panel report drops the panel from its short keys, so a paper's
    key changed when a sweep gained a panel; its stable key does not change."""
    from depthbench.report import numbers

    rows = results.load([QUICK])
    alone = analysis.label(rows)
    both = analysis.label(pd.concat([rows, rows.assign(**{"task.n": 7})], ignore_index=True))
    keys_alone = numbers.keyed(analysis.analyze(alone, None), alone)
    keys_both = numbers.keyed(analysis.analyze(both, None), both)
    assert "E2 eps=0.3" in {k for k, *_ in keys_alone}
    assert "E2 eps=0.3" not in {k for k, *_ in keys_both}  # the short key gains n=6
    assert {s for _, s, *_ in keys_alone} <= {s for _, s, *_ in keys_both}
    assert any(s.startswith("E2 product n=6 ") for _, s, *_ in keys_alone)


def test_the_headline_states_each_declared_eps_and_the_cells_to_distrust(tmp_path):
    """Issue 28: the report's first lines give E_d per declared eps with its spread and
    replicates, or why there is none, and count the cells to read with care; `report`
    prints the same lines."""
    page = report_module.build_report([QUICK], tmp_path / "quick")
    said = report_module.headline_of(page)
    df = analysis.label(results.load([QUICK]))
    a = analysis.analyze(df, None)
    assert said == headline.lines(a)
    assert page.read_text().startswith("# quick: depthbench report\n\n## Headline\n")
    e2 = a.e[(a.e["depth"] == 2) & (a.e["eps"] == 0.3)].iloc[0]
    assert said[0].startswith(f"at eps 0.3: depth 2 needs {e2['value']:.3g}x fewer parameters")
    assert f"{e2['paired']} replicates" in said[0]
    unread = a.e[(a.e["eps"] == 0.03) & ~a.e["bracketed"]]
    assert len(unread) == 3 and "no verdict for depth 2, 3, 4" in said[2]
    flagged = (a.cells["converged"] < a.cells["members"]).sum()
    assert said[-1].startswith(f"Trust: {flagged} of {len(a.cells)} trained cells not converged")
    printed = subprocess.run(
        ["depthbench", "report", str(QUICK), "--out", str(tmp_path / "again")],
        capture_output=True,
        text=True,
    ).stdout
    assert printed.splitlines()[: len(said)] == said


def test_rows_of_two_protocols_are_two_panels_never_pooled_replicates(smoke, tmp_path):
    """Issue 28: two runs of one grid into one store, one with train.steps=120, made
    one cell per depth and budget with 4 members, called a range over 2 replicates."""
    from depthbench.run import run

    store = tmp_path / "rows"
    run(smoke(store, "grid.depths=[1]", "grid.budgets=[100]", "train.steps=60"))
    run(smoke(store, "grid.depths=[1]", "grid.budgets=[100]", "train.steps=120"))
    df = results.load([store])
    assert analysis.protocol_split(df) == ["steps"]
    with pytest.warns(UserWarning, match=r"differ in how they were trained \(steps\)"):
        labelled = analysis.label(df)
    cells = analysis.analyze(labelled, None).cells
    assert len(cells) == 2 and (cells["members"] == cells["members"].iloc[0]).all()
    names, _ = analysis.short_names(labelled)
    assert sorted(names[p] for p in cells["panel"]) == ["steps=120", "steps=60"]
    one = results.load([store]).query("steps == 60")
    assert analysis.protocol_split(one) == []


def test_the_header_says_what_is_tested_labels_data_replicates_and_regime(tmp_path, smoke):
    """A fixed training set and an online one are told apart, the declared regime is
    repeated, and an undeclared one is said to be missing."""
    regime = "eps far above the theorem regime: a quadratic reaches every eps"
    for name, grid, declared in (
        ("fixed", "grid.n_train=[128]", f"report.regime='{regime}'"),
        ("online", "grid.n_train=[online]", "report.regime=null"),
    ):
        store = tmp_path / name
        run(smoke(store, "grid.depths=[1]", "grid.budgets=[100]", "grid.seeds=2", grid, declared))
        build_report([store], tmp_path / f"{name}-report")
    fixed = (tmp_path / "fixed-report" / "index.md").read_text().split("## What is tested")[1]
    fixed = fixed.split("## ")[0]
    assert "- labels: product regression, noise-free: y is a function of x" in fixed
    assert "- data: fixed training sets of 128 samples, one draw per data seed" in fixed
    assert "- replicates vary: 2 model seeds on one data draw and one task instance" in fixed
    assert f"- regime: {regime}" in fixed
    online = (tmp_path / "online-report" / "index.md").read_text()
    assert "- data: online (a fresh batch of" in online and "fixed training" not in online
    assert "- regime: not declared (`report.regime`)" in online


def test_weight_shared_depths_are_compared_again_at_matched_forward_flops(tmp_path, smoke):
    """A pooled CNN spends more FLOPs per parameter the shallower it is not: its F_d is
    not 2 P_d, so the report adds F_d and E_d at matched FLOPs; dense rows say why not."""
    store = tmp_path / "cnn"
    overrides = ["task=rhm", "grid.depths=[1,3]", "grid.budgets=[1000,3000,10000]"]
    run(smoke(store, *overrides, "model=cnn_pool", "grid.n_train=[256]", "train.steps=60"))
    out = tmp_path / "report"
    build_report([store], out)
    text = (out / "index.md").read_text().split("## Matched compute: forward FLOPs per sample")[1]
    assert "| F depth 1 " in text and "| E depth 3 " in text.split("## ")[0]
    p = pd.read_csv(out / "tables" / "p_d.csv").set_index(["depth", "eps"])
    f = pd.read_csv(out / "tables" / "f_d.csv").set_index(["depth", "eps"])
    assert (f["value"] > 2 * p.loc[f.index, "value"]).any()
    rows = results.load([store])
    shared = rows[rows["status"] == "ok"]
    assert (shared["forward_flops"] > 2 * shared["n_params"]).all()


def test_a_dense_report_says_its_tables_hold_at_matched_flops(report):
    text = (report / "index.md").read_text().split("## Matched compute")[1].split("## ")[0]
    assert "No panel here has a net that shares weights or pools (forward FLOPs = 2" in text
    assert not (report / "tables" / "f_d.csv").exists()


def test_the_headline_gives_each_nets_sample_complexity_where_n_train_varies(store):
    """A sample-complexity experiment's claim is the n_train each net needs: the headline
    says it per instance and depth, as the samples table prints it."""
    a = analysis.analyze(analysis.label(results.load([store / "n3"])), None)
    said = [line for line in headline.lines(a) if line.startswith("n_train to reach 10%")]
    assert len(said) == a.samples[analysis.INSTANCE].nunique() == 1
    for depth, budget, flops in a.samples[["depth", "budget", "forward_flops"]].itertuples(
        index=False
    ):
        assert f"depth {depth} at {number(budget)} parameters ({number(flops)} FLOPs" in said[0]
        assert flops == 2 * a.cells.query("depth == @depth & budget == @budget")["n_params"].iloc[0]
