"""``depthbench ls``: what a results store holds (:mod:`depthbench.inventory`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from depthbench import results
from depthbench.errors import ResultsError
from depthbench.inventory import PROTOCOL_KEYS, describe, protocols

REPORTS = Path(__file__).resolve().parents[1] / "reports"
QUICK = REPORTS / "quick" / "rows"


def test_describe_counts_the_rows_of_each_status_and_names_the_protocol():
    rows = results.load(QUICK)
    ok = int((rows["status"] == "ok").sum())
    out = describe([QUICK])
    assert out.startswith(f"{QUICK}: {len(rows)} rows in 1 file(s); 2 protocol(s)")
    assert f"mlp activation=silu residual=False: {ok} rows (ok); cells 16;" in out
    assert "protocol 1 of 2: kind trained, steps 6000, batch_size 256" in out
    assert "lrs 0.003..0.3 (5); n_train 16384" in out
    assert "commits fd230e1" in out


def test_two_protocols_in_one_store_are_two_blocks_naming_the_key_that_differs(tmp_path):
    ok = results.load(QUICK).query("status == 'ok'")
    shorter = ok.assign(  # what a run at train.steps=3000 stores: other ids, other checkpoints
        steps=3000,
        loss_steps=ok["loss_steps"].map(lambda s: [*s[:-1], 3000]),
        run_id=ok["run_id"] + "-3000",
        cell_id=ok["cell_id"] + "-3000",
    )
    results.write(ok, tmp_path, "default")
    results.write(shorter, tmp_path, "shorter")
    out = describe([tmp_path])
    flat = " ".join(out.split())  # lines wrap where the temporary path is long
    assert f"{len(ok) * 2} rows in 2 file(s); 2 protocol(s), differing in steps every " in flat
    assert "\nprotocol 1 of 2: steps 3000\n" in out and "\nprotocol 2 of 2: steps 6000\n" in out
    assert out.count(f"{len(ok)} rows (ok)") == 2


def test_a_protocol_is_what_was_configured_not_what_a_member_did():
    lin = results.load(REPORTS / "lin_tegmark_product" / "rows")
    keys = protocols(lin)
    assert list(keys.columns) == list(PROTOCOL_KEYS)
    grid = lin["status"].isin(["ok", "infeasible"])
    assert set(keys.loc[grid, "steps"]) == {"6000"}  # an infeasible row trains nothing
    basins = keys.loc[lin["status"] == "basin", "protocol"]
    assert basins.nunique() == 1 and basins.iloc[0].startswith("construction + noise s x ")
    rhm = results.load(REPORTS / "rhm_sample_complexity" / "rows")
    ok = rhm["status"] == "ok"
    assert rhm.loc[ok, "steps"].nunique() > 1  # members stopped at train.stop_loss
    assert set(protocols(rhm).loc[ok, "steps"]) == {"2000"}


def test_a_missing_or_empty_directory_is_one_line(tmp_path):
    with pytest.raises(ResultsError, match=r"^results directory \S+ does not exist$"):
        describe([tmp_path / "nothing"])
    with pytest.raises(
        ResultsError, match=r"^results directory \S+ holds no readable result rows$"
    ):
        describe([tmp_path])
