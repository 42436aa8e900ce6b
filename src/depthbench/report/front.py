"""The front page over every committed report (``reports/index.md`` and ``.html``): one
row per claim with its verdicts, its headline numbers, a thumbnail of its key figure
and a link to its report.

The claims and verdicts are a person's judgement, kept in ``reports/claims.yaml``;
every number on the page is read from the named report's ``tables/numbers.tex`` by
its key, so the page stays true when the reports are regenerated.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from depthbench.errors import ResultsError
from depthbench.report.numbers import MARKS
from depthbench.report.page import html_page

CLAIMS = "claims.yaml"
TITLE = "depthbench: what the literature experiments find"
MACRO = re.compile(r"^\\expandafter\\def\\csname db@(.+?)\\endcsname\{(.*?)\}(?: % |$)", re.M)
FIELDS = (
    "claim",
    "source",
    "tested",
    "report",
    "figure",
    "numbers",
    "constructions",
    "trained",
)


def macros(report: Path) -> dict[str, str]:
    """Key -> value of a report's ``tables/numbers.tex``, values as the tables print
    them (``>= 33.8``, ``(range 5 to >=16.7)``)."""
    path = report / "tables" / "numbers.tex"
    if not path.is_file():
        raise ResultsError(f"{path} is missing: rebuild the report (reports/regenerate.sh)")
    return {key: _plain(value) for key, value in MACRO.findall(path.read_text())}


def _plain(value: str) -> str:
    """A numbers.tex value with its marks (:data:`~depthbench.report.numbers.MARKS`)
    as the tables print them."""
    for mark, tex in MARKS.items():
        value = value.replace(tex, mark)
    return value


def _claims(root: Path) -> list[dict[str, Any]]:
    path = root / CLAIMS
    if not path.is_file():
        raise ResultsError(
            f"{root} has no {CLAIMS}: the front page is built from a list of claims, "
            "each with claim, source, tested, report, figure, constructions, trained and "
            "numbers "
            "(docs/results.md, 'The front page'; reports/claims.yaml is the example)"
        )
    claims = yaml.safe_load(path.read_text())
    if not isinstance(claims, list):
        raise ResultsError(f"{path}: must be a list of claims")
    for i, claim in enumerate(claims):
        missing = [f for f in FIELDS if f not in claim]
        if missing:
            raise ResultsError(f"{path}: claim {i + 1} lacks {', '.join(missing)}")
    return claims


def _row(root: Path, claim: dict[str, Any]) -> str:
    report = root / claim["report"]
    found = macros(report)
    said = []
    for label, key in claim["numbers"].items():
        if key not in found:
            raise ResultsError(
                f"{root / CLAIMS}: {claim['report']} has no number {key!r} in "
                "tables/numbers.tex (keys are listed there)"
            )
        value = found[key]
        around = found.get(f"{key} interval", "")  # as the tables print it
        shown = f"{label} {value}" if value[:1] in "<>i" else f"{label} = {value}"
        said.append(f"{shown} {around}".strip())
    figure = f"{claim['report']}/{claim['figure']}"
    if not (root / figure).is_file():
        raise ResultsError(f"{root / CLAIMS}: figure {figure} does not exist")
    link = f"{claim['report']}/index.md"
    cells = [
        claim["claim"],
        claim["source"],
        claim["tested"],
        claim["constructions"],
        claim["trained"],
        "<br>".join(said),
        f"[![{claim['report']}]({figure})]({link})",
        f"[{claim['report']}]({link})",
    ]
    return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"


def text(root: Path) -> str:
    """The front page's Markdown, from ``root/claims.yaml`` and the reports under ``root``."""
    claims = _claims(root)
    lines = [
        f"# {TITLE}",
        "",
        "One row per claim. *What is tested*: the labels (noise-free or not), the data "
        "(online or a fixed draw) and where the declared eps sit against the regime the "
        "theorem speaks of, as each report's header says it. *Constructions*: what a "
        "network of the theorem's size does (the representational claim the papers "
        "make); *trained*: what an optimiser "
        "finds, judged by the verdict rubric in the README. Numbers are read from each "
        "report's `tables/numbers.tex` when this page is rebuilt "
        "(`bash reports/regenerate.sh`), each with its interval where it has one: "
        "[lo, hi] a 95% order-statistic interval for the median over replicates, "
        "(range lo-hi) the range over too few replicates for one (its coverage is in "
        "the report), an end marked >, >= or <= left open by a censored replicate; "
        "`>=`, `>`, `<=` mark a bound, `in [a, b]` where the replicates place a median; "
        "R_d is depth 1's error over depth d's, averaged over the budgets both cover; "
        "the thumbnail links to the report.",
        "",
        "| claim | source | what is tested | constructions | trained | headline numbers "
        "| key figure | report |",
        "|:---|:---|:---|:---|:---|:---|:---|:---|",
        *[_row(root, c) for c in claims],
        "",
    ]
    return "\n".join(lines)


def build(root: Path) -> Path:
    """Write ``root/index.md`` and ``root/index.html`` (:func:`text`); the path of the
    Markdown page."""
    markdown = text(root)
    page = root / "index.md"
    page.write_text(markdown)
    style = "td img{width:220px;max-width:none}td:nth-child(6){min-width:15em}"  # numbers
    html = html_page(markdown, TITLE, style)
    (root / "index.html").write_text(html)
    return page
