"""Report tables as LaTeX a paper can ``\\input``: booktabs rules, footnote size, math
headers (``$E_{2}$``), the panel said once above its rows instead of on every row, and
no table wider than a page's text.

The width is planned from the widths of each cell's characters in the font the
tables are set in (:data:`CMR8`); a table wider than :data:`TEXT_WIDTH` is cut into
parts by columns, each part repeating the columns that name a row (:data:`KEYS`); a
text column too wide even alone wraps in a paragraph column, and so does a panel's
line too wide for the text. Whether the plan holds is measured with a TeX engine by
``tests/test_latex.py``."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

TEXT_WIDTH = 345.0  # pt: \textwidth of LaTeX's article class at 10 pt
PLANNED = TEXT_WIDTH - 3.0  # pt: the width planned, leaving room for what the plan
# does not see (kerning, rounding a paragraph column's width)
# pt: widths of Computer Modern at 8 pt (cmr8.tfm), \footnotesize in a 10 pt article;
# a character not listed is planned at the widest lower-case width but m's and w's.
_CMR8_BY_WIDTH = {
    2.36: "il.,[]:;!'",
    2.6: "fj",
    2.83: " -",  # the space: interword glue at its natural width
    3.31: "rt()",
    3.35: "s",
    3.78: "cez",
    4.25: "0123456789ago/*",
    4.49: "kqvxy",
    4.72: "bdhnpuS_",
    6.14: "w",
    6.61: "=<>+&@",  # the relations are set in math
    6.67: "ABCDEFGHIJKLNOPQRTUVXYZ",
    7.08: "m#%",
    7.78: "M",
    8.73: "W",
}
CMR8 = {ch: width for width, chars in _CMR8_BY_WIDTH.items() for ch in chars}
OTHER = 4.72
GAP = 6.0  # pt: the space between two columns, 2 \tabcolsep
LONG = 30  # rows from which a table is a longtable, broken across pages
GROUPS = ("panel", "task", "instance")  # a first column of these names is said once
KEYS = ("eps", "n_train", "depth", "budget", "baseline", "construction")  # name a row

TEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"$<$",
    ">": r"$>$",
    "|": r"$|$",
    '"': "''",  # OT1 has no straight double quote
    "·": r"$\cdot$",
    "ε": r"$\varepsilon$",
    "–": "--",
}
DEPTH_COLUMN = re.compile(r"^([EPN]) depth (\d+)$")
NUMERIC = re.compile(r"^(-|[<>]=? ?-?[\d.]|-?[\d.])")


def tex(text: object) -> str:
    """``text`` safe in LaTeX text mode: ``<=``/``>=`` become math relations, ``--``
    stays two hyphens (not an en dash), and a leading ``[`` or ``*`` is braced so
    that the ``\\`` ending the row before does not read it as its argument."""
    out = re.sub("-(?=-)", "-{}", "".join(TEX.get(ch, ch) for ch in str(text)))
    out = out.replace("$<$=", r"$\leq$").replace("$>$=", r"$\geq$")
    return "{" + out[0] + "}" + out[1:] if out[:1] in ("[", "*") else out


def _header_lines(name: str, chars: int) -> list[str]:
    """A column name broken at spaces into lines of at most ``chars`` characters (a
    word longer than that keeps its own line)."""
    lines: list[str] = []
    for word in name.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def header(name: str, chars: int) -> str:
    """A column name in LaTeX: ``E depth 2`` -> ``$E_{2}$``, ``eps`` -> ``$\\varepsilon$``,
    other names as text stacked in lines no wider than the column's ``chars``."""
    found = DEPTH_COLUMN.match(name)
    if found:
        return f"${found[1]}_{{{found[2]}}}$"
    if name == "eps":
        return r"$\varepsilon$"
    lines = _header_lines(name, chars)
    if len(lines) == 1:
        return tex(name)
    return r"\begin{tabular}[b]{@{}c@{}}" + r"\\".join(map(tex, lines)) + r"\end{tabular}"


def _chars(column: pd.Series) -> int:
    """The widest cell of ``column``, in characters."""
    return int(column.astype(str).str.len().max()) if len(column) else 1


def text_width(text: str) -> float:
    """Width in pt of ``text`` set in :data:`CMR8` (no kerning: an upper bound)."""
    return sum(CMR8.get(ch, OTHER) for ch in text)


def _width(name: str, column: pd.Series) -> float:
    """Planned width in pt of ``column`` with its header, the gap included."""
    cells = max(map(text_width, column.astype(str)), default=0.0)
    if DEPTH_COLUMN.match(name) or name == "eps":
        head = 2 * OTHER  # $E_{2}$, $\varepsilon$
    else:
        head = max(map(text_width, _header_lines(name, _chars(column))))
    return max(cells, head) + GAP


def parts(table: pd.DataFrame, width: float = PLANNED) -> list[list[str]]:
    """The columns of ``table`` cut into parts that each fit ``width``: every part
    holds the row-naming :data:`KEYS` columns and as many others, in order, as fit."""
    keys = [c for c in table.columns if c in KEYS]
    room = width - sum(_width(c, table[c]) for c in keys)
    out: list[list[str]] = [[]]
    used = 0.0
    for column in (c for c in table.columns if c not in keys):
        need = _width(column, table[column])
        if out[-1] and used + need > room:
            out.append([])
            used = 0.0
        out[-1].append(column)
        used += need
    return [[c for c in table.columns if c in keys or c in part] for part in out]


def _spec(table: pd.DataFrame, width: float) -> str:
    """Column alignments: numbers right, text left, and a text column wider than the
    room the others leave wraps in a paragraph column of that room."""
    widths = {c: _width(c, table[c]) for c in table.columns}
    spec = []
    for column in table.columns:
        room = width - (sum(widths.values()) - widths[column])
        if widths[column] > room and room > 12 * OTHER:
            spec.append(f"p{{{room - GAP:.0f}pt}}")
        elif table[column].astype(str).str.match(NUMERIC).all():
            spec.append("r")
        else:
            spec.append("l")
    return "".join(spec)


def _tabular(table: pd.DataFrame, groups: Sequence[object] | None, caption: str, label: str) -> str:
    """One booktabs table of ``table`` (cells already text); ``groups``: per row, the
    label said once above the rows it names."""
    heads = " & ".join(header(str(c), _chars(table[c])) for c in table.columns) + r" \\"
    rows: list[str] = []
    last: object = None
    for i, cells in enumerate(table.itertuples(index=False)):
        if groups is not None and (i == 0 or groups[i] != last):
            last = groups[i]
            lead = "\\addlinespace\n" if i else ""
            wide = text_width(str(last)) > PLANNED - GAP
            kind = f"p{{{PLANNED - GAP:.0f}pt}}" if wide else "l"
            span = f"\\multicolumn{{{table.shape[1]}}}{{@{{}}{kind}}}"
            rows.append(f"{lead}{span}{{\\emph{{{tex(last)}}}}} \\\\")
        rows.append(" & ".join(tex(c) for c in cells) + r" \\")
    spec = _spec(table, PLANNED)
    small = "\\footnotesize\n\\setlength{\\tabcolsep}{3pt}\n"
    if len(rows) >= LONG or "p{" in spec:  # wrapped lines: rows no longer count lines
        more = f"\\midrule\n\\multicolumn{{{table.shape[1]}}}{{r}}{{Continued on next page}} \\\\\n"
        return (
            f"{{{small}\\begin{{longtable}}{{{spec}}}\n"
            f"\\caption{{{tex(caption)}}} \\label{{{label}}} \\\\\n"
            f"\\toprule\n{heads}\n\\midrule\n\\endfirsthead\n"
            f"\\caption[]{{{tex(caption)}}} \\\\\n\\toprule\n{heads}\n\\midrule\n\\endhead\n"
            f"{more}\\endfoot\n\\bottomrule\n\\endlastfoot\n"
            + "\n".join(rows)
            + "\n\\end{longtable}\n}\n"
        )
    return (
        f"\\begin{{table}}[htbp]\n\\centering\n{small}"
        f"\\caption{{{tex(caption)}}}\n\\label{{{label}}}\n"
        f"\\begin{{tabular}}{{{spec}}}\n\\toprule\n{heads}\n\\midrule\n"
        + "\n".join(rows)
        + "\n\\bottomrule\n\\end{tabular}\n\\end{table}\n"
    )


def latex(table: pd.DataFrame, caption: str, label: str) -> str:
    """``table`` (cells already text) as LaTeX: a first ``panel``/``task``/``instance``
    column becomes a line above its rows; a table wider than :data:`TEXT_WIDTH` is
    cut by :func:`parts` into tables labelled ``tab:<label>``, ``tab:<label>-2``, ...
    whose captions say which part they are."""
    groups = None
    if len(table.columns) > 1 and table.columns[0] in GROUPS:
        groups = table.iloc[:, 0].tolist()
        table = table.iloc[:, 1:]
    cut = parts(table)
    out = []
    for i, columns in enumerate(cut, start=1):
        part = f" (part {i} of {len(cut)})" if len(cut) > 1 else ""
        name = f"tab:{label}" + (f"-{i}" if i > 1 else "")
        out.append(_tabular(table[columns], groups, caption + part, name))
    return "\n".join(out)
