"""Censored replicates: intervals with open ends, the bracketing of declared eps, the
paired sign test, and how a bound prints in every output format."""

import math

import numpy as np
import pytest

from depthbench import analysis
from depthbench.analysis.censoring import censored_interval, holm, sign_test
from depthbench.analysis.intervals import median_interval
from depthbench.report import _unbracketed, numbers, tables
from depthbench.report.latex import latex
from depthbench.report.page import html_page
from test_analysis import BUDGETS, frame


def test_exact_replicates_give_the_order_statistic_interval():
    values = [3.0, 1.0, 2.0, 7.0, 5.0, 4.0, 6.0]
    spread = censored_interval([(v, "") for v in values])
    lo, hi, coverage = median_interval(np.array(values))
    assert (spread.lo, spread.hi, spread.coverage) == (lo, hi, coverage)
    assert spread.lo_censor == spread.hi_censor == ""


def test_an_open_end_of_the_range_keeps_its_mark():
    spread = censored_interval([(1602.0, ""), (2495.0, ""), (10089.0, ">")])
    assert (spread.lo, spread.lo_censor, spread.hi, spread.hi_censor) == (1602, "", 10089, ">")
    text = tables.interval(spread.lo, spread.hi, spread.coverage, spread.lo_censor, ">")
    assert text == "(range 1602 to >10089)"
    below = censored_interval([(4.2, ""), (44.4, ">="), (51.0, ">=")])
    assert (below.lo, below.lo_censor, below.hi, below.hi_censor) == (4.2, "", 51.0, ">=")
    assert censored_interval([(3.0, ""), (1.0, ">")]).hi_censor == ">="  # the max can be 3
    unknown = censored_interval([(math.nan, "undetermined"), (5.0, "<=")])
    assert (unknown.lo, unknown.lo_censor, unknown.hi_censor) == (5.0, "<=", "undetermined")
    assert tables.interval(5.0, math.nan, unknown.coverage, "<=", "undetermined") == (
        "(range <=5 to ?)"
    )


@pytest.mark.parametrize(
    "k,n,p", [(3, 3, 0.125), (6, 6, 1 / 64), (5, 6, 7 / 64), (0, 4, 1.0), (0, 0, 1.0)]
)
def test_the_sign_test_is_the_binomial_tail(k, n, p):
    assert sign_test(k, n) == pytest.approx(p)


def test_holm_multiplies_the_smallest_by_the_family_size_and_keeps_order():
    assert holm([0.01, 0.04, math.nan, 0.03]) == pytest.approx(
        [0.03, 0.06, math.nan, 0.06], nan_ok=True
    )


def _planted(seeds: int = 3):
    """Depth 1: 2.0 ... 0.2 over BUDGETS (one replicate dips to reach 0.1 at 3000),
    depth 2: 0.6 ... 0.006; declared eps 0.5, 0.1, 0.01."""
    df = frame({1: (20.0, 0.5), 2: (60.0, 1.0)}, BUDGETS, seeds=seeds, eps=(0.5, 0.1, 0.01))
    early = (df["depth"] == 1) & (df["seed"] == 0) & (df["budget"] >= 3000)
    df.loc[early, ["test_metric", "val_metric"]] = 0.1
    return df, analysis.analyze(df)


def test_an_eps_the_grid_does_not_bracket_gets_no_verdict_and_is_named():
    _, a = _planted()
    p = a.p.set_index(["depth", "eps"])["bracket"]
    assert p[(1, 0.5)] == p[(2, 0.5)] == p[(2, 0.1)] == "yes"
    assert p[(1, 0.1)] == "not reached"  # the median curve of depth 1 stops at 0.2
    e = a.e.set_index("eps")
    assert e.loc[0.5, "bracketed"] and e.loc[0.5, "censor"] == "" and e.loc[0.5, "p"] == 0.125
    assert not e.loc[0.1, "bracketed"] and math.isnan(e.loc[0.1, "p"])
    bracketing = tables.bracketing(a)
    read = bracketing.set_index("eps")["verdict for"]
    assert read["0.5"] == "E_2" and read["0.1"] == read["0.01"] == "none"
    assert _unbracketed(bracketing, a.names).endswith("No E_d is read at: eps 0.1, 0.01.")
    tested = tables.depth_tests(a).set_index("eps")
    assert tested.loc["0.1", "bracketed"].startswith("no") and tested.loc["0.1", "p (sign)"] == "-"


def test_a_censored_range_prints_its_open_end_in_every_format():
    df, a = _planted()
    row = a.e.set_index("eps").loc[0.1]  # P_2 = 600: ratios {5, >=16.7, >=16.7}
    assert row["censor"] == ">=" and row["hi_censor"] == ">=" and row["lo_censor"] == ""
    table = tables.by_depth(a.e, "E")
    cell = table.set_index("eps").loc["0.1", "E depth 2"]
    assert cell == ">= 16.7 (range 5 to >=16.7)"  # Markdown
    markdown = table.to_markdown(index=False)
    assert "(range 5 to >=16.7)" in markdown
    assert "(range 5 to &gt;=16.7)" in html_page(markdown, "t")  # HTML
    assert r"(range 5 to $\geq$16.7)" in latex(table, "E", "efficiency")  # LaTeX
    macros = {k: v for k, v, _ in numbers.entries(a, df)}
    assert macros["E2 eps=0.1"] == r"\ensuremath{\geq} 16.7"  # numbers.tex
    assert macros["E2 eps=0.1 interval"] == r"(range 5 to \ensuremath{\geq}16.7)"
    assert macros["E2 eps=0.1 replicates"] == r"5, \ensuremath{\geq}16.7, \ensuremath{\geq}16.7"


def test_the_depth_gap_sees_depth_win_where_every_eps_is_censored():
    df = frame({1: (20.0, 0.5), 2: (60.0, 1.0)}, BUDGETS, seeds=3, eps=(0.001,))
    a = analysis.analyze(df)
    assert (a.e["censor"] != "").all()  # no eps is bracketed: E_d says nothing
    gap = a.gap.iloc[0]
    assert gap["ratio"] > 3 and gap["above"] == gap["paired"] == 3 and gap["p"] == 0.125
    flipped = frame({1: (60.0, 1.0), 2: (20.0, 0.5)}, BUDGETS, seeds=3, eps=(0.001,))
    assert analysis.analyze(flipped).gap.iloc[0]["ratio"] < 1 / 3  # depth loses: R_d < 1
