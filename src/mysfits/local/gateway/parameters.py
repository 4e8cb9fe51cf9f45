"""Template parameter values: CLI flags, else ``samconfig.toml``, else the template's defaults.

This follows the SAM CLI: ``--parameter-overrides`` on the command line replaces the
samconfig overrides entirely rather than merging with them, and both are read by SAM's
rules (:func:`mysfits.samconfig.parse_overrides`). The values are checked
against the template's ``AllowedValues``/``AllowedPattern`` here, so a typo fails on
start-up with the parameter's name instead of as a confusing error at request time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from mysfits.samconfig import read_overrides

# Sections are read in order, later ones winning: what `sam deploy` would use, then what
# `sam local start-api` would use, since that is the command this gateway stands in for.
SAMCONFIG_COMMANDS = ("global", "deploy", "local_start_api")


class ParameterError(ValueError):
    """A parameter value that is missing, unknown to the template, or not allowed by it."""


def samconfig_overrides(path: Path, environment: str = "default") -> dict[str, str]:
    """The ``parameter_overrides`` a SAM CLI command would read from ``samconfig.toml`` (empty if none)."""
    return read_overrides(path, environment, SAMCONFIG_COMMANDS)


def resolve_parameters(template: Mapping, overrides: Mapping[str, str], source: str) -> dict[str, object]:
    """Every declared parameter's value; ``source`` names where the overrides came from, for errors."""
    declared: Mapping[str, Mapping] = template.get("Parameters") or {}
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise ParameterError(
            f"{source}: {', '.join(unknown)} not declared in the template; it declares {', '.join(sorted(declared))}"
        )
    values: dict[str, object] = {}
    for name, spec in declared.items():
        if name in overrides:
            value = overrides[name]
        elif "Default" in spec:
            value = spec["Default"]
        else:
            raise ParameterError(f"parameter {name} has no Default in the template; set it with {name}=VALUE")
        values[name] = _typed(name, str(value), spec)
    return values


def _typed(name: str, value: str, spec: Mapping) -> object:
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(a) for a in allowed]:
        raise ParameterError(f"parameter {name}={value!r} is not one of {', '.join(map(str, allowed))}")
    pattern = spec.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        hint = spec.get("ConstraintDescription") or f"must match {pattern}"
        raise ParameterError(f"parameter {name}={value!r}: {hint}")
    kind = str(spec.get("Type", "String"))
    if kind == "Number":
        _check_number(name, value, spec)
    elif kind == "String":
        _check_length(name, value, spec)
    if kind.startswith(("CommaDelimitedList", "List<")):
        return [part.strip() for part in value.split(",")]
    return value


def _check_number(name: str, value: str, spec: Mapping) -> None:
    try:
        number = float(value)
    except ValueError:
        raise ParameterError(f"parameter {name}={value!r} must be a number") from None
    low, high = spec.get("MinValue"), spec.get("MaxValue")
    if (low is not None and number < float(low)) or (high is not None and number > float(high)):
        raise ParameterError(f"parameter {name}={value} must be between {low or '-inf'} and {high or 'inf'}")


def _check_length(name: str, value: str, spec: Mapping) -> None:
    low, high = spec.get("MinLength"), spec.get("MaxLength")
    if (low is not None and len(value) < int(low)) or (high is not None and len(value) > int(high)):
        raise ParameterError(f"parameter {name}={value!r} must be {low or 0} to {high or 'any'} characters long")
