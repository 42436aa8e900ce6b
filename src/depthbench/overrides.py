"""``depthbench run`` arguments read before Hydra runs them.

What Hydra answers with a traceback or a misleading hint is answered here in one line
with the closest match: an argparse-style flag (``--experiment quick``, which Hydra
reads as ``--experimental-rerun``), an option no config group holds
(``experiment=quik``) and a key no config holds (``train.lr``, for which Hydra suggests
``+train.lr``, an unknown key all the same). :func:`compose` gives the config of a
sweep's first job without running it (``depthbench plan``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from omegaconf import DictConfig, OmegaConf

from depthbench.experiments import compose_job, conf_dir

# keys users reach for that depthbench spells otherwise (the grid's axes are lists)
ALIASES = {
    "lr": "grid.lrs",
    "learning_rate": "grid.lrs",
    "seed": "grid.seeds (a count) or data_seed",
    "depth": "grid.depths",
    "budget": "grid.budgets",
    "width": "grid.budgets (widths follow from the budget)",
    "epochs": "train.steps",
    "batch": "train.batch_size",
}


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice nearest ``word`` (:func:`difflib.get_close_matches`), or None."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return match[0] if match else None


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    match = closest(word, choices)
    return f" (did you mean {match}?)" if match else ""


def flag_error(argv: list[str]) -> str | None:
    """One line for the first ``--name [value]`` in ``argv`` that is not one of Hydra's
    own flags, saying how to write it as an override; None if there is none."""
    from hydra._internal.utils import get_args_parser

    known = set(get_args_parser()._option_string_actions)
    for i, arg in enumerate(argv):
        name, _, value = arg.partition("=")
        if not arg.startswith("-") or name in known:
            continue
        following = argv[i + 1] if i + 1 < len(argv) else ""
        if not value and following and not following.startswith("-") and "=" not in following:
            value = following
        return (
            f"{arg!r} is not a flag of depthbench run, which takes Hydra overrides: write "
            f"{name.lstrip('-').replace('-', '_')}={value or '...'} "
            f"(Hydra's own flags: -m, --cfg job, --help)"
        )
    return None


def _overrides(argv: list[str]) -> list[str]:
    from hydra._internal.utils import get_args_parser

    return list(get_args_parser().parse_known_args(argv)[0].overrides)


def _first_job(overrides: list[str]) -> list[str]:
    """``overrides`` with every sweep (``a=1,2``, ``range(...)``) at its first value."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    first = []
    for override in OverridesParser.create().parse_overrides(overrides):
        if override.is_sweep_override():
            value = next(iter(override.sweep_string_iterator()))
            first.append(f"{override.get_key_element()}={value}")
        else:
            first.append(override.input_line or "")
    return first


def compose(argv: list[str]) -> DictConfig:
    """The config of the first job that ``depthbench run argv`` would run (sweeps at
    their first value), composed as Hydra composes it, with nothing run."""
    return compose_job(_first_job(_overrides(argv)))


def _keys(cfg: DictConfig) -> list[str]:
    """Every dotted key of ``cfg`` (leaves and sections)."""
    container = OmegaConf.to_container(cfg, resolve=False)
    keys: list[str] = []

    def walk(node: object, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                keys.append(f"{prefix}{key}")
                walk(value, f"{prefix}{key}.")

    walk(container, "")
    return keys


def _unknown_key(key: str, argv: list[str]) -> str:
    """The line for a key no config holds, with the closest key of the config the
    group choices in ``argv`` compose (or the key depthbench calls it)."""
    from hydra.errors import ConfigCompositionException

    names = {p.name for p in conf_dir().iterdir() if p.is_dir()}
    groups = [o for o in _overrides(argv) if o.partition("=")[0].split("/")[0] in names]
    try:
        keys = _keys(compose(groups))
    except ConfigCompositionException:  # a bad group choice: no keys to match against
        keys = []
    alias = ALIASES.get(key.rpartition(".")[2])
    hint = f" (did you mean {alias}?)" if alias else _did_you_mean(key, keys)
    return (
        f"{key} is not a key of this config{hint}; "
        f"`depthbench run {' '.join(groups)} --cfg job` prints every key"
    )


def composition_error(argv: list[str]) -> str | None:
    """One line for the first override of ``argv`` that Hydra cannot compose (an
    unknown group option or key), with the closest match; None if all compose."""
    from hydra.errors import ConfigCompositionException, MissingConfigException

    try:
        compose(argv)
    except MissingConfigException as exc:
        group, _, option = (exc.missing_cfg_file or "").rpartition("/")
        options = exc.options or []
        return (
            f"{group}={option}: no such {group}{_did_you_mean(option, options)}; "
            f"allowed: {', '.join(options)} (depthbench list describes them)"
        )
    except ConfigCompositionException as exc:
        message = str(exc)
        if message.startswith("Could not override '"):
            return _unknown_key(message.split("'")[1], argv)
        return message.splitlines()[0]
    return None


def bad_override(argv: list[str]) -> str | None:
    """What is wrong with the first malformed Hydra override in ``argv`` (one line), or
    None: Hydra itself answers some (``=5``) with a 25-line traceback."""
    from hydra._internal.utils import get_args_parser
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    overrides = get_args_parser().parse_known_args(argv)[0].overrides
    for text in overrides:
        try:
            (override,) = OverridesParser.create().parse_overrides([text])
        except OverrideParseException as exc:
            return f"override {text!r} cannot be read ({str(exc).splitlines()[0]}); write key=value"
        if not override.key_or_group:
            return f"override {text!r} names no key; write key=value, e.g. task.n=5"
    return None
