"""docs/extending.md as written: a task family and a model family defined in a module
outside the package run through ``depthbench run`` and ``depthbench report``."""

import re
import subprocess
from pathlib import Path

from depthbench import results

DOC = Path(__file__).resolve().parents[1] / "docs" / "extending.md"


def example_files() -> dict[str, str]:
    """Every fenced block of the document whose first line is ``# file: <path>``."""
    blocks = re.findall(r"```\w+\n# file: (\S+)\n(.*?)```", DOC.read_text(), flags=re.S)
    return dict(blocks)


def test_a_family_and_a_model_from_outside_the_package_run_and_report(tmp_path):
    files = example_files()
    assert set(files) == {
        "toy_plugin.py",
        "conf/task/sum_of_squares.yaml",
        "conf/model/funnel.yaml",
        "run.sh",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    proc = subprocess.run(
        ["bash", "-e", "run.sh"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    stored = results.load(tmp_path / "results/toy")
    trained = stored[stored["status"] == "ok"]
    assert set(trained["task"]) == {"sum_of_squares"} and set(trained["model"]) == {"funnel"}
    assert len(trained) == 8 and trained["test_metric"].notna().all()
    # widths 1 and 2 layers: funnel counts, e.g. depth 2 width w: 5w + (w+1)(w//2) + w//2 + 1
    for _, row in trained.iterrows():
        w, half = row["width"], max(1, row["width"] // 2)
        expect = 5 * w + w + 1 if row["depth"] == 1 else 5 * w + (w + 1) * half + half + 1
        assert row["n_params"] == expect
    assert (trained["theory.shallow_neurons"] == 8.0).all()
    page = (tmp_path / "local-reports/toy/index.md").read_text()
    assert "sum_of_squares n=4" in page and "funnel" in page
    assert "shallow_neurons" in (tmp_path / "local-reports/toy/tables/n_d.md").read_text()
