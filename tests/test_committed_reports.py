"""Every committed report that ships its rows rebuilds from them, table for table, as
reports/regenerate.sh does in a fresh clone."""

from pathlib import Path

import pytest

from depthbench.report import build_report, front

REPORTS = Path(__file__).resolve().parents[1] / "reports"
SHIPPED = sorted(p.parent.name for p in REPORTS.glob("*/rows"))


def test_the_main_jobs_report_ships_its_rows():
    assert "quick" in SHIPPED


# the largest reports (the RHM's, 45 s each on a 2-core machine) are slow (pytest -m
# slow); the default run rebuilds every other, and reports/regenerate.sh all
SLOW = ("rhm_sample_complexity", "rhm_sample_complexity_first_design")


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in SHIPPED],
)
def test_a_committed_report_rebuilds_byte_identically_from_its_rows(name, tmp_path):
    committed = REPORTS / name
    build_report([committed / "rows"], tmp_path)
    tables = sorted((committed / "tables").iterdir())
    assert tables
    for table in tables:
        rebuilt = tmp_path / "tables" / table.name
        assert rebuilt.read_bytes() == table.read_bytes(), f"{name}/tables/{table.name}"
    figures = sorted(p.name for p in committed.glob("fig*.png"))
    assert figures == sorted(p.name for p in tmp_path.glob("fig*.png"))


def test_the_front_page_is_what_its_claims_and_reports_say():
    """reports/index.md as `depthbench front reports` rebuilds it from claims.yaml and
    the committed reports' numbers.tex: no number on it is typed by hand."""
    assert front.text(REPORTS) == (REPORTS / "index.md").read_text()
