"""The label and group rules: one versioned YAML file, validated before anything is labelled.

A **label** reads one input column (a feature, a decision, a customer attribute)
and gives each customer one value, in one of three forms:

* ``bands`` — ordered upper bounds over a number (``below``; the last band has none);
* ``values`` — a map of codes (a missing or unlisted code gives no label);
* ``cases`` — ordered cases of tests over several columns; the first that holds wins.

A **group** is a rule over tiers, stages and labels (``label.<name>`` columns); its
name comes from templates in zh_CN and English that may use ``{brand}``, and no
other placeholder. The version ``<name>@<sha256 of the file>`` is stored with
every label and group, so any edit is a new version.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lifecycle.yamlconfig import load_versioned

DEFAULT_LABELS_FILE = Path(__file__).resolve().parents[1] / "config" / "labels.yaml"
CODE = r"^[a-z][a-z0-9_]{1,47}$"
DIMENSIONS = ("demographics", "financial", "consumption", "life_stage", "digital", "satisfaction",
              "corporate_size", "industry", "cooperation", "regional")
NAME_PLACEHOLDERS = frozenset({"brand"})
LOCALES = ("zh_CN", "en")


class Test(BaseModel):
    """``column op value``; a missing column value never satisfies a test."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str = Field(min_length=2, max_length=64)
    op: Literal["<", "<=", ">", ">=", "==", "!=", "in"]
    value: float | str | list[str]

    @model_validator(mode="after")
    def _shape(self) -> Test:
        if (self.op == "in") != isinstance(self.value, list):
            raise ValueError(f"test on {self.column}: op 'in' takes a list, the others a single value")
        if self.op in ("<", "<=", ">", ">=") and not isinstance(self.value, (int, float)):
            raise ValueError(f"test on {self.column}: {self.op} compares numbers")
        return self


class Band(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str = Field(min_length=1, max_length=48)
    below: float | None = None


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str = Field(min_length=1, max_length=48)
    match: Literal["all", "any"] = "all"
    when: list[Test] = Field(min_length=1)


class LabelRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = Field(pattern=CODE)
    dimension: Literal[DIMENSIONS]  # type: ignore[valid-type]
    applies_to: Literal["individual", "corporate", "all"] = "all"
    input: str | None = None
    bands: list[Band] | None = None
    values: dict[str, str] | None = None
    cases: list[Case] | None = None
    rationale: str = Field(min_length=10)

    @model_validator(mode="after")
    def _one_form(self) -> LabelRule:
        forms = [f for f in ("bands", "values", "cases") if getattr(self, f) is not None]
        if len(forms) != 1:
            raise ValueError(f"label {self.label}: give exactly one of bands, values, cases (got {forms or 'none'})")
        if forms[0] != "cases" and not self.input:
            raise ValueError(f"label {self.label}: {forms[0]} read one input column")
        if self.bands is not None:
            bounds = [b.below for b in self.bands]
            if not bounds or bounds[-1] is not None or any(b is None for b in bounds[:-1]):
                raise ValueError(f"label {self.label}: every band but the last has 'below'; the last has none")
            numbers = [float(b) for b in bounds[:-1] if b is not None]
            if numbers != sorted(set(numbers)):
                raise ValueError(f"label {self.label}: band bounds must rise")
        return self


class Region(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    city: str = Field(min_length=1, max_length=32)
    city_tier: Literal["tier_1", "new_tier_1", "tier_2", "tier_3", "other"]
    economic_level: Literal["high", "upper_middle", "middle", "lower"]


class GroupRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=CODE)
    match: Literal["all", "any"] = "all"
    when: list[Test] = Field(min_length=1)
    names: dict[Literal["zh_CN", "en"], str]
    rationale: str = Field(min_length=10)

    @model_validator(mode="after")
    def _templates(self) -> GroupRule:
        for locale in LOCALES:
            template = self.names.get(locale)  # type: ignore[call-overload]
            if not template:
                raise ValueError(f"group {self.code}: a name template in {locale} is needed")
            try:
                fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
            except ValueError as exc:
                raise ValueError(f"group {self.code}: name template {template!r}: {exc}") from None
            unknown = fields - NAME_PLACEHOLDERS
            if unknown:
                raise ValueError(f"group {self.code}: name template {template!r} may use only {{brand}}, "
                                 f"not {', '.join(sorted(unknown))}")
        return self

    @property
    def definition(self) -> str:
        """What membership depends on: a change of it is a new group definition (and name check)."""
        return self.model_dump_json(include={"match", "when", "names"})


class LabelRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,31}$")
    brand: dict[Literal["zh_CN", "en"], str]
    labels: list[LabelRule] = Field(min_length=1)
    regions: dict[str, Region] = Field(default_factory=dict, description="branch code prefix -> region")
    groups: list[GroupRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> LabelRules:
        for what, codes in (("label", [r.label for r in self.labels]), ("group", [g.code for g in self.groups])):
            seen = {c for c in codes if codes.count(c) > 1}
            if seen:
                raise ValueError(f"{what} {', '.join(sorted(seen))} defined twice")
        return self


@dataclass(frozen=True)
class LabelRuleSet:
    rules: LabelRules
    version: str
    file: Path


def load_label_rules(path: Path | str | None = None) -> LabelRuleSet:
    file = Path(path) if path else DEFAULT_LABELS_FILE
    rules, version = load_versioned(file, LabelRules, "labels file")
    return LabelRuleSet(rules, version, file)
