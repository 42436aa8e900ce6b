"""LaTeX tables a paper can ``\\input``: the panel said once above its rows, wide tables
cut into parts that repeat the row names, and, measured with a TeX engine where one is
installed, every committed table compiles and fits a 345 pt text width."""

import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from depthbench.report.latex import GAP, TEXT_WIDTH, latex, parts, tex, text_width
from depthbench.report.tables import interval

REPORTS = Path(__file__).resolve().parents[1] / "reports"
WITH_TABLES = sorted(p.parent.parent.name for p in REPORTS.glob("*/tables/numbers.tex"))
OVERFULL = re.compile(r"^Overfull \\hbox \(([\d.]+)pt too wide\)", re.M)


def compile_page(pdflatex: str, text: str, tmp: Path) -> tuple[int, str]:
    """``text`` compiled as ``tmp/doc.tex``: pdflatex's exit status and log."""
    (tmp / "doc.tex").write_text(text)
    proc = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=tmp,
        capture_output=True,
        text=True,
    )
    return proc.returncode, (tmp / "doc.log").read_text(errors="replace")


def overflow(pdflatex: str, numbers: Path | None, tables: list[Path], tmp: Path) -> dict:
    """Compile ``tables`` (and ``numbers``) in LaTeX's article class, whose text is
    345 pt wide, one table a page, in a fresh folder (longtable keeps widths in the
    .aux); per table, how many pt its widest line sticks out (0.0 where it fits)."""
    body = "".join(f"\\typeout{{DBTABLE {t.stem}}}\\input{{{t}}}\\clearpage\n" for t in tables)
    preamble = f"\\input{{{numbers}}}\n" if numbers else ""
    status, log = compile_page(
        pdflatex,
        "\\documentclass{article}\\usepackage{booktabs,longtable}\n"
        f"{preamble}\\begin{{document}}\n{body}\\end{{document}}\n",
        tmp,
    )
    assert status == 0, log[-3000:]
    widest: dict[str, float] = {}
    for chunk in log.split("DBTABLE ")[1:]:
        name = chunk.split(maxsplit=1)[0]
        widest[name] = max((float(x) for x in OVERFULL.findall(chunk)), default=0.0)
    return widest


def _wide(rows: int = 3, columns: int = 12) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            f"metric {j}": [f"0.0{j}{i}4 (range 0.0{j}1-0.0{j}9)" for i in range(rows)]
            for j in range(columns)
        }
    )
    frame.insert(0, "depth", [str(d + 1) for d in range(rows)])
    frame.insert(0, "panel", ["n=4"] * (rows - 1) + ["n=16"])
    return frame


def test_a_panel_is_said_once_above_its_rows_not_on_each():
    text = latex(_wide(columns=2), "caption", "cells")
    assert text.count(r"\emph{n=4}") == 1 and text.count(r"\emph{n=16}") == 1
    assert "panel" not in text
    assert text.count(r"\addlinespace") == 1  # between the two panels


def test_a_wide_table_is_cut_into_parts_that_each_repeat_the_row_names():
    table = _wide().drop(columns="panel")
    cut = parts(table)
    assert len(cut) > 1
    assert all(part[0] == "depth" for part in cut)
    others = [c for part in cut for c in part if c != "depth"]
    assert others == [c for c in table.columns if c != "depth"]  # each once, in order
    for part in cut:
        planned = sum(max(map(text_width, [c, *table[c]])) + GAP for c in part)
        assert planned <= TEXT_WIDTH
    text = latex(table, "caption", "cells")
    assert r"\label{tab:cells}" in text and rf"\label{{tab:cells-{len(cut)}}}" in text
    assert f"(part {len(cut)} of {len(cut)})" in text


def test_a_text_column_too_wide_for_any_part_wraps_in_a_paragraph_column():
    table = pd.DataFrame({"depth": ["1"], "problem": ["lr at high edge " * 8]})
    text = latex(table, "c", "flags")  # a longtable: wrapped rows may outgrow a page
    assert re.search(r"\\begin\{longtable\}\{rp\{\d+pt\}\}", text)


def test_a_panel_line_too_wide_for_the_text_wraps():
    table = pd.DataFrame({"panel": ["rhm v=16 m=3 s=2 L=3 n_c=8 " * 4], "depth": ["1"]})
    assert r"\multicolumn{1}{@{}p{336pt}}" in latex(table, "c", "cells")


def test_the_width_check_sees_a_table_wider_than_the_text(tool, tmp_path):
    pdflatex = tool("pdflatex")
    spec = "r" * 20
    row = " & ".join(["0.123456"] * 20) + r" \\"
    (tmp_path / "wide.tex").write_text(f"\\begin{{tabular}}{{{spec}}}\n{row}\n\\end{{tabular}}\n")
    cut = tmp_path / "cut.tex"
    cut.write_text(latex(_wide(rows=40).drop(columns="panel"), "caption", "cut"))
    widths = overflow(pdflatex, None, [tmp_path / "wide.tex", cut], tmp_path)
    assert widths["wide"] > 100  # 20 columns of 8 digits: about 550 pt against 345 pt
    assert widths["cut"] == 0.0


@pytest.mark.parametrize("name", WITH_TABLES)
def test_every_table_of_a_committed_report_compiles_and_fits_the_text_width(name, tool, tmp_path):
    pdflatex = tool("pdflatex")
    folder = REPORTS / name / "tables"
    tables = sorted(t for t in folder.glob("*.tex") if t.name != "numbers.tex")
    widths = overflow(pdflatex, folder / "numbers.tex", tables, tmp_path)
    assert sorted(widths) == [t.stem for t in tables]
    assert {t: w for t, w in widths.items() if w > 0} == {}


def test_cells_are_escaped_so_they_print_as_written():
    assert tex("[0.03, 0.052]").startswith("{[}") and tex("*b") == "{*}b"
    assert "--" not in tex("a--b---c") and tex("<= 3") == r"$\leq$ 3"
    assert interval(-0.47, -0.24, 0.75) == "(range -0.47 to -0.24)"
    assert interval(0.03, 0.052, 0.75) == "(range 0.03-0.052)"


def test_awkward_cells_compile(tool, tmp_path):
    pdflatex = tool("pdflatex")
    cells = ["[0.03, 0.052]", "*b", "a--b", "x|y", "n · m", "ε", "#&%$~^\\_{}", '"q"']
    table = pd.DataFrame({"panel": ["n=1"] * len(cells), "x": cells, "y": cells[::-1]})
    (tmp_path / "t.tex").write_text(latex(table, "awkward: 50% & more", "t"))
    assert overflow(pdflatex, None, [tmp_path / "t.tex"], tmp_path) == {"t": 0.0}


def _cite(pdflatex: str, numbers: Path, body: str, tmp: Path) -> tuple[int, str]:
    """Compile a page that ``\\input``s ``numbers`` and sets ``body``: (status, log)."""
    text = f"\\documentclass{{article}}\\input{{{numbers}}}\n\\begin{{document}}\n{body}\n"
    return compile_page(pdflatex, text + "\\end{document}\n", tmp)


def test_a_paper_cites_a_number_by_short_or_stable_key_and_an_unknown_key_stops_latex(
    tool, tmp_path
):
    """Issue 28: ``\\dbnum`` of a key the file lacks printed nothing, silently."""
    pdflatex = tool("pdflatex")
    numbers = REPORTS / "quick" / "tables" / "numbers.tex"
    stable = next(
        line.split("db@", 1)[1].split("\\endcsname", 1)[0]
        for line in numbers.read_text().splitlines()
        if "db@E2 product n=6" in line
    )
    status, log = _cite(pdflatex, numbers, f"\\dbnum{{E2 eps=0.3}} \\dbnum{{{stable}}}", tmp_path)
    assert status == 0, log[-2000:]
    status, log = _cite(pdflatex, numbers, "\\dbnum{E2 n=6 eps=0.01}", tmp_path)
    assert status != 0 and "no number `E2 n=6 eps=0.01' in numbers.tex" in log
