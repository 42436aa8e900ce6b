"""The HTML pages as a reader sees them in a real browser (headless Chromium, where one
is installed): Markdown rendered (lists, tables, emphasis, no literal markers) and every
image loaded, for the committed front page and reports and a report built here."""

from pathlib import Path

import pytest

from depthbench.report import build_report
from depthbench.run import run

REPORTS = Path(__file__).resolve().parents[1] / "reports"
PAGES = sorted(p.parent.name for p in REPORTS.glob("*/index.html"))
MARKERS = ("**", "](", "|---", "`", "\n- ")


def _assert_read_as_written(view: dict, page: Path) -> None:
    written = page.with_suffix(".md").read_text().count("![")
    assert len(view["images"]) == written, page
    broken = [src for src, loaded in view["images"] if not loaded]
    assert broken == [], page
    local = [h for h in view["links"] if not h.startswith(("http", "#", "mailto:"))]
    assert all((page.parent / h).is_file() for h in local), page
    for marker in MARKERS:
        assert marker not in view["text"], (page, marker)


def test_the_front_page_shows_a_table_of_claims_with_every_thumbnail_loaded(seen):
    view = seen(REPORTS / "index.html")
    _assert_read_as_written(view, REPORTS / "index.html")
    assert view["tables"] == 1 and view["headers"] == 8  # with "what is tested"
    claims = (REPORTS / "claims.yaml").read_text().count("- claim:")
    assert len(view["images"]) == claims


@pytest.mark.parametrize("name", PAGES)
def test_a_committed_report_reads_as_rendered_markdown(name, seen):
    page = REPORTS / name / "index.html"
    view = seen(page)
    _assert_read_as_written(view, page)
    assert view["items"] >= 3 and view["tables"] >= 1 and view["emphasis"] >= 1


def test_the_browser_check_sees_a_broken_image_and_a_literal_marker(seen, tmp_path):
    page = tmp_path / "index.html"
    page.write_text('<p>**bold** <img src="missing.png"></p>')
    view = seen(page)
    assert view["images"] == [["missing.png", False]]
    assert "**" in view["text"]


def test_a_report_built_here_reads_as_rendered_markdown(seen, smoke, tmp_path):
    run(smoke(tmp_path / "rows", "task.n=3", "grid.budgets=[20,60]", "train.steps=50"))
    build_report([tmp_path / "rows"], tmp_path / "report")
    page = tmp_path / "report" / "index.html"
    view = seen(page)
    _assert_read_as_written(view, page)
    assert view["items"] >= 4 and view["tables"] >= 3


def test_a_regenerated_report_shows_its_headline_first(seen, tmp_path):
    """Issue 28: a reader sees the experiment's name, then its answer, before any
    reading guide or provenance."""
    build_report([REPORTS / "quick" / "rows"], tmp_path / "quick")
    text = seen(tmp_path / "quick" / "index.html")["text"]
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[0] == "quick: depthbench report" and lines[1] == "Headline"
    assert lines[2].startswith("at eps 0.3: depth 2 needs ")
    assert text.index("Trust: ") < text.index("Provenance")
