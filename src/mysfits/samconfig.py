"""samconfig.toml's parameter overrides: the one parser (the local gateway's and the deploy's), and the editor.

Both the local stack and ``sam deploy`` read these overrides, so both must read them as SAM CLI does, or the local
stack runs with other parameters than the deployed one. ``parse_overrides`` follows SAM CLI's own rules, and a test
compares the two on a table of awkward inputs.

Why edit the file: ``sam deploy`` reads ``parameter_overrides`` from samconfig.toml, but an override given on the
command line replaces that whole list. So the training script writes the endpoint name into the file (for a plain
``sam deploy``) and, when it deploys itself, passes the file's overrides merged with the new name. The file is
edited with tomlkit so that comments, ordering and the string-or-list form the user chose survive, and it is written
atomically.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import tomlkit
from tomlkit.items import Array, String, Table

from mysfits.endpoint_name import TEMPLATE_PARAMETER, EndpointNameError
from mysfits.endpoint_name import check as check_endpoint_name
from mysfits.files import write_text_atomic
from mysfits_api import encoding as encodings

PARAMETER_KEY = re.compile(r"^[A-Za-z0-9]+$")
# The value and key patterns of SAM CLI's CfnParameterOverridesType (quoted, or a run without spaces or quotes).
_VALUE = r"(?:\"(?:\\.|[^\"\\]+)*\"|'(?:\\.|[^'\\]+)*'|(?:\\.|[^ \"\\]+)+)"
_KEY = r"[A-Za-z0-9\"']+"
_SHORT_FORM = re.compile(rf"(?: )({_KEY})=({_VALUE})")
_LONG_FORM = re.compile(rf"(?:ParameterKey=({_KEY}),ParameterValue=({_VALUE}))")


class SamConfigError(ValueError):
    """samconfig.toml cannot be read or updated as asked; the message names the file and the problem."""


def parse_overrides(value: str | list[str], source: str = "parameter_overrides") -> dict[str, str]:
    """Read overrides the way SAM CLI does: one space-separated string, or a list of such strings.

    SAM's rules, surprising ones included: ``Key=Value`` or ``ParameterKey=K,ParameterValue=V``, and when a string
    holds any of the long form, its short-form pairs are ignored; a value may be wrapped in double or single quotes,
    and a closing quote ends it (``'it''s'`` is ``it``); only backslash-space and backslash-quote are unescaped; text
    that matches neither form is skipped, and an item with no pair at all is an error. ``source`` names where the
    text came from in that error.
    """
    if isinstance(value, str) and not value.strip():
        return {}
    overrides: dict[str, str] = {}
    for item in [value] if isinstance(value, str) else list(value):
        text = " " + str(item).strip()
        for pattern in (_LONG_FORM, _SHORT_FORM):
            pairs = pattern.findall(text)
            if pairs:
                overrides.update((_unquote(key), _unquote(val)) for key, val in pairs)
                break
        else:
            raise SamConfigError(f"{source}: {str(item)!r} is not Key=Value (nor ParameterKey=K,ParameterValue=V)")
    return overrides


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1]
    return text.replace("\\ ", " ").replace('\\"', '"').replace("\\'", "'")


def format_override(key: str, value: str) -> str:
    """One ``Key=Value`` token that SAM reads back unchanged: double-quoted when it holds spaces or quotes."""
    if not PARAMETER_KEY.match(key):
        raise SamConfigError(f"parameter name {key!r} must be letters and digits only (CloudFormation's rule)")
    if "\\" in value:
        raise SamConfigError(f"{key}: backslashes cannot pass through sam deploy's override parser; got {value!r}")
    if value and not re.search(r"[\s\"']", value):
        return f"{key}={value}"
    if re.search(r"\s", value.replace(" ", "")):
        raise SamConfigError(f"{key}: tabs and newlines cannot pass through sam deploy's override parser")
    return '{}="{}"'.format(key, value.replace('"', '\\"'))


def cli_overrides(overrides: dict[str, str]) -> list[str]:
    """Arguments for ``sam deploy --parameter-overrides``: every override, since the CLI list replaces the file's."""
    return [format_override(key, value) for key, value in overrides.items()]


def _load(path: Path) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        doc = tomlkit.document()
        doc["version"] = 0.1
        return doc
    except (OSError, UnicodeDecodeError) as exc:
        raise SamConfigError(f"{path}: cannot read it: {exc}") from exc
    except tomlkit.exceptions.ParseError as exc:
        raise SamConfigError(f"{path}: not valid TOML ({exc}); fix it or remove it") from exc


def _parameters_table(doc: tomlkit.TOMLDocument, path: Path, env: str, command: str, create: bool) -> Table | None:
    node = doc
    for part in (env, command, "parameters"):
        child = node.get(part)
        if child is None:
            if not create:
                return None
            child = tomlkit.table(is_super_table=part != "parameters")
            node[part] = child
        if not isinstance(child, dict):
            raise SamConfigError(f"{path}: [{env}.{command}.parameters] expected a table at {part!r}, found {child!r}")
        node = child
    return node


def read_overrides(
    path: str | os.PathLike, env: str = "default", commands: Sequence[str] = ("deploy",)
) -> dict[str, str]:
    """The overrides in ``[env.COMMAND.parameters]`` for each command in turn, later ones winning; {} if none."""
    path = Path(path)
    doc = _load(path)
    merged: dict[str, str] = {}
    for command in commands:
        table = _parameters_table(doc, path, env, command, create=False)
        if table is not None and "parameter_overrides" in table:
            raw = table["parameter_overrides"].unwrap()
            if not isinstance(raw, (str, list)):
                raise SamConfigError(
                    f"{path}: [{env}.{command}.parameters].parameter_overrides must be a string or a list of "
                    f"strings, found {type(raw).__name__}"
                )
            merged.update(parse_overrides(raw, f"{path} [{env}.{command}.parameters] parameter_overrides"))
    return merged


def _token_pattern(key: str) -> re.Pattern[str]:
    return re.compile(
        rf"(?:(?<=\s)|^)(?:{re.escape(key)}={_VALUE}|ParameterKey={re.escape(key)},ParameterValue={_VALUE})"
    )


def _replace_in_string(current: str, key: str, token: str) -> str:
    """Swap the key's token in place (the first one; later duplicates go), or append it; other text is untouched."""
    pattern = _token_pattern(key)
    first = pattern.search(current)
    if first is None:
        return f"{current.rstrip()} {token}".strip()
    rest = pattern.sub("", current[first.end() :])
    if rest != current[first.end() :]:
        rest = re.sub(r"[ \t]{2,}", " ", rest).rstrip()
    return current[: first.start()] + token + rest


def set_override(path: str | os.PathLike, key: str, value: str, env: str = "default") -> dict[str, str]:
    """Set one override in ``[env.deploy.parameters]``, keeping the rest of the file; return all overrides."""
    path = Path(path)
    token = format_override(key, value)
    doc = _load(path)
    table = _parameters_table(doc, path, env, "deploy", create=True)
    existing = table.item("parameter_overrides") if "parameter_overrides" in table else None
    if existing is None:
        table["parameter_overrides"] = token
    elif isinstance(existing, Array):
        _set_in_array(existing, key, token)
    elif isinstance(existing, String):
        replacement = tomlkit.string(_replace_in_string(existing.value, key, token))
        replacement.trivia.comment_ws = existing.trivia.comment_ws
        replacement.trivia.comment = existing.trivia.comment
        table["parameter_overrides"] = replacement
    else:
        raise SamConfigError(
            f"{path}: [{env}.deploy.parameters].parameter_overrides must be a string or a list of strings, "
            f"found {type(existing.unwrap()).__name__}"
        )
    text = tomlkit.dumps(doc)
    merged = parse_overrides(tomlkit.parse(text)[env]["deploy"]["parameters"]["parameter_overrides"].unwrap())
    if merged.get(key) != value:
        raise SamConfigError(f"{path}: could not set {key} (read back {merged.get(key)!r}); the file is unchanged")
    write_text_atomic(path, text)
    return merged


def _set_in_array(array: Array, key: str, token: str) -> None:
    matches = [i for i, item in enumerate(array) if key in parse_overrides(str(item))]
    for index in reversed(matches[1:]):
        del array[index]
    if not matches:
        array.append(token)
        return
    only = parse_overrides(str(array[matches[0]]))
    if len(only) == 1:
        array[matches[0]] = token
    else:
        array[matches[0]] = _replace_in_string(str(array[matches[0]]), key, token)


def set_endpoint_name(path: str | os.PathLike, endpoint_name: str, env: str = "default") -> dict[str, str]:
    try:
        endpoint_name = check_endpoint_name(endpoint_name, lowercase=True)
    except EndpointNameError as exc:
        raise SamConfigError(str(exc)) from None
    return set_override(path, TEMPLATE_PARAMETER, endpoint_name, env=env)


ENCODING_PARAMETER = "ModelEncoding"
"""template.yaml's parameter for the model's encoding: the Lambda must encode answers as the model was trained."""


def set_model(path: str | os.PathLike, endpoint_name: str, encoding: str, env: str = "default") -> dict[str, str]:
    """Write the endpoint name and its model's encoding side by side: a deploy that took one without the other
    would have the Lambda send rows of the wrong width."""
    try:
        encodings.check(encoding, "the model's encoding")
    except ValueError as exc:
        raise SamConfigError(str(exc)) from None
    set_endpoint_name(path, endpoint_name, env)
    return set_override(path, ENCODING_PARAMETER, encoding, env=env)


def read_setting(path: str | os.PathLike, command: str, key: str, env: str = "default") -> str | None:
    """A value as SAM resolves it: ``[env.command.parameters]`` first, then ``[env.global.parameters]``."""
    path = Path(path)
    doc = _load(path)
    for section in (command, "global"):
        table = doc.get(env, {}).get(section, {}).get("parameters", {})
        if key in table:
            return str(table[key])
    return None
