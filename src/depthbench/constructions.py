"""The networks the theorems construct, built explicitly and evaluated like trained ones.

Each construction is a dense network given layer by layer, ``[(W [in, out], b [out]),
...]`` with an activation after every hidden layer and a linear output (docs/science.md,
"Constructed networks"). Smooth constructions are exact only as their scale
``lambda -> 0``; :func:`builders` pick lambda on a validation draw, so the float32
error sits near its floor (truncation ~ lambda^2, rounding ~ 1 / lambda^k).

Smooth gates use softplus, whose sigma'(0) = 1/2 and sigma''(0) = 1/4 are non-zero
(Lin, Tegmark & Rolnick 2017, Eq. 11):

    u v ~= [s(l(u+v)) + s(-l(u+v)) - s(l(u-v)) - s(-l(u-v))] / (4 l^2 s''(0))  (4 neurons)
    u^2 ~= [s(2 l u) + s(-2 l u) - 2 s(0)] / (4 l^2 s''(0))                    (2 neurons)
    u   ~= [s(l u) - s(-l u)] / (2 l s'(0))                                     (2 neurons)
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from depthbench import metrics
from depthbench.models import ACTIVATIONS

Layers = list[tuple[torch.Tensor, torch.Tensor]]
SCALES = torch.logspace(-3, 0, 61).tolist()  # lambda grid searched by `build`
SHIFTS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0)  # softplus bias shifts tried by the shallow product


@dataclass(frozen=True)
class Construction:
    """An explicit network: ``layers`` with ``activation`` between them.

    ``n_hidden`` counts hidden neurons (what the theorems count); ``n_params`` the
    weights and biases of the dense layers (comparable with a trained MLP's).
    """

    name: str
    layers: Layers
    activation: str  # a key of depthbench.models.ACTIVATIONS
    scale: float = float("nan")

    @property
    def depth(self) -> int:
        return len(self.layers) - 1

    @property
    def widths(self) -> list[int]:
        return [w.shape[1] for w, _ in self.layers[:-1]]

    @property
    def n_hidden(self) -> int:
        return sum(self.widths)

    @property
    def n_params(self) -> int:
        return sum(w.numel() + b.numel() for w, b in self.layers)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``[N, input_dim]`` -> ``[N, output_dim]`` in the dtype of ``x``."""
        h = x
        for i, (w, b) in enumerate(self.layers):
            h = h @ w.to(h) + b.to(h)
            if i < self.depth:
                h = ACTIVATIONS[self.activation](h)
        return h


# ------------------------------------------------------------------ smooth programs
# A program is a list of layers; each layer maps the current registers (values the
# network holds) to new ones by gates: ("mul", a, b), ("square", a), ("carry", a).

Gate = tuple
GATE_NEURONS = {"mul": 4, "square": 2, "carry": 2}


def compile_program(program: list[list[Gate]], n_inputs: int, scale: float) -> Construction:
    """Turn a gate program into dense layers (softplus, scale ``lambda``).

    Register values are linear read-outs of the previous layer's neurons; they are
    folded into the next layer's weights, so each gate layer is one hidden layer.
    """
    s1, s2, s0 = 0.5, 0.25, math.log(2.0)  # softplus'(0), softplus''(0), softplus(0)
    lam = scale
    read = torch.eye(n_inputs, dtype=torch.float64)  # registers = inputs @ read + offset
    offset = torch.zeros(n_inputs, dtype=torch.float64)
    layers: Layers = []
    for gates in program:
        neurons_in: list[torch.Tensor] = []
        width = sum(GATE_NEURONS[g[0]] for g in gates)
        out_read = torch.zeros(width, len(gates), dtype=torch.float64)
        out_offset = torch.zeros(len(gates), dtype=torch.float64)
        col = 0
        for r, (kind, *args) in enumerate(gates):
            a = args[0]
            b = args[1] if kind == "mul" else a
            ea = torch.zeros(read.shape[1], dtype=torch.float64)
            eb = torch.zeros(read.shape[1], dtype=torch.float64)
            ea[a], eb[b] = 1.0, 1.0
            if kind == "mul":  # s(l(u+v)) + s(-l(u+v)) - s(l(u-v)) - s(-l(u-v))
                dirs, coef = [ea + eb, -ea - eb, ea - eb, eb - ea], [1, 1, -1, -1]
                norm = 4 * lam**2 * s2
            elif kind == "square":  # s(2lu) + s(-2lu) - 2 s(0)
                dirs, coef = [2 * ea, -2 * ea], [1, 1]
                norm = 4 * lam**2 * s2
                out_offset[r] -= 2 * s0 / norm
            else:  # carry: s(lu) - s(-lu)
                dirs, coef = [ea, -ea], [1, -1]
                norm = 2 * lam * s1
            for d, c in zip(dirs, coef):
                neurons_in.append(lam * d)
                out_read[col, r] = c / norm
                col += 1
        direction = torch.stack(neurons_in, dim=1)  # [registers, width]
        layers.append((read @ direction, offset @ direction))
        read, offset = out_read, out_offset
    layers.append((read, offset))  # linear output of the last registers
    return Construction("", [(w.float(), b.float()) for w, b in layers], "softplus", scale)


def product_program(n: int) -> list[list[Gate]]:
    """A balanced binary tree of multiplication gates over ``n`` registers; an odd
    register is carried to the next layer. 4(n-1) neurons when n is a power of 2."""
    program, registers = [], n
    while registers > 1:
        gates: list[Gate] = [("mul", 2 * i, 2 * i + 1) for i in range(registers // 2)]
        if registers % 2:
            gates.append(("carry", registers - 1))
        program.append(gates)
        registers = len(gates)
    return program


def power_program(d: int) -> list[list[Gate]]:
    """x^d from one register by binary exponentiation (Lin, Tegmark & Rolnick 2017,
    App. A): each bit below the top squares p = x^(2^j) and multiplies it into the
    accumulator (or carries), at most 6 neurons a layer; a final multiply joins the
    accumulator and p. ``ceil(log2 d)`` layers, within the 7 ceil(log2 d) bound."""
    bits = [int(b) for b in reversed(f"{d:b}")]
    program: list[list[Gate]] = []
    regs = {"p": 0}  # register name -> index in the current layer
    for bit in bits[:-1]:
        gates: list[Gate] = []
        names = []
        if "acc" in regs:
            gates.append(("mul", regs["acc"], regs["p"]) if bit else ("carry", regs["acc"]))
            names.append("acc")
        elif bit:
            gates.append(("carry", regs["p"]))
            names.append("acc")
        gates.append(("square", regs["p"]))
        names.append("p")
        program.append(gates)
        regs = {name: i for i, name in enumerate(names)}
    if "acc" in regs:
        program.append([("mul", regs["acc"], regs["p"])])
    return program


def parallel(programs: list[list[list[Gate]]]) -> list[list[Gate]]:
    """Run single-register programs side by side (register i feeds program i); a
    program that ends early carries its result, so all end in the same layer."""
    depth = max(len(p) for p in programs)
    layers = []
    for layer in range(depth):
        gates: list[Gate] = []
        for i, program in enumerate(programs):
            own = program[layer] if layer < len(program) else [("carry", 0)]
            gates += [
                (kind, *(i + a if layer == 0 else _shift(programs, layer, i) + a for a in args))
                for kind, *args in own
            ]
        layers.append(gates)
    return layers


def _shift(programs: list[list[list[Gate]]], layer: int, i: int) -> int:
    """Index of program ``i``'s first register in the registers entering ``layer``."""

    def width(program: list[list[Gate]]) -> int:
        return len(program[layer - 1]) if layer - 1 < len(program) else 1

    return sum(width(p) for p in programs[:i])


def monomial_program(exponents: list[int]) -> list[list[Gate]]:
    """prod x_i^r_i: the powers in parallel, then a product tree of their results."""
    powers = [power_program(r) for r in exponents]
    head = parallel(powers) if any(powers) else []
    return head + product_program(len(exponents))


@functools.cache
def softplus_derivative(order: int, at: float) -> float:
    """sigma^(order)(at) for softplus, by repeated autograd in float64."""
    x = torch.tensor(at, dtype=torch.float64, requires_grad=True)
    y = torch.nn.functional.softplus(x)
    for _ in range(order):
        (y,) = torch.autograd.grad(y, x, create_graph=True)
    return y.item()


@functools.cache
def _signs(n: int) -> torch.Tensor:
    """All of {-1, 1}^n, ``[2^n, n]`` float64."""
    return torch.tensor(list(itertools.product([-1.0, 1.0], repeat=n)), dtype=torch.float64)


def shallow_product(n: int, scale: float, shift: float) -> Construction:
    """prod x_i ~= sum_s (prod s_i) sigma(l s.x + beta) / (2^n l^n sigma^(n)(beta)),
    s over {-1, 1}^n: one hidden layer of 2^n neurons (Lin, Tegmark & Rolnick 2017,
    Eq. 12, with the bias ``beta`` shifted so that sigma^(n)(beta) != 0)."""
    signs = _signs(n)
    norm = 2**n * scale**n * softplus_derivative(n, shift)
    hidden = (scale * signs.T, torch.full((2**n,), shift, dtype=torch.float64))
    out = (signs.prod(1, keepdim=True) / norm, torch.zeros(1, dtype=torch.float64))
    layers = [(w.float(), b.float()) for w, b in (hidden, out)]
    return Construction("shallow_product", layers, "softplus", scale)


def deep_sawtooth(k: int) -> Construction:
    """T^k exactly: k layers of 2 ReLUs, relu(z) and relu(z - 1/2), z' = 2 h1 - 4 h2
    (Telgarsky 2016, Lemma 2.4)."""
    first = (torch.tensor([[1.0, 1.0]]), torch.tensor([0.0, -0.5]))
    fold = torch.tensor([[2.0], [-4.0]])
    middle = (fold @ first[0], first[1])
    layers = [first] + [middle] * (k - 1) + [(fold, torch.zeros(1))]
    return Construction("deep_sawtooth", layers, "relu")


def shallow_sawtooth(k: int) -> Construction:
    """T^k exactly on [0, 1] with one hidden layer: relu(x - i/2^k), i = 0..2^k-1, the
    output weights the slope changes +-2^(k+1) (2^k units: one more than the 2^k - 1
    breakpoints, for the first piece's slope)."""
    units = 2**k
    knots = torch.arange(units, dtype=torch.float64) / units
    slopes = units * (-1.0) ** torch.arange(units, dtype=torch.float64)
    change = torch.cat([slopes[:1], slopes[1:] - slopes[:-1]])
    layers = [(torch.ones(1, units), (-knots).float()), (change.float()[:, None], torch.zeros(1))]
    return Construction("shallow_sawtooth", layers, "relu")


#: the largest float32 below 1/2, 1/2 - 2^-25: the class-1 logit's offset
BELOW_HALF = torch.nextafter(torch.tensor(0.5), torch.tensor(0.0)).item()


def _as_classifier(c: Construction) -> Construction:
    """Two logits ``[1/2 - f, f - p]`` from a network f, ``p`` = :data:`BELOW_HALF`:
    class 1 (their argmax) iff f >= 1/2, the sawtooth task's rule ``1[T^k(x) >= 1/2]``
    ties included.

    The symmetric pair ``[1/2 - f, f - 1/2]`` tied at f = 1/2 exactly, and argmax
    gives a tie to the first class, 0 (:func:`depthbench.metrics.predictions`); at a
    midpoint of the sawtooth T^k(x) is 1/2 exactly, so the exact networks erred there.
    Offsetting the class-1 logit by ``1/2 - p = 2^-25`` moves the logits' threshold to
    ``1/2 - 2^-26``, strictly between 1/2 and the float32 ``p`` below it: for a float32
    f (the networks' weights, and how a job evaluates them) f = 1/2 now gives logits
    ``[0, 2^-25]``, class 1, f = p gives ``[2^-25, 0]``, class 0, and every other f the
    class it had. (Exact where f's last layer has no bias, as both sawtooth networks';
    evaluated in float64, an f in ``(1/2 - 2^-26, 1/2)`` would also go to class 1.)
    """
    w, b = c.layers[-1]
    out = (torch.cat([-w, w], dim=1), torch.cat([-b + 0.5, b - BELOW_HALF]))
    return Construction(c.name, [*c.layers[:-1], out], c.activation, c.scale)


def _error(kind: str, c: Construction, x: torch.Tensor, y: torch.Tensor) -> float:
    """test_metric on ``(x, y)``, +inf when not finite (a zero derivative, overflow)."""
    err = metrics.output_metric(kind, c(x), y).item()
    return err if math.isfinite(err) else math.inf


def _smooth(
    name: str, make: Callable[[float], Construction], kind: str, x: torch.Tensor, y: torch.Tensor
) -> Construction:
    """The construction whose scale lambda (from :data:`SCALES`) fits ``(x, y)`` best."""
    best = min((make(scale) for scale in SCALES), key=lambda c: _error(kind, c, x, y))
    return Construction(name, best.layers, best.activation, best.scale)


Builder = Callable[[torch.Tensor, torch.Tensor], Construction]


def _fixed(c: Construction) -> Builder:
    """The builder of a construction that needs no draw: ``c`` whatever ``(x, y)``."""
    return lambda x, y: c


MAX_NEURONS = 4096  # shallow constructions wider than this are left out


def for_monomial(family: str, exponents: list[int], max_neurons: int) -> dict[str, Builder]:
    """The deep network of a ``product``, ``power`` or ``monomial`` task with these
    ``exponents`` (Lin, Tegmark & Rolnick 2017), and for ``product`` the shallow one
    with ``2^n`` neurons when it fits ``max_neurons``; each picks lambda on the
    validation draw ``(x, y)`` it is built from."""
    n = len(exponents)
    if family == "product":
        program, name = product_program(n), "deep_product"
    elif family == "power":
        program, name = power_program(exponents[0]), "deep_power"
    else:
        program, name = monomial_program(exponents), "deep_monomial"
    found = {
        name: lambda x, y: _smooth(
            name, lambda s: compile_program(program, n, s), "regression", x, y
        )
    }
    if family == "product" and 2**n <= max_neurons:
        found["shallow_product"] = lambda x, y: min(
            (
                _smooth(
                    "shallow_product",
                    functools.partial(shallow_product, n, shift=b),  # make(scale)
                    "regression",
                    x,
                    y,
                )
                for b in SHIFTS
            ),
            key=lambda c: _error("regression", c, x, y),
        )
    return found


def for_sawtooth(k: int, kind: str, max_neurons: int) -> dict[str, Builder]:
    """Telgarsky's exact deep (2k ReLU units) and shallow (2^k) networks for the k-fold
    tent map, as classifiers for a classification ``kind``; they need no draw."""
    exact = {"deep_sawtooth": deep_sawtooth(k)}
    if 2**k <= max_neurons:
        exact["shallow_sawtooth"] = shallow_sawtooth(k)
    if kind == "classification":
        exact = {k: _as_classifier(c) for k, c in exact.items()}
    return {k: _fixed(c) for k, c in exact.items()}
