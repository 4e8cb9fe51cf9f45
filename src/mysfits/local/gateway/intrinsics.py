"""Evaluate the CloudFormation intrinsic functions that can be known before deployment.

Locally there is no stack, so only values derived from parameters, pseudo parameters,
conditions and mappings can be computed. A reference to a resource resolves to its
logical id (``!GetAtt`` to ``Logical.Attribute``): good enough for an environment
variable that names something, and honest about it being a placeholder.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

LOCAL_PSEUDO_PARAMETERS = {
    "AWS::AccountId": "123456789012",
    "AWS::Region": "us-east-1",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "local",
    "AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/local/local",
    "AWS::NotificationARNs": [],
}


class IntrinsicError(ValueError):
    """An intrinsic function that cannot be evaluated locally; the message says where and why."""


class _NoValue:
    """``!Ref AWS::NoValue``: the enclosing key disappears."""


NO_VALUE = _NoValue()
_SUB_PATTERN = re.compile(r"\$\{([^}]*)\}")


@dataclass
class Resolver:
    parameters: Mapping[str, object]
    resources: Mapping[str, object] = field(default_factory=dict)
    conditions: Mapping[str, object] = field(default_factory=dict)
    mappings: Mapping[str, object] = field(default_factory=dict)
    pseudo: Mapping[str, object] = field(default_factory=lambda: dict(LOCAL_PSEUDO_PARAMETERS))

    def resolve(self, value: object, where: str) -> object:
        """Return ``value`` with every intrinsic replaced by its local value (``NO_VALUE`` keys dropped)."""
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, argument),) = value.items()
                function = _FUNCTIONS.get(key)
                if function is not None:
                    return function(self, argument, f"{where}.{key}")
            resolved = {k: self.resolve(v, f"{where}.{k}") for k, v in value.items()}
            return {k: v for k, v in resolved.items() if v is not NO_VALUE}
        if isinstance(value, list):
            items = [self.resolve(v, f"{where}[{i}]") for i, v in enumerate(value)]
            return [v for v in items if v is not NO_VALUE]
        return value

    def ref(self, name: object, where: str) -> object:
        if name == "AWS::NoValue":
            return NO_VALUE
        if not isinstance(name, str):
            raise IntrinsicError(f"{where}: Ref needs a name, got {name!r}")
        if name in self.parameters:
            return self.parameters[name]
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.resources:
            return name
        raise IntrinsicError(f"{where}: Ref to {name!r}, which is neither a parameter nor a resource of the template")

    def condition(self, name: object, where: str) -> bool:
        if not isinstance(name, str) or name not in self.conditions:
            raise IntrinsicError(
                f"{where}: unknown condition {name!r}; the template's Conditions define "
                f"{sorted(self.conditions) or 'none'}"
            )
        return bool(self.resolve(self.conditions[name], f"Conditions.{name}"))

    def _substitute(self, template: str, variables: Mapping[str, object], where: str) -> str:
        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self.resolve(variables[name], f"{where}.{name}"))
            if "." in name and name.split(".", 1)[0] in self.resources:
                return name
            return str(self.ref(name, where))

        return _SUB_PATTERN.sub(replace, template)


def _sub(resolver: Resolver, argument: object, where: str) -> str:
    if isinstance(argument, str):
        return resolver._substitute(argument, {}, where)
    if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
        return resolver._substitute(argument[0], argument[1] or {}, where)
    raise IntrinsicError(f"{where}: Fn::Sub takes a string or [string, {{variables}}], got {argument!r}")


def _join(resolver: Resolver, argument: object, where: str) -> str:
    resolved = resolver.resolve(argument, where)
    if not (isinstance(resolved, list) and len(resolved) == 2 and isinstance(resolved[1], list)):
        raise IntrinsicError(f"{where}: Fn::Join takes [delimiter, [values]], got {argument!r}")
    return str(resolved[0]).join(str(v) for v in resolved[1])


def _if(resolver: Resolver, argument: object, where: str) -> object:
    if not (isinstance(argument, list) and len(argument) == 3):
        raise IntrinsicError(f"{where}: Fn::If takes [condition, value_if_true, value_if_false]")
    chosen = argument[1] if resolver.condition(argument[0], where) else argument[2]
    return resolver.resolve(chosen, where)


def _equals(resolver: Resolver, argument: object, where: str) -> bool:
    resolved = resolver.resolve(argument, where)
    if not (isinstance(resolved, list) and len(resolved) == 2):
        raise IntrinsicError(f"{where}: Fn::Equals takes two values")
    return str(resolved[0]) == str(resolved[1])


def _logical(combine: Callable[[list[bool]], bool]) -> Callable[[Resolver, object, str], bool]:
    def evaluate(resolver: Resolver, argument: object, where: str) -> bool:
        if not isinstance(argument, list):
            raise IntrinsicError(f"{where}: expects a list of conditions")
        return combine([bool(resolver.resolve(item, where)) for item in argument])

    return evaluate


def _select(resolver: Resolver, argument: object, where: str) -> object:
    resolved = resolver.resolve(argument, where)
    try:
        index, values = int(resolved[0]), resolved[1]
        return values[index]
    except (TypeError, ValueError, IndexError, KeyError) as exc:
        raise IntrinsicError(
            f"{where}: Fn::Select takes [index, [values]] with index in range, got {argument!r}"
        ) from exc


def _split(resolver: Resolver, argument: object, where: str) -> list[str]:
    resolved = resolver.resolve(argument, where)
    if not (isinstance(resolved, list) and len(resolved) == 2):
        raise IntrinsicError(f"{where}: Fn::Split takes [delimiter, string]")
    return str(resolved[1]).split(str(resolved[0]))


def _find_in_map(resolver: Resolver, argument: object, where: str) -> object:
    resolved = resolver.resolve(argument, where)
    try:
        name, top, second = resolved
        return resolver.mappings[name][top][second]
    except (TypeError, ValueError, KeyError) as exc:
        raise IntrinsicError(f"{where}: Fn::FindInMap found nothing for {resolved!r}") from exc


def _get_att(resolver: Resolver, argument: object, where: str) -> str:
    if not (isinstance(argument, list) and len(argument) == 2):
        raise IntrinsicError(f"{where}: Fn::GetAtt takes [resource, attribute]")
    return f"{argument[0]}.{resolver.resolve(argument[1], where)}"


def _not_local(name: str) -> Callable[[Resolver, object, str], object]:
    def refuse(_resolver: Resolver, _argument: object, where: str) -> object:
        raise IntrinsicError(f"{where}: {name} needs a deployed stack and cannot be evaluated locally")

    return refuse


_FUNCTIONS: dict[str, Callable[[Resolver, object, str], object]] = {
    "Ref": lambda r, a, w: r.ref(a, w),
    "Condition": lambda r, a, w: r.condition(a, w),
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::If": _if,
    "Fn::Equals": _equals,
    "Fn::Not": _logical(lambda items: not items[0]),
    "Fn::And": _logical(all),
    "Fn::Or": _logical(any),
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::FindInMap": _find_in_map,
    "Fn::GetAtt": _get_att,
    "Fn::Base64": lambda r, a, w: base64.b64encode(str(r.resolve(a, w)).encode()).decode(),
    "Fn::ImportValue": _not_local("Fn::ImportValue"),
    "Fn::GetAZs": _not_local("Fn::GetAZs"),
}
