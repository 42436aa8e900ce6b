"""The config schema has one owner: the YAML files under conf/ hold every key and its
default, and the typed reader (depthbench.config) declares no defaults of its own."""

import pytest
from omegaconf import OmegaConf, open_dict

from depthbench import config
from depthbench.errors import ConfigError
from depthbench.experiments import compose_job, conf_dir


def test_the_reader_knows_exactly_the_keys_the_yaml_declares():
    top = OmegaConf.load(conf_dir() / "config.yaml")
    assert set(top) - {"defaults"} | {"task", "model", "grid", "train"} == config.TOP_KEYS
    for section in ("grid", "train"):
        yaml_keys = set(OmegaConf.load(conf_dir() / section / "default.yaml"))
        assert yaml_keys == config.SECTION_KEYS[section], section
    assert set(top["report"]) == config.SECTION_KEYS["report"]


@pytest.mark.parametrize(
    "key",
    [
        "train.schedule",
        "train.cuda_graph",
        "train.threads",
        "baselines",
        "plugins",
        "report.eps_scale",
        "report.regime",
    ],
)
def test_a_key_missing_from_the_yaml_is_an_error_not_a_hidden_default(key):
    cfg = compose_job(["experiment=smoke"])
    section, _, name = key.rpartition(".")
    parent = cfg[section] if section else cfg
    with open_dict(cfg):
        del parent[name]
    with pytest.raises(ConfigError, match=f"^{key}: missing"):
        config.parse(cfg)
