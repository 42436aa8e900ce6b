"""Eldan & Shamir's hard input law (COLT 2016, arXiv 1512.03965, Sec. 3): density
``phi^2`` on R^d, where ``phi`` is the Fourier transform of the indicator of the ball of
unit volume,

    phi(x) = (R_d / |x|)^(d/2) J_{d/2}(2 pi R_d |x|),   R_d = Gamma(d/2 + 1)^(1/d) / sqrt(pi),

so that ``int phi^2 = vol(ball) = 1`` (Parseval). The law is radial: the direction is
uniform and the radius r has density ``S_{d-1} r^(d-1) phi(r)^2``, ``S_{d-1} = 2 pi^(d/2) /
Gamma(d/2)``. The radius is drawn by inverting its distribution function, tabulated on
``[0, TAIL sqrt(d)]``; the mass beyond (about ``S_{d-1} R_d^(d-1) / (2 pi^2 r_max)``, from
``J_nu(z)^2 ~ 2 cos^2(.) / (pi z)``) is left out and stated by :func:`tail_mass`.
"""

from __future__ import annotations

import functools
import math

import torch

TAIL = 10.0  # the radius table ends at TAIL sqrt(d)
POINTS = 2**15  # radii tabulated
ANGLES = 4096  # quadrature nodes of Bessel's integral


def bessel_j(n: int, z: torch.Tensor) -> torch.Tensor:
    """J_n(z) for integer ``n`` by Bessel's integral ``(1/pi) int_0^pi cos(n t - z sin t) dt``
    (trapezoid rule on :data:`ANGLES` nodes: exact to about 1e-10 while ``z`` stays well
    below that count). ``z`` float64 ``[N]`` -> ``[N]``."""
    t = torch.linspace(0, math.pi, ANGLES, dtype=torch.float64)
    parts = [
        torch.trapezoid(torch.cos(n * t - chunk[:, None] * torch.sin(t)), t, dim=1) / math.pi
        for chunk in z.split(2048)
    ]
    return torch.cat(parts)


def unit_ball_radius(d: int) -> float:
    """R_d: the radius of the ball of volume 1 in R^d."""
    return math.exp(math.lgamma(d / 2 + 1) / d) / math.sqrt(math.pi)


def sphere_area(d: int) -> float:
    """S_{d-1} = 2 pi^(d/2) / Gamma(d/2), the area of the unit sphere in R^d."""
    return 2 * math.exp(d / 2 * math.log(math.pi) - math.lgamma(d / 2))


def radial_density(d: int, r: torch.Tensor) -> torch.Tensor:
    """The density of |x| at ``r`` ``[N]`` (float64, r > 0): ``S_{d-1} r^(d-1) phi(r)^2
    = S_{d-1} R_d^d J_{d/2}(2 pi R_d r)^2 / r``; ``d`` even."""
    rd = unit_ball_radius(d)
    return sphere_area(d) * rd**d * bessel_j(d // 2, 2 * math.pi * rd * r).square() / r


def tail_mass(d: int) -> float:
    """The mass of |x| beyond the table's end, ``TAIL sqrt(d)`` (asymptotic form)."""
    rd = unit_ball_radius(d)
    return sphere_area(d) * rd ** (d - 1) / (2 * math.pi**2 * TAIL * math.sqrt(d))


@functools.lru_cache(maxsize=8)
def radius_table(d: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(r, F)`` float64 ``[POINTS]``: radii and the distribution function of |x|
    renormalised over the table (``F[-1] = 1``)."""
    r = torch.linspace(0, TAIL * math.sqrt(d), POINTS, dtype=torch.float64)
    density = torch.zeros_like(r)
    density[1:] = radial_density(d, r[1:])  # r^(d-1) phi^2 -> 0 at r = 0 for d >= 2
    cdf = torch.cat([torch.zeros(1, dtype=torch.float64), torch.cumulative_trapezoid(density, r)])
    return r, cdf / cdf[-1]


def _interp(x: torch.Tensor, xp: torch.Tensor, fp: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear interpolation of ``fp`` over increasing ``xp`` at ``x`` (float64)."""
    i = torch.searchsorted(xp, x.clamp(xp[0], xp[-1])).clamp(1, len(xp) - 1)
    share = (x - xp[i - 1]) / (xp[i] - xp[i - 1]).clamp_min(1e-300)
    return fp[i - 1] + share.clamp(0, 1) * (fp[i] - fp[i - 1])


def mass(d: int, low: float, high: float) -> float:
    """P(low <= |x| <= high) under the (tabulated) law."""
    r, cdf = radius_table(d)
    at = _interp(torch.tensor([low, high], dtype=torch.float64), r, cdf)
    return float(at[1] - at[0])


def sample(num_samples: int, d: int, g: torch.Generator) -> torch.Tensor:
    """``[num_samples, d]`` float32 draws: Gaussian directions scaled to radii drawn by
    inverting the tabulated distribution function (linear interpolation)."""
    r, cdf = radius_table(d)
    direction = torch.randn(num_samples, d, generator=g, device=g.device)
    direction = direction / direction.norm(dim=1, keepdim=True)
    u = torch.rand(num_samples, generator=g, device=g.device, dtype=torch.float64).cpu()
    radius = _interp(u, cdf, r)
    return direction * radius.float().to(direction.device)[:, None]
