"""The rules file: the packaged one loads; a bad one fails at load naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lifecycle.decisioning.rules import DEFAULT_RULES_FILE, load_rules
from lifecycle.errors import ConfigError

PACKAGED = yaml.safe_load(DEFAULT_RULES_FILE.read_text(encoding="utf-8"))


def _write(tmp_path: Path, config: dict[str, object]) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def test_the_packaged_rules_load_with_a_name_and_content_version() -> None:
    rules = load_rules()
    assert rules.version.startswith("bank-defaults@") and len(rules.version.split("@")[1]) == 12
    assert [r.stage for r in rules.rules.lifecycle_stages][-1] == "mature"
    assert all(c.rationale for r in rules.rules.lifecycle_stages for c in r.conditions)


def test_changing_a_threshold_changes_the_version(tmp_path: Path) -> None:
    config = yaml.safe_load(DEFAULT_RULES_FILE.read_text(encoding="utf-8"))
    config["value_tier"]["affluent"] = 60_000
    changed = load_rules(_write(tmp_path, config))
    assert changed.version != load_rules().version and changed.rules.value_tier.affluent == 60_000


def _broken(**change: object) -> dict[str, object]:
    config = yaml.safe_load(DEFAULT_RULES_FILE.read_text(encoding="utf-8"))
    for path, value in change.items():
        target = config
        *parents, last = path.split("__")
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[last] = value
    return config


@pytest.mark.parametrize(("change", "message"), [
    ({"value_tier__high_value": 10}, "value_tier: Value error, value_tier thresholds must rise"),
    ({"lifecycle_stages__1__conditions__0__feature": "aum_spike"}, "unknown feature 'aum_spike'"),
    ({"score__weights__value": 0.9}, "score: Value error, score weights must be non-negative and sum to 1"),
    ({"risk_signals__0__op": "~"}, "risk_signals.0.op"),
    ({"risk_signals__0__threshold": "thirty"}, "threshold must be a number"),
    ({"features__aum_average_days": 0}, "features.aum_average_days"),
])
def test_a_bad_rules_file_is_refused_naming_the_file_and_the_key(tmp_path: Path, change: dict[str, object],
                                                                 message: str) -> None:
    path = _write(tmp_path, _broken(**change))
    with pytest.raises(ConfigError) as err:
        load_rules(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_the_stage_rules_must_end_with_the_default(tmp_path: Path) -> None:
    config = _broken()
    config["lifecycle_stages"] = config["lifecycle_stages"][:-1]  # type: ignore[index]
    with pytest.raises(ConfigError, match="must end with a rule without conditions"):
        load_rules(_write(tmp_path, config))
