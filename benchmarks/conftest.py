"""``--bench-device``: the device the benchmarks train on (``cpu``, the default, or ``cuda``)."""

import pytest
import torch


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--bench-device",
        default="cpu",
        choices=("cpu", "cuda"),
        help="device the performance benchmarks run on (default: cpu)",
    )


@pytest.fixture(scope="session")
def device(request: pytest.FixtureRequest) -> torch.device:
    name = request.config.getoption("--bench-device")
    if name == "cuda" and not torch.cuda.is_available():
        pytest.exit("--bench-device cuda: no CUDA device is visible", returncode=2)
    return torch.device(name)
