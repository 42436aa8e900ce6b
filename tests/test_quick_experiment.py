"""The README main job reproduces its finding (slow: about 2-4 minutes on 2 cores).

Run with ``pytest -m slow``.
"""

import pytest

from depthbench.run import run


@pytest.mark.slow
def test_quick_finds_depth_efficient_on_the_product_of_six_inputs(make_cfg):
    rows = run(make_cfg("experiment=quick"))
    best = rows[rows["status"] == "ok"].groupby(["depth", "budget"])["test_metric"].min()
    shallow, deep = best.loc[1], best.drop(index=1)
    assert shallow.min() > 0.9  # one hidden layer stays near predicting the mean
    assert deep.xs(3000, level="budget").min() < 0.1  # a deep net at 3000 parameters fits it
    assert deep.xs(300, level="budget").min() < 0.5 * shallow.loc[3000]  # with 10x fewer parameters
