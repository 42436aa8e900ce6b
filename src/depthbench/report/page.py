"""The report page as a list of blocks, rendered to ``index.md``, and that Markdown
rendered to ``index.html`` by a CommonMark engine (markdown-it-py, with tables): the
HTML says exactly what the Markdown says, figures linked as the PNG files beside it."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Text:
    text: str  # Markdown (CommonMark): lists, emphasis, `code`, links


@dataclass(frozen=True)
class Table:
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


STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:75em;margin:2em auto;padding:0 1em;"
    "color:#222}\ntable{border-collapse:collapse;font-size:.85em;margin:.5em 0}"
    "th,td{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:right}\n"
    "th{border-bottom:2px solid #444}td:first-child,th:first-child{text-align:left}"
    "img{max-width:100%}\nfigcaption{font-size:.85em;color:#555}"
    "code{background:#f4f4f4;padding:0 .2em}"
)


CSS_PX_PER_INCH = 96


def _sized(body: str, folder: Path) -> str:
    """``body`` with each ``<img src="NAME">`` of a PNG in ``folder`` given the width its
    figure has in inches (its pixels over its stored dpi, at 96 CSS px an inch): shown
    at its natural pixel size, a 192-dpi figure would display at twice its size and a
    quarter of its resolution."""
    from PIL import Image

    def width(match: re.Match[str]) -> str:
        path = folder / html.unescape(match.group(1))
        if path.suffix != ".png" or not path.is_file():
            return match.group(0)
        with Image.open(path) as image:
            dpi = image.info.get("dpi", (CSS_PX_PER_INCH,))[0]
            css = round(image.width * CSS_PX_PER_INCH / dpi)
        return f'<img width="{css}" src="{match.group(1)}"'

    return re.sub(r'<img src="([^"]+)"', width, body)


def html_page(text: str, title: str, style: str = "", folder: Path | None = None) -> str:
    """``text`` (the page's Markdown) as a standalone HTML page titled ``title``;
    ``style``: CSS rules after the shared :data:`STYLE`; images in ``folder`` sized as
    :func:`_sized` says."""
    body = MarkdownIt("commonmark").enable("table").render(text)
    if folder is not None:
        body = _sized(body, folder)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}{style}</style></head>\n<body>\n"
        + body
        + "</body></html>\n"
    )
