"""The result schema: every column a stored row has, its type and its group, declared
once here for the writer (:mod:`depthbench.results`, which checks each file against
it), the row constructors (:mod:`depthbench.rows`) and the readers
(:mod:`depthbench.analysis`, :mod:`depthbench.report`).

Besides the fixed columns below a row has open families of columns: ``task.<param>``
(the task's parameters), ``model.<param>`` (the model's hyper-parameters) and
``theory.<key>`` (what the task's theory states; :data:`SHALLOW_NEURONS`,
:data:`DEEP_NEURONS` and :data:`P_STAR` are the keys the report reads).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

# 2: the chance column; 3: validation split, schedules, loss curves, baselines, eps;
# 4: the best-effort fit (status refit, protocol, base_run_id) and the constructions'
# basins (status basin); 5: what the labels are (``labels``) and the regime the
# experiment declares (``regime``); 6: one sample's forward FLOPs (``forward_flops``)
SCHEMA_VERSION = 6
#: ``labels`` of a family that does not say otherwise (:attr:`depthbench.tasks.Task.labels`)
NOISE_FREE = "noise-free: y is a function of x"
#: ``labels`` by family where it is not :data:`NOISE_FREE`, as every family that existed
#: before version 5 stated it (tests/test_task_theory.py checks them against the families)
LABELS_BEFORE_5 = {
    "broadcast": "noisy: the root's symbol, seen through the channel's copies at the leaves"
}


def labels_before_5(rows: Any) -> Any:
    """``labels`` of rows written before version 5, from their ``task``."""
    return rows["task"].map(lambda family: LABELS_BEFORE_5.get(family, NOISE_FREE))


def forward_flops_before_6(rows: Any) -> Any:
    """``forward_flops`` of rows written before version 6: ``2 n_params`` for a model
    that uses each parameter once per sample (every family then but the weight-shared
    tree, :meth:`~depthbench.models.BatchedModel.count_flops`), null for the shared tree
    (its input shape is not stored) and where no parameter was counted (rules)."""
    flops = 2.0 * rows["n_params"].astype(float)
    counted = flops > 0
    if "model.shared" in rows:
        counted &= ~rows["model.shared"].eq(True)
    return flops.where(counted)


#: the columns the functions in :data:`UPGRADES` read
UPGRADE_READS = ("task", "n_params", "model.shared")
_SINCE_5 = {"forward_flops": forward_flops_before_6}
_SINCE_4 = {"labels": labels_before_5, "regime": None, **_SINCE_5}
#: older versions whose files read as this one: per version, the columns added since
#: and their value in rows written before them (a function of the rows, reading only
#: :data:`UPGRADE_READS`, or a constant)
UPGRADES: dict[int, dict[str, Any]] = {
    3: {"protocol": "default", "base_run_id": None, **_SINCE_4},
    4: _SINCE_4,
    5: _SINCE_5,
}
STATUSES = ("ok", "diverged", "infeasible", "constructed", "baseline", "refit", "basin")
#: status of a construction perturbed by noise and polished (:mod:`depthbench.basin`)
BASIN = "basin"
#: statuses of rows no optimiser trained from a random start: a task's, not a model's
UNTRAINED = ("constructed", "baseline", "basin")
#: ``protocol`` of a row trained as the experiment configures (not a refit stage)
DEFAULT_PROTOCOL = "default"
#: the columns that say how a model was trained: rows of one cell that differ in any
#: of them are different experiments, never replicates of one (``steps`` aside where a
#: stop loss ends members early: then it counts the steps each took)
PROTOCOL_KEYS = (
    "steps",
    "batch_size",
    "schedule",
    "n_val",
    "n_test",
    "train.optimizer",
    "train.momentum",
    "train.weight_decay",
    "train.stop_loss",
    "train.tf32",
)
PREFIXES = ("task.", "model.", "theory.")
#: a row's ``n_params`` is within this fraction of its ``budget`` (a width that cannot
#: meet it makes the run ``infeasible``)
BUDGET_TOLERANCE = 0.10

#: the theory keys the report reads (columns ``theory.<key>``): hidden neurons (ReLU
#: units for piecewise-linear constructions) that a one-hidden-layer and a deep network
#: need by the family's theorem, and the training-set size a deep network learns from
SHALLOW_NEURONS, DEEP_NEURONS, P_STAR = "shallow_neurons", "deep_neurons", "P_star"


def basin_protocol(noise: float, iterations: int) -> str:
    """The ``protocol`` of a :data:`BASIN` row: what was done to the construction."""
    return f"construction + noise {noise:g} x layer RMS + float64 L-BFGS ({iterations} iterations)"


def basin_noise(protocol: str) -> float:
    """The noise scale a :data:`BASIN` row's ``protocol`` names (:func:`basin_protocol`)."""
    found = re.match(r"^construction \+ noise ([0-9.e+-]+) x layer RMS \+ ", protocol)
    if found is None:
        raise ValueError(f"not a basin protocol: {protocol!r}")
    return float(found.group(1))


def theory_column(key: str) -> str:
    """The column of a family's theory value ``key``."""
    return f"theory.{key}"


@dataclass(frozen=True)
class Column:
    """One fixed column: its Arrow type, whether it may be missing (null), its group."""

    name: str
    type: pa.DataType
    group: str
    nullable: bool = False


STRING, INT, FLOAT, BOOL = pa.string(), pa.int64(), pa.float64(), pa.bool_()
_IDENTITY = [
    ("task", STRING, False),
    ("model", STRING, False),
    ("depth", INT, False),
    ("width", INT, True),
    ("budget", INT, True),
    ("n_params", INT, True),
    ("n_hidden", INT, True),
    ("scale", FLOAT, False),
    ("ridge", FLOAT, False),
    ("n_train", INT, True),
    ("n_val", INT, False),
    ("n_test", INT, False),
    ("seed", INT, True),
    ("lr", FLOAT, False),
    ("schedule", STRING, True),
    ("batch_size", INT, True),
    ("data_seed", INT, False),
    ("protocol", STRING, False),
    ("base_run_id", STRING, True),
]
_OUTCOME = [
    ("train_loss", FLOAT, False),
    ("val_loss", FLOAT, False),
    ("val_metric", FLOAT, False),
    ("test_loss", FLOAT, False),
    ("test_metric", FLOAT, False),
    ("bayes_metric", FLOAT, False),
    ("chance", FLOAT, False),
    ("status", STRING, False),
    ("reason", STRING, True),
    ("steps", INT, False),
    ("converged", BOOL, True),
    ("loss_steps", pa.list_(INT), True),
    ("loss_curve", pa.list_(FLOAT), True),
    ("eps", STRING, False),
    ("eps_scale", STRING, False),
    ("labels", STRING, False),
    ("regime", STRING, True),
]
_COST = [
    ("train_time_s", FLOAT, False),
    ("eval_time_s", FLOAT, False),
    ("flops", FLOAT, False),
    ("forward_flops", FLOAT, True),
    ("group_size", INT, False),
]
_PROVENANCE = [
    ("cell_id", STRING, False),
    ("run_id", STRING, False),
    ("schema_version", INT, False),
    ("git_sha", STRING, False),
    ("git_dirty", BOOL, True),
    ("package_version", STRING, False),
    ("torch_version", STRING, False),
    ("python_version", STRING, False),
    ("device", STRING, False),
    ("device_name", STRING, False),
    ("created_at", STRING, False),
    ("train.tf32", BOOL, False),
    ("torch_threads", INT, False),
]
SCHEMA: tuple[Column, ...] = tuple(
    Column(name, kind, group, nullable)
    for group, columns in (
        ("identity", _IDENTITY),
        ("outcome", _OUTCOME),
        ("cost", _COST),
        ("provenance", _PROVENANCE),
    )
    for name, kind, nullable in columns
)


def group(name: str) -> list[str]:
    """The fixed columns of one group: identity, outcome, cost or provenance."""
    return [c.name for c in SCHEMA if c.group == name]


IDENTITY, OUTCOME, COST, PROVENANCE = (
    group(g) for g in ("identity", "outcome", "cost", "provenance")
)
COLUMNS = [c.name for c in SCHEMA]


def _same_type(found: pa.DataType, declared: pa.DataType) -> bool:
    if pa.types.is_string(declared):
        return pa.types.is_string(found) or pa.types.is_large_string(found)
    if pa.types.is_list(declared):
        return (pa.types.is_list(found) or pa.types.is_large_list(found)) and _same_type(
            found.value_type, declared.value_type
        )
    return found == declared


def check(schema: pa.Schema) -> None:
    """Raise ``ValueError`` naming the first fixed column that is missing or of another
    type than declared (a column that is null throughout passes where it may be null),
    or a ``task.``/``model.``/``theory.`` column that is not a scalar."""
    for column in SCHEMA:
        if column.name not in schema.names:
            raise ValueError(f"rows lack result column {column.name!r}")
        found = schema.field(column.name).type
        if pa.types.is_null(found) and column.nullable:
            continue
        if not _same_type(found, column.type):
            raise ValueError(
                f"result column {column.name!r} is {found}, declared {column.type}"
                + (" (nullable)" if column.nullable else "")
            )
    for field in schema:
        if field.name.startswith(PREFIXES) and pa.types.is_nested(field.type):
            raise ValueError(
                f"result column {field.name!r} is {field.type}; task, model and "
                "theory columns hold scalars"
            )
