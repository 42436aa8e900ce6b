"""The report page as a list of blocks, rendered to ``index.md`` and to a
self-contained ``index.html`` (figures embedded as data URIs, tables as HTML)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Text:
    text: str  # Markdown inline syntax: only `code` is rendered in HTML


@dataclass(frozen=True)
class Table:
    frame: pd.DataFrame
    markdown: str
    files: str  # where the CSV / Markdown / LaTeX versions lie, relative to the page


@dataclass(frozen=True)
class Figure:
    path: Path  # PNG beside the page
    caption: str
    pdf: bool = False  # a PDF of the same name lies beside it


Block = Heading | Text | Table | Figure


def markdown(blocks: list[Block]) -> str:
    lines: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            lines += ["#" * b.level + " " + b.text, ""]
        elif isinstance(b, Text):
            lines += [b.text, ""]
        elif isinstance(b, Table):
            lines += [b.markdown, "", f"*Also as {b.files}.*", ""]
        else:
            pdf = f" ([PDF]({b.path.with_suffix('.pdf').name}))" if b.pdf else ""
            lines += [f"![{b.caption}]({b.path.name})", "", f"*{b.caption}*{pdf}", ""]
    return "\n".join(lines)


def _inline(text: str) -> str:
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:75em;margin:2em auto;padding:0 1em;"
    "color:#222}\ntable{border-collapse:collapse;font-size:.85em;margin:.5em 0}"
    "th,td{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:right}\n"
    "th{border-bottom:2px solid #444}td:first-child,th:first-child{text-align:left}"
    "img{max-width:100%}\nfigcaption{font-size:.85em;color:#555}"
    "code{background:#f4f4f4;padding:0 .2em}"
)


def html_page(blocks: list[Block], title: str) -> str:
    body: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            body.append(f"<h{b.level}>{html.escape(b.text)}</h{b.level}>")
        elif isinstance(b, Text):
            body.append(f"<p>{_inline(b.text)}</p>")
        elif isinstance(b, Table):
            body.append(b.frame.to_html(index=False, border=0, na_rep="-"))
            body.append(f"<p><small>Also as {_inline(b.files)}.</small></p>")
        else:
            pdf = f' (<a href="{b.path.with_suffix(".pdf").name}">PDF</a>)' if b.pdf else ""
            body.append(
                f'<figure><img src="{b.path.name}" alt="{html.escape(b.caption)}">'
                f"<figcaption>{html.escape(b.caption)}{pdf}</figcaption></figure>"
            )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
