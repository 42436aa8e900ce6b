"""What a report's rows test, said before any number: the labels (noise-free or not),
the data (online or a fixed draw), what a replicate varies, and the regime the
experiment declared (``report.regime``) against the tested theorem's."""

from __future__ import annotations

import pandas as pd

FUNCTION_SEED = "task.function_seed"


def _labels(df: pd.DataFrame) -> str:
    """Each family's ``labels`` (:attr:`~depthbench.tasks.Task.labels`) with its kind
    (regression where chance is 1, as :attr:`~depthbench.tasks.Task.chance` sets it)."""
    said = [
        f"{family} {'regression' if chance == 1.0 else 'classification'}, {labels}"
        for family, chance, labels in df[["task", "chance", "labels"]]
        .drop_duplicates()
        .itertuples(index=False)
    ]
    return "; ".join(sorted(dict.fromkeys(said)))


def _data(ok: pd.DataFrame) -> str:
    """Online draws (``n_train`` 0) or fixed training sets, and what the latter mix in."""
    online = ok["n_train"] == 0
    said = []
    if online.any():
        batches = ", ".join(map(str, sorted(ok.loc[online, "batch_size"].unique())))
        said.append(f"online (a fresh batch of {batches} every step; no sample seen twice)")
    if (~online).any():
        sizes = ", ".join(map(str, sorted(ok.loc[~online, "n_train"].astype(int).unique())))
        said.append(
            f"fixed training sets of {sizes} samples, one draw per data seed (their test "
            "error mixes estimation error into approximation)"
        )
    return " and ".join(said)


def _replicates(ok: pd.DataFrame) -> str:
    """How many values of each seed the trained rows hold: what a replicate varies."""
    counts = {
        ("model seeds", "model seed"): ok["seed"].nunique(),
        ("data draws", "data draw"): ok["data_seed"].nunique(),
        ("task instances", "task instance"): (
            ok[FUNCTION_SEED].nunique() if FUNCTION_SEED in ok else 1
        ),
    }
    varied = " x ".join(f"{n} {many}" for (many, _), n in counts.items() if n > 1)
    held = " and ".join(f"one {one}" for (_, one), n in counts.items() if n == 1)
    return " on ".join(part for part in (varied or "one seed", held) if part)


def lines(df: pd.DataFrame) -> list[str]:
    """The header's lines for the rows ``df`` (every status; trained rows say the data
    and the replicates)."""
    ok = df[df["status"] == "ok"]
    regimes = sorted(df["regime"].dropna().unique()) if "regime" in df else []
    items = [f"labels: {_labels(df)}"]
    if len(ok):
        items += [f"data: {_data(ok)}", f"replicates vary: {_replicates(ok)}"]
    items.append(
        "regime: " + (" / ".join(regimes) if regimes else "not declared (`report.regime`)")
    )
    return items
