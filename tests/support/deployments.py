"""Check a prefect.yaml's deployments the way a worker and the scheduler will use them.

A deployment that registers fine can still never run: a cron schedule on a flow
with a required parameter the deployment does not supply fails every scheduled run
at parameter validation, and nothing says so until the first night. This checker
loads each entrypoint exactly as the process worker does
(``load_flow_from_entrypoint`` relative to the pull step's working directory) and
applies Prefect's own parameter helpers, so what it accepts Prefect accepts:

* ``entrypoint`` — the entrypoint imports and is a Prefect ``Flow``;
* ``timezone`` — every schedule is in ``Asia/Shanghai`` (a cron without a timezone
  runs in UTC: 02:30 becomes 10:30 in Shanghai);
* ``required-parameter`` — a scheduled deployment supplies every flow parameter
  that has no default (nobody fills in a form for a scheduled run);
* ``unknown-parameter`` — every parameter the deployment supplies is in the flow's
  signature;
* ``parameter-schema`` — supplied values validate against the flow's parameter
  schema (``prefect.utilities.callables.parameter_schema``, validated with
  ``prefect.utilities.schema_tools.validate`` as the API does when it creates a
  run); for a scheduled deployment the full set is also cast by
  ``Flow.validate_parameters``, what the engine does when the run starts.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic_core import to_jsonable_python

TIMEZONE = "Asia/Shanghai"

__all__ = ["TIMEZONE", "Problem", "check_deployment", "check_prefect_yaml"]


@dataclass(frozen=True)
class Problem:
    """One reason a deployment would not run as declared."""

    deployment: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.deployment}: [{self.rule}] {self.message}"


def check_prefect_yaml(prefect_file: Path, root: Path | None = None) -> list[Problem]:
    """Every problem of every deployment in ``prefect_file``; ``[]`` when all are sound.

    Entrypoints are resolved against ``root`` (default: the file's folder), the
    directory the pull step puts flow runs in.
    """
    document = yaml.safe_load(prefect_file.read_text(encoding="utf-8")) or {}
    deployments = document.get("deployments") or []
    if not deployments:
        return [Problem(str(prefect_file), "deployments", "declares no deployment")]
    base = root if root is not None else prefect_file.parent
    return [problem for deployment in deployments for problem in check_deployment(deployment, base)]


def check_deployment(deployment: Mapping[str, Any], root: Path) -> list[Problem]:
    """The problems of one deployment entry of a prefect.yaml (see the module docstring)."""
    name = str(deployment.get("name") or "<unnamed>")
    schedules = list(deployment.get("schedules") or [])
    problems = [
        Problem(name, "timezone", f"schedule {index} has timezone {schedule.get('timezone')!r}, "
                                  f"not {TIMEZONE!r}")
        for index, schedule in enumerate(schedules, start=1)
        if not isinstance(schedule, Mapping) or schedule.get("timezone") != TIMEZONE
    ]
    flow, failure = _load_flow(str(deployment.get("entrypoint") or ""), root)
    if flow is None:
        return [*problems, Problem(name, "entrypoint", failure)]
    problems += _check_parameters(name, flow, dict(deployment.get("parameters") or {}), bool(schedules))
    return problems


def _load_flow(entrypoint: str, root: Path) -> tuple[Any, str]:
    """The flow at ``entrypoint`` (``path/to/file.py:function``) and ``""``, or ``None`` and why.

    ``sys.path`` is restored afterwards: Prefect's script loader prepends the
    script's folder and the working directory and leaves them there.
    """
    from prefect import Flow
    from prefect.flows import load_flow_from_entrypoint

    path, sep, function = entrypoint.rpartition(":")
    if not sep or not path.endswith(".py") or not function:
        return None, f"entrypoint {entrypoint!r} is not of the form path/to/file.py:function"
    saved = list(sys.path)
    try:
        flow: Any = load_flow_from_entrypoint(f"{root / path}:{function}", use_placeholder_flow=False)
    except Exception as exc:
        cause = exc.__cause__ or exc
        return None, f"entrypoint {entrypoint!r} does not load: {type(cause).__name__}: {cause}"
    finally:
        sys.path[:] = saved
    if not isinstance(flow, Flow):  # load_flow_from_entrypoint checks too; keep the contract here
        return None, f"entrypoint {entrypoint!r} is a {type(flow).__name__}, not a Prefect flow"
    return flow, ""


def _check_parameters(name: str, flow: Any, parameters: dict[str, Any], scheduled: bool) -> list[Problem]:
    from prefect.exceptions import ParameterTypeError
    from prefect.utilities.callables import parameter_schema
    from prefect.utilities.schema_tools import validate

    schema = parameter_schema(flow.fn)
    problems = [
        Problem(name, "unknown-parameter",
                f"parameter {key!r} is not in {flow.name}'s signature ({', '.join(schema.properties) or 'none'})")
        for key in parameters if key not in schema.properties
    ]
    if scheduled:
        problems += [
            Problem(name, "required-parameter",
                    f"scheduled, but required flow parameter {key!r} (no default) is not in its parameters: "
                    "every scheduled run would fail at parameter validation")
            for key in schema.required if key not in parameters
        ]
    known = {key: value for key, value in parameters.items() if key in schema.properties}
    # YAML reads 2026-06-30 as a date; `prefect deploy` sends parameters as JSON.
    as_sent = to_jsonable_python(known)
    errors = validate(as_sent, schema.model_dump_for_openapi(), ignore_required=True)
    problems += [
        Problem(name, "parameter-schema",
                f"parameter {'.'.join(str(p) for p in error.path) or '<all>'}: {error.message}")
        for error in errors
    ]
    if scheduled and not problems:
        try:
            flow.validate_parameters(as_sent)
        except ParameterTypeError as exc:
            problems.append(Problem(name, "parameter-schema", f"the engine refuses the parameters: {exc}"))
    return problems
