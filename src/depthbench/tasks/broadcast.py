"""``broadcast``: broadcasting on a tree (Mossel 2016, arXiv 1612.09057)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch

from depthbench.errors import ConfigError
from depthbench.seeding import derive_seed, generator
from depthbench.tasks.base import Task
from depthbench.validate import check_choice, check_float, check_int

BAYES_SAMPLES = 2**22  # leaves generated to estimate the Bayes accuracy of a tree
BAYES_TREES = 2**17  # at most this many trees (the estimate's SD is then below 0.0014)
CHANNELS = ("symmetric", "silent")
BP_ELEMENTS = 2**24  # float64 elements of one belief-propagation pass's [n, nodes, q, q]


def channel_matrix(q: int, channel: str, eps: float) -> torch.Tensor:
    """The transition matrix ``M`` ``[q, q]`` float64, ``M[a, b] = P(child b | parent a)``.

    - ``symmetric`` (the Potts channel): the child copies its parent with probability
      ``1 - eps``, else takes one of the other ``q - 1`` symbols uniformly; for q = 2
      a binary symmetric channel flipping with probability ``eps``. Its second
      eigenvalue is ``1 - eps q / (q - 1)``.
    - ``silent`` (q >= 3): ``(1 - eps) (U + N) + eps U``, ``U`` uniform (every entry
      1/q) and ``N = (1 / 2q) u v^T`` with ``u = e_0 - e_1``, ``v = e_0 + e_1 - 2 e_2``:
      row 0 is ``(3, 3, 0, 2, ...) / 2q``, row 1 ``(1, 1, 4, 2, ...) / 2q``, the others
      uniform. ``N`` is nilpotent (``v . u = 0``) with zero row and column sums, so every
      eigenvalue but 1 is 0 and ``M^2 = U``: a node's symbol is independent of its
      grandparent's, though one edge is informative. From L = 2 on, each leaf's
      distribution is uniform whatever the root, so every linear statistic of the
      one-hot leaves has the same mean for every root; siblings' joint symbols still
      carry the root (Mossel 2001, "Reconstruction on trees: beating the second
      eigenvalue").
    """
    uniform = torch.full((q, q), 1.0 / q, dtype=torch.float64)
    if channel == "symmetric":
        m = torch.full((q, q), eps / (q - 1), dtype=torch.float64)
        return m.fill_diagonal_(1 - eps)
    u = torch.zeros(q, dtype=torch.float64)
    v = torch.zeros(q, dtype=torch.float64)
    u[0], u[1] = 1.0, -1.0
    v[0], v[1], v[2] = 1.0, 1.0, -2.0
    return (1 - eps) * (uniform + torch.outer(u, v) / (2 * q)) + eps * uniform


class Broadcast(Task):
    """A root symbol uniform on {0, ..., q-1}; each node has ``s`` children, each drawn
    from the channel's row of its parent (:func:`channel_matrix`); the ``s^L`` leaves
    are the input and the root is the class.

    Inputs: for q = 2 the leaves as +-1 (``x = 2 symbol - 1``), ``[N, s^L]``; for
    q >= 3 one-hot, ``x`` ``[N, q, s^L]`` flattened channel-major (``input_shape``).
    The Bayes posterior of the root is computed per sample by belief propagation up
    the tree (:meth:`root_log_posterior`). Theory: ``bayes_accuracy``, exact for a
    binary chain (s = 1, q = 2), ``(1 + (1 - 2 eps)^L) / 2``, otherwise estimated on a
    fixed large sample; ``kesten_stigum`` ``s lambda_2^2``: counting statistics of the
    leaves beat chance at large L iff it exceeds 1 (Mossel 2016); the ``silent``
    channel has ``lambda_2 = 0``.
    """

    family = "broadcast"
    eps_scale = "bayes"  # eps is read against the Bayes error, which every row stores
    labels = "noisy: the root's symbol, seen through the channel's copies at the leaves"

    def __init__(
        self, s: int = 2, L: int = 6, eps: float = 0.1, q: int = 2, channel: str = "symmetric"
    ) -> None:
        self.s = check_int("task.s", s, 1, 16)
        self.L = check_int("task.L", L, 1, 64)
        self.q = check_int("task.q", q, 2, 16)
        self.channel = check_choice("task.channel", channel, CHANNELS)
        self.eps = check_float("task.eps", eps)
        if not 0 < self.eps < 1 - 1 / self.q:
            raise ConfigError(
                "task.eps", f"must be in (0, {1 - 1 / self.q:g}) for q = {self.q}, got {self.eps}"
            )
        if self.channel == "silent" and self.q < 3:
            raise ConfigError("task.q", f"must be at least 3 for the silent channel, got {q}")
        if self.s**self.L * self.q > 8192:
            raise ConfigError(
                "task.L", f"q s^L = {self.q * self.s**self.L} inputs; at most 8192 allowed"
            )
        self.kind, self.n_classes = "classification", self.q
        self.input_dim = self.s**self.L * (1 if self.q == 2 else self.q)
        self.matrix = channel_matrix(self.q, self.channel, self.eps)

    @property
    def input_shape(self) -> tuple[int, int]:
        """``(1, s^L)`` for q = 2 (+-1 leaves), ``(q, s^L)`` one-hot otherwise."""
        return (1 if self.q == 2 else self.q, self.s**self.L)

    def theory(self) -> dict[str, float]:
        """The Bayes accuracy and the Kesten-Stigum quantity ``s lambda_2^2``."""
        eigen = torch.linalg.eigvals(self.matrix).abs().sort(descending=True).values
        return {
            "bayes_accuracy": self.bayes_accuracy,
            "kesten_stigum": round(self.s * float(eigen[1]) ** 2, 12),  # 0, not 1e-16
        }

    @functools.cached_property
    def bayes_accuracy(self) -> float:
        """Exact for a binary chain, else estimated on a fixed sample of about 2^22 leaves
        (1024 to 2^17 trees)."""
        if self.s == 1 and self.q == 2:
            return (1 + (1 - 2 * self.eps) ** self.L) / 2
        n = min(BAYES_TREES, max(1024, BAYES_SAMPLES // self.s**self.L))
        seed = derive_seed("broadcast-bayes", self.s, self.L, self.eps, self.q, self.channel)
        x, _ = self.sample(n, seed)
        return self.root_log_posterior(x).exp().max(-1).values.mean().item()  # E[P(correct|x)]

    def sample(
        self, num_samples: int, seed: int, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` ``[num_samples, input_dim]`` (see the class doc); ``y`` int64 root symbol."""
        g = generator(seed, device)
        cumulative = self.matrix.float().cumsum(1).to(g.device)
        cumulative[:, -1] = 2.0  # no draw falls past the last symbol through rounding
        root = torch.randint(self.q, (num_samples, 1), generator=g, device=g.device)
        node = root
        for _ in range(self.L):
            node = node.repeat_interleave(self.s, dim=1)
            u = torch.rand(node.shape, generator=g, device=g.device)
            node = (u.unsqueeze(-1) >= cumulative[node]).sum(-1)
        return self.encode(node), root[:, 0]

    def encode(self, leaves: torch.Tensor) -> torch.Tensor:
        """Leaf symbols ``[N, s^L]`` int64 -> ``x`` ``[N, input_dim]`` float32."""
        if self.q == 2:
            return (2 * leaves - 1).float()
        one_hot = torch.nn.functional.one_hot(leaves, self.q).float()  # [N, s^L, q]
        return one_hot.transpose(1, 2).reshape(len(leaves), -1)

    def leaves(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``[N, input_dim]`` -> leaf symbols ``[N, s^L]`` int64 (:meth:`encode` undone)."""
        if self.q == 2:
            return (x > 0).long()
        return x.view(len(x), self.q, -1).argmax(1)

    def root_log_posterior(self, x: torch.Tensor) -> torch.Tensor:
        """log P(root = a | x) by belief propagation, ``[N, input_dim]`` -> ``[N, q]``.

        A node's log-likelihood vector ``h[a] = log P(its leaves | node = a)`` is the sum
        over its children of ``log sum_b M[a, b] exp(h_child[b])``; a leaf observed as
        symbol ``b`` has ``h = log 1[a = b]``. The root's posterior adds the uniform prior
        and normalises. float64, in chunks of samples of at most :data:`BP_ELEMENTS`.
        """
        log_m = self.matrix.log().to(x.device)  # [q, q]
        parts = []
        chunk_size = max(1, BP_ELEMENTS // (self.s**self.L * self.q * self.q))
        for chunk in self.leaves(x).split(chunk_size):
            h = torch.full(
                (*chunk.shape, self.q), float("-inf"), dtype=torch.float64, device=x.device
            )
            h.scatter_(-1, chunk.unsqueeze(-1), 0.0)  # [n, s^L, q]
            for _ in range(self.L):
                message = torch.logsumexp(log_m + h.unsqueeze(-2), dim=-1)  # [n, nodes, q]
                h = message.view(len(chunk), -1, self.s, self.q).sum(2)  # one level up
            parts.append(torch.log_softmax(h[:, 0], dim=-1))
        return torch.cat(parts)

    def bayes_metric(self, x: torch.Tensor, y: torch.Tensor) -> float:
        """Error rate of the Bayes-optimal classifier (the root's posterior mode) on ``(x, y)``."""
        return (self.root_log_posterior(x).argmax(-1) != y).float().mean().item()

    def rules(self) -> dict[str, Callable[[torch.Tensor], torch.Tensor]]:
        """``majority``: the most frequent leaf symbol (ties to the smallest; for q = 2,
        :func:`majority`). Through the symmetric channel it beats chance at large L
        exactly where counting statistics do, ``s lambda_2^2 > 1`` (Mossel 2016), though
        its error can sit above the Bayes error; through the silent channel it is at
        chance from L = 2."""
        if self.q == 2:
            return {"majority": majority}
        return {"majority": lambda x: x.view(len(x), self.q, -1).sum(-1).argmax(-1)}


def majority(x: torch.Tensor) -> torch.Tensor:
    """Majority vote of the leaves ``x`` ``[N, s^L]`` in {-1, +1} -> class int64 ``[N]``:
    1 where the leaves sum to ``>= 0`` (ties to class 1, the root +1), else 0."""
    return (x.sum(1) >= 0).long()
