import torch

from depthbench.optim import BatchedAdam


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
