import pytest
import torch

from depthbench.errors import ConfigError
from depthbench.optim import BatchedAdam, BatchedSGD, Optimizer


def test_one_member_follows_torch_adam():
    torch.manual_seed(0)
    target = torch.randn(1, 4, 3)
    ours = torch.nn.Parameter(torch.randn(1, 4, 3))
    ref = torch.nn.Parameter(ours.detach().clone())
    opt = BatchedAdam([ours], torch.tensor([0.05]))
    ref_opt = torch.optim.Adam([ref], lr=0.05)
    for _ in range(50):
        for p, o in ((ours, opt), (ref, ref_opt)):
            o.zero_grad()
            ((p - target) ** 4).sum().backward()
            o.step()
    torch.testing.assert_close(ours, ref, rtol=1e-6, atol=1e-6)


def test_learning_rate_is_per_member():
    p = torch.nn.Parameter(torch.zeros(2, 3))
    opt = BatchedAdam([p], torch.tensor([0.1, 0.0]))
    p.grad = torch.ones(2, 3)
    opt.step()
    assert torch.allclose(p[0], torch.full((3,), -0.1))
    assert torch.equal(p[1], torch.zeros(3))


def test_batched_sgd_follows_torch_sgd_per_member():
    """Two members at different rates, momentum and weight decay: each follows
    torch.optim.SGD on its own copy step for step."""
    torch.manual_seed(0)
    target = torch.randn(2, 5)
    ours = torch.nn.Parameter(torch.randn(2, 5))
    copies = [torch.nn.Parameter(ours.detach()[k].clone()) for k in range(2)]
    opt = BatchedSGD([ours], torch.tensor([0.05, 0.2]), momentum=0.9, weight_decay=5e-4)
    refs = [
        torch.optim.SGD([c], lr=lr, momentum=0.9, weight_decay=5e-4)
        for c, lr in zip(copies, (0.05, 0.2))
    ]
    for _ in range(20):
        (ours - target).square().sum().backward()
        opt.step()
        opt.zero_grad()
        for k, (c, ref) in enumerate(zip(copies, refs)):
            (c - target[k]).square().sum().backward()
            ref.step()
            ref.zero_grad()
    for k in range(2):
        torch.testing.assert_close(ours.detach()[k], copies[k].detach())


def test_a_closed_gate_freezes_its_member_only():
    p = torch.nn.Parameter(torch.ones(2, 3))
    opt = BatchedSGD([p], torch.tensor([0.1, 0.1]), momentum=0.9)
    opt.gate[1] = 0
    for _ in range(3):
        p.square().sum().backward()
        opt.step()
        opt.zero_grad()
    assert torch.equal(p.detach()[1], torch.ones(3)) and (p.detach()[0] < 1).all()


def test_the_optimizer_spec_is_validated_and_plain_adam_keeps_its_ids():
    assert Optimizer().identity == {}
    assert Optimizer("sgd", 0.9, 5e-4, 0.01).identity == {"optimizer": ["sgd", 0.9, 5e-4, 0.01]}
    for bad, field in [
        ({"name": "lbfgs"}, "train.optimizer"),
        ({"momentum": 1.0}, "train.momentum"),
        ({"weight_decay": 1e-4}, "train.weight_decay"),  # adam takes none
        ({"name": "sgd", "stop_loss": 0.0}, "train.stop_loss"),
    ]:
        with pytest.raises(ConfigError, match=field):
            Optimizer(**bad)
