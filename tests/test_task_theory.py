"""Each family's structure and the theory it carries (docs/science.md, "Task families")."""

import itertools
import math

import pytest
import torch

from depthbench import tasks
from depthbench.bounds import sawtooth_points
from depthbench.tasks import eldan_shamir
from depthbench.tasks.sawtooth import tent

# ---------------------------------------------------------------- rhm


def test_rhm_rules_are_distinct_and_no_tuple_has_two_parents():
    task = tasks.make("rhm", v=6, m=3, s=2, L=3, n_c=4)
    for rules in task.grammar:  # [parents, m, s]
        tuples = [tuple(t) for t in rules.reshape(-1, task.s).tolist()]
        assert len(set(tuples)) == len(tuples)  # distinct within and across parents
        for parent in rules:
            assert len({tuple(t) for t in parent.tolist()}) == task.m


def test_rhm_enumeration_gives_exactly_p_max_distinct_balanced_inputs():
    task = tasks.make("rhm", v=4, m=2, s=2, L=2, n_c=3)
    assert task.P_max == 3 * 2**3
    leaves, label = task.decode(torch.arange(task.P_max))
    assert len({tuple(row) for row in leaves.tolist()}) == task.P_max
    assert torch.bincount(label).tolist() == [task.P_max // 3] * 3


def test_rhm_inputs_follow_the_rules_level_by_level():
    task = tasks.make("rhm", v=5, m=2, s=3, L=2, n_c=2, function_seed=4)
    leaves, label = task.decode(torch.randint(task.P_max, (50,)))
    for row, y in zip(leaves.tolist(), label.tolist()):
        middle = []
        for j in range(task.s):  # each leaf s-tuple is a rule of exactly one middle symbol
            block = tuple(row[j * task.s : (j + 1) * task.s])
            owners = [
                p for p in range(task.v) if block in {tuple(t) for t in task.grammar[1][p].tolist()}
            ]
            assert len(owners) == 1
            middle.append(owners[0])
        assert tuple(middle) in {tuple(t) for t in task.grammar[0][y].tolist()}


def test_rhm_train_validation_and_test_never_overlap_and_one_hot_layout():
    task = tasks.make("rhm")
    (x_train, y_train), (x_val, _), (x_test, _) = task.split(3000, 1000, 2000, seed=0)
    train, val, test = (
        {tuple(r) for r in x.nonzero()[:, 1].view(len(x), -1).tolist()}
        for x in (x_train, x_val, x_test)
    )
    assert (len(train), len(val), len(test)) == (3000, 1000, 2000)
    assert not train & test and not train & val and not val & test
    grid = x_train.view(-1, *task.input_shape)  # [N, v, s^L]: one symbol per position
    assert torch.equal(grid.sum(1), torch.ones(len(x_train), task.n_leaves))
    counts = torch.bincount(y_train, minlength=task.n_classes).float()
    assert (counts / counts.mean() - 1).abs().max() < 0.2  # classes balanced
    assert task.theory() == {"P_max": 8 * 4.0**7, "P_star": 8 * 4.0**3}


def test_rhm_refuses_more_samples_than_distinct_inputs():
    task = tasks.make("rhm", v=4, m=2, s=2, L=2, n_c=3)
    with pytest.raises(ValueError, match="exceed the P_max = 24"):
        task.split(20, 2, 3, seed=0)


@pytest.mark.parametrize("family", ["product", "rhm", "broadcast"])
def test_draws_are_disjoint_deterministic_and_the_same_on_every_call(family):
    task = tasks.make(family)
    first = task.split(2000, 500, 1000, seed=3)
    again = task.split(2000, 500, 1000, seed=3)
    for (x, y), (x2, y2) in zip(first, again):
        assert torch.equal(x, x2) and torch.equal(y, y2) and x.device.type == "cpu"
    if family != "broadcast":  # continuous inputs, or rhm's distinct ones: no row in two draws
        rows = [{tuple(r) for r in x.tolist()} for x, _ in first]
        assert not rows[0] & rows[1] and not rows[0] & rows[2] and not rows[1] & rows[2]
    other = task.split(2000, 500, 1000, seed=4)
    assert not torch.equal(first[2][0], other[2][0])


# ---------------------------------------------------------------- broadcast


@pytest.mark.parametrize("L,eps", [(3, 0.1), (6, 0.2)])
def test_broadcast_chain_bp_accuracy_matches_the_closed_form(L, eps):
    task = tasks.make("broadcast", s=1, L=L, eps=eps)
    n = 200_000
    x, y = task.sample(n, seed=1)
    exact = (1 + (1 - 2 * eps) ** L) / 2
    assert task.theory()["bayes_accuracy"] == pytest.approx(exact)
    sd = math.sqrt(exact * (1 - exact) / n)
    assert abs((1 - task.bayes_metric(x, y)) - exact) < 4 * sd


def test_broadcast_bp_beats_majority_vote_on_trees():
    task = tasks.make("broadcast", s=3, L=4, eps=0.15)
    x, y = task.sample(100_000, seed=2)
    bp = 1 - task.bayes_metric(x, y)
    majority = ((x.sum(1) > 0).long() == y).float().mean().item()
    assert bp >= majority
    assert bp == pytest.approx(task.theory()["bayes_accuracy"], abs=0.01)


def test_broadcast_near_chance_far_below_kesten_stigum():
    task = tasks.make("broadcast", s=2, L=10, eps=0.35)  # s (1 - 2 eps)^2 = 0.18
    assert task.theory()["kesten_stigum"] < 0.2
    assert task.theory()["bayes_accuracy"] < 0.52
    above = tasks.make("broadcast", s=2, L=10, eps=0.05)  # 1.62: reconstruction possible
    assert above.theory()["bayes_accuracy"] > 0.85


def _brute_force_joint(task) -> tuple[torch.Tensor, torch.Tensor]:
    """Every leaf configuration of a small tree, ``[C, s^L]``, and ``P(root, leaves)``
    ``[C, q]``, by summing over every assignment of the internal nodes."""
    q, s, L, m = task.q, task.s, task.L, task.matrix
    leaves = torch.tensor(list(itertools.product(range(q), repeat=s**L)))
    inner = [s**level for level in range(1, L)]  # nodes per internal level
    joint = torch.zeros(len(leaves), q, dtype=torch.float64)
    for root in range(q):
        for assignment in itertools.product(range(q), repeat=sum(inner)):
            levels, start = [torch.tensor([root])], 0
            for width in inner:
                levels.append(torch.tensor(assignment[start : start + width]))
                start += width
            p = torch.ones((), dtype=torch.float64) / q
            for parent, child in zip(levels, levels[1:]):
                p = p * m[parent.repeat_interleave(s), child].prod()
            leaf_parent = levels[-1].repeat_interleave(s)
            joint[:, root] += p * m[leaf_parent, leaves].prod(1)
    return leaves, joint


@pytest.mark.parametrize("channel,eps", [("silent", 0.05), ("symmetric", 0.3)])
def test_broadcast_bp_is_the_exact_posterior_by_enumeration(channel, eps):
    task = tasks.make("broadcast", s=2, L=2, eps=eps, q=3, channel=channel)
    leaves, joint = _brute_force_joint(task)
    assert joint.sum().item() == pytest.approx(1.0)
    posterior = joint / joint.sum(1, keepdim=True)
    bp = task.root_log_posterior(task.encode(leaves)).exp()
    assert torch.allclose(bp, posterior, atol=1e-10)


def test_the_silent_channel_blinds_every_linear_statistic_but_not_bayes():
    task = tasks.make("broadcast", s=2, L=2, eps=0.05, q=3, channel="silent")
    m = task.matrix
    assert torch.allclose(m @ m, torch.full((3, 3), 1 / 3, dtype=torch.float64))  # M^2 = U
    assert task.theory()["kesten_stigum"] == 0
    leaves, joint = _brute_force_joint(task)
    marginal = (
        torch.stack(  # P(leaf j = b | root a): uniform for every j, a
            [joint.T @ (leaves[:, j : j + 1] == torch.arange(3)).double() for j in range(4)]
        )
        / (1 / 3)
    )
    assert torch.allclose(marginal, torch.full_like(marginal, 1 / 3))
    bayes_error = 1 - joint.max(1).values.sum().item()
    vote = task.rules()["majority"](task.encode(leaves))
    majority_error = 1 - joint[torch.arange(len(leaves)), vote].sum().item()
    assert abs(majority_error - 2 / 3) < 0.01  # chance, up to ties broken low
    assert bayes_error < 2 / 3 - 0.05  # the joint of siblings carries the root
    symmetric = tasks.make("broadcast", s=2, L=2, eps=0.05, q=3)
    assert symmetric.theory()["kesten_stigum"] > 1


# ---------------------------------------------------------------- sawtooth


@pytest.mark.parametrize("k", [1, 3, 6])
def test_sawtooth_has_two_to_the_k_linear_pieces(k):
    x = torch.linspace(0, 1, 2**12 + 1, dtype=torch.float64)  # dyadic: exact in float
    y = tent(x, k)
    slopes = torch.diff(y) / torch.diff(x)
    pieces = 1 + int((torch.diff(slopes).abs() > 1e-6).sum())
    assert pieces == 2**k
    assert slopes.abs().unique().tolist() == [2.0**k]


def test_sawtooth_modes_and_theory():
    task = tasks.make("sawtooth", k=5, mode="points")
    x, y = task.sample(1000, seed=0)
    i = (x[:, 0] * 32).round().long()
    assert torch.equal(y, i % 2) and torch.equal(tent(x[:, 0], 5).round().long(), y)
    assert task.theory() == {"shallow_neurons": 31.0, "deep_neurons": 10.0, "ap_points": 32.0}
    assert set(i.tolist()) == set(range(32))  # the n-ap: n = 2^k points, 1 excluded
    cls = tasks.make("sawtooth", k=3, mode="classification")
    x, y = cls.sample(1000, seed=0)
    assert torch.equal(y, (tent(x[:, 0], 3) >= 0.5).long())
    assert abs(y.float().mean().item() - 0.5) < 0.05


@pytest.mark.parametrize("depth,width", [(1, 3), (1, 8), (2, 2), (2, 3), (3, 2)])
def test_a_relu_net_is_2m_to_the_l_sawtooth(depth, width):
    """The premise of the n-ap bound: a ReLU net of l hidden layers of m units, on R,
    has at most (2m)^l affine pieces (Telgarsky 2015), so it crosses any level at most
    that often; checked on random nets on a fine grid."""
    g = torch.Generator().manual_seed(depth * 10 + width)
    x = torch.linspace(-2, 3, 200001, dtype=torch.float64)[:, None]
    for _ in range(20):
        h, fan_in = x, 1
        for _ in range(depth):
            w = torch.randn(fan_in, width, generator=g, dtype=torch.float64)
            h = torch.relu(h @ w + torch.randn(width, generator=g, dtype=torch.float64))
            fan_in = width
        f = h @ torch.randn(width, generator=g, dtype=torch.float64)
        slopes = torch.diff(f) / torch.diff(x[:, 0])
        bends = (torch.diff(slopes).abs() > 1e-6 * slopes.abs().max()).nonzero()[:, 0]
        kinks = int((torch.diff(bends) > 1).sum()) + 1 if len(bends) else 0  # a kink
        assert 1 + kinks <= (2 * width) ** depth  # between grid points bends two slopes


def test_telgarsky_bound_is_theorem_1_1_and_vanishes_for_the_constructions():
    for k, depth in [(9, 2), (12, 3), (7, 1), (13, 2)]:
        width = 2 ** ((k - 3) / depth - 1)
        if width == int(width) and width >= 1:  # the theorem's largest width
            assert sawtooth_points(2**k, depth, int(width)) >= 1 / 6
            assert sawtooth_points(2**k, depth, int(width) + 1) < 1 / 6
    assert sawtooth_points(2**6, 6, 2) == 0  # the deep net: k layers of 2 units, exact
    assert sawtooth_points(2**6, 1, 63) == 0  # the shallow net: 2^k - 1 units, exact
    assert sawtooth_points(2**10, 1, 4) == pytest.approx((1024 - 32) / 3072)


# ---------------------------------------------------------------- tree, polynomial, others


def test_tree_output_changes_only_through_the_branch_of_the_input():
    task = tasks.make("tree", s=2, L=3, function_seed=1)
    x = torch.rand(32, 8) * 2 - 1
    for j in range(8):
        moved = x.clone()
        moved[:, j] = torch.rand(32) * 2 - 1
        for level, (before, after) in enumerate(zip(task.levels(x), task.levels(moved)), start=1):
            changed = (before != after).any(0).nonzero()[:, 0].tolist()
            assert changed == [j // 2**level]  # only the ancestor of input j


def _max_difference(f, order: int, h: float) -> float:
    """max over a line through the input cube of |order-th finite difference| / h^order."""
    g = torch.Generator().manual_seed(0)
    x0, v = torch.rand(8, generator=g, dtype=torch.float64) - 0.5, torch.randn(8, generator=g)
    t = torch.arange(-1.0, 1.0, h, dtype=torch.float64)
    y = f(x0 + t[:, None] * v.double() / v.norm())
    for _ in range(order):
        y = torch.diff(y)
    return float(y.abs().max() / h**order)


@pytest.mark.parametrize("m", [1, 2])  # beyond, float64 rounding hides the jump
def test_tree_nodes_of_smoothness_m_have_a_bounded_mth_and_a_jumping_next_derivative(m):
    task = tasks.make("tree", s=2, L=3, smoothness=m, function_seed=1)
    assert task.theory()["alpha_shallow"] == 2 * m / 8 and task.theory()["alpha_deep"] == m
    bounded = [_max_difference(task.evaluate, m, h) for h in (1e-3, 5e-4)]
    jumping = [_max_difference(task.evaluate, m + 1, h) for h in (1e-3, 5e-4)]
    assert bounded[1] / bounded[0] < 1.2  # the m-th derivative stays bounded as h shrinks
    assert jumping[1] / jumping[0] > 1.6  # the (m+1)-th grows like 1/h: a jump
    smooth = tasks.make("tree", s=2, L=3, function_seed=1)
    steady = [_max_difference(smooth.evaluate, m + 1, h) for h in (1e-3, 5e-4)]
    assert steady[1] / steady[0] < 1.2  # infinitely smooth nodes: no jump anywhere


@pytest.mark.parametrize("lattice,n,degree", [("chain", 6, 4), ("square", 9, 3), ("chain", 5, 2)])
def test_polynomial_degree_and_locality(lattice, n, degree):
    task = tasks.make("polynomial", n=n, degree=degree, lattice=lattice)
    x = torch.rand(n, dtype=torch.float64) * 2 - 1
    hessian = torch.autograd.functional.hessian(lambda v: task.evaluate(v.float()[None])[0], x)
    coupled = {(i, j) for i, j in itertools.combinations(range(n), 2) if abs(hessian[i, j]) > 1e-6}
    assert coupled == {tuple(sorted(b)) for b in task.bonds.tolist()}
    # y(t x) is a polynomial in t of degree exactly `degree`
    t = torch.linspace(-2, 2, 9, dtype=torch.float64)
    values = torch.stack([task.evaluate((ti * x).float()[None])[0].double() for ti in t])
    vander = torch.vander(t, N=degree + 1)
    coef = torch.linalg.lstsq(vander, values[:, None]).solution[:, 0]
    assert torch.allclose(vander @ coef, values, atol=1e-4) and abs(coef[0]) > 1e-3
    lower = torch.vander(t, N=degree)
    fit = lower @ torch.linalg.lstsq(lower, values[:, None]).solution[:, 0]
    assert not torch.allclose(fit, values, atol=1e-3)


def test_symmetric_polynomial_shares_its_couplings():
    task = tasks.make("polynomial", n=8, symmetric=True)
    assert task._J.unique().numel() == 1 and task._K.unique().numel() == 1


def test_teacher_is_reproducible_per_seed_and_its_depth_is_real():
    a, b = tasks.make("teacher", L_t=2), tasks.make("teacher", L_t=2)
    c = tasks.make("teacher", L_t=2, function_seed=1)
    x, y = a.sample(64, seed=3)
    assert torch.equal(y, b.evaluate(x)) and not torch.equal(y, c.evaluate(x))
    assert [w.shape for w in a.weights] == [(8, 32), (32, 32), (32, 1)]
    assert a.theory() == {"L_t": 2.0, "width": 32.0}
    x, _ = tasks.make("teacher", distribution="uniform").sample(1000, seed=0)
    assert x.abs().max() <= 1 and x.std() < 0.7  # uniform on [-1, 1]: std 0.577


def test_monomial_power_and_product_share_the_generator():
    mono = tasks.make("monomial", exponents=[2, 1, 3])
    x, y = mono.sample(20, seed=0)
    torch.testing.assert_close(y, x[:, 0] ** 2 * x[:, 1] * x[:, 2] ** 3)
    assert mono.theory() == {"shallow_neurons": 3 * 2 * 4.0, "deep_neurons": 7 + 0 + 14 + 4 * 2.0}
    # one function, one count: exponents [1, 1, 1, 1] are product n=4, [8] is power d=8
    for same, other in (
        (tasks.make("monomial", exponents=[1] * 4), tasks.make("product", n=4)),
        (tasks.make("monomial", exponents=[8]), tasks.make("power", d=8)),
    ):
        assert same.theory()["deep_neurons"] == other.theory()["deep_neurons"]
    power = tasks.make("power", d=5)
    x, y = power.sample(20, seed=0)
    torch.testing.assert_close(y, x[:, 0] ** 5)
    assert power.theory() == {"shallow_neurons": 6.0, "deep_neurons": 21.0}


@pytest.mark.parametrize("distribution", ["gaussian", "uniform"])
def test_radial_ball_is_balanced_and_oscillating_is_radial(distribution):
    ball = tasks.make("radial", d=16, distribution=distribution)
    x, y = x_ball, y_ball = ball.sample(20_000, seed=0)
    assert abs(y.float().mean().item() - 0.5) < 0.02
    if distribution == "uniform":
        assert x.abs().max() <= 1
    osc = tasks.make("radial", d=4, profile="oscillating")
    x, y = osc.sample(10, seed=0)
    torch.testing.assert_close(y, torch.sin(8 * (x.norm(dim=1) - osc.r0)))
    l2 = tasks.make("radial", d=16, profile="ball_l2", distribution=distribution)
    x2, y2 = l2.sample(20_000, seed=0)
    assert l2.kind == "regression"
    assert torch.equal(x2, x_ball) and torch.equal(y2, y_ball.float())


@pytest.mark.parametrize("d", [2, 8, 32])
def test_the_eldan_shamir_density_integrates_to_the_unit_balls_volume(d):
    """int phi^2 = 1 (Parseval: phi is the Fourier transform of the indicator of a ball
    of volume 1): the radial density on a fine grid plus the stated tail mass."""
    r = torch.linspace(0, eldan_shamir.TAIL * math.sqrt(d), 2**15, dtype=torch.float64)[1:]
    total = torch.trapezoid(eldan_shamir.radial_density(d, r), r).item()
    assert total + eldan_shamir.tail_mass(d) == pytest.approx(1.0, abs=2e-3)
    assert eldan_shamir.tail_mass(d) < 0.05


def test_eldan_shamir_draws_follow_the_density_and_the_shells_target():
    task = tasks.make("radial", d=8, profile="shells", distribution="eldan_shamir", shells=4)
    x, y = task.sample(200_000, seed=3)
    r = x.norm(dim=1)
    for low, high in [(0.5, 1.0), (1.0, 2.0), (2.83, 5.66)]:  # the last: the shells
        grid = torch.linspace(low, high, 4001, dtype=torch.float64)
        expected = torch.trapezoid(eldan_shamir.radial_density(8, grid), grid).item()
        expected /= 1 - eldan_shamir.tail_mass(8)  # the table renormalises without the tail
        seen = ((r >= low) & (r < high)).double().mean().item()
        assert abs(seen - expected) < 4 * math.sqrt(expected / len(r)) + 1e-3
    low, high = task.shell_range
    inside = (r >= low) & (r < high)
    assert (y[~inside] == 0).all() and set(y[inside].unique().tolist()) <= {-1.0, 1.0}
    piece = ((r[inside] - low) / (high - low) * 4).long()
    assert torch.equal(y[inside], task.signs[piece])  # one sign per shell
    assert task.theory()["shell_mass"] == pytest.approx(inside.float().mean().item(), abs=0.01)


def test_each_familys_labels_are_what_rows_before_schema_5_read_as():
    """Older rows get ``labels`` from :data:`schema.LABELS_BEFORE_5`: it must say what
    each family says (noise-free unless listed)."""
    from depthbench import schema

    for family, cls in tasks.FAMILIES.items():
        assert cls.labels == schema.LABELS_BEFORE_5.get(family, schema.NOISE_FREE), family
    assert tasks.FAMILIES["broadcast"].labels.startswith("noisy")
