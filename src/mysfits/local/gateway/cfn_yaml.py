"""A YAML loader that understands CloudFormation's short-form tags (``!Ref``, ``!Sub``...).

PyYAML's SafeLoader refuses unknown tags; CloudFormation templates are full of them. Each
short tag becomes the long form CloudFormation itself would see (``{"Ref": ...}``,
``{"Fn::Sub": ...}``), so the rest of the gateway only deals with one spelling.
"""

from __future__ import annotations

from pathlib import Path

import yaml

# Tag name -> long-form key. ``!GetAtt a.b`` is special: the scalar form is split on the first dot.
_SHORT_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        name: f"Fn::{name}"
        for name in (
            "Base64",
            "Cidr",
            "FindInMap",
            "GetAtt",
            "GetAZs",
            "ImportValue",
            "Join",
            "Select",
            "Split",
            "Sub",
            "Transform",
            "And",
            "Equals",
            "If",
            "Not",
            "Or",
            "Length",
            "ToJsonString",
        )
    },
}


class TemplateSyntaxError(ValueError):
    """The template is not valid YAML (the message carries the line and column)."""


class CfnLoader(yaml.SafeLoader):
    """SafeLoader plus the CloudFormation short-form tags."""


def _construct(key: str):
    def construct(loader: CfnLoader, node: yaml.Node) -> dict:
        if isinstance(node, yaml.ScalarNode):
            value: object = loader.construct_scalar(node)
            if key == "Fn::GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {key: value}

    return construct


for _tag, _key in _SHORT_TAGS.items():
    CfnLoader.add_constructor(f"!{_tag}", _construct(_key))


def load_template(path: str | Path) -> dict:
    """Parse a CloudFormation/SAM template file; errors name the file and the position."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise TemplateSyntaxError(f"{path}: no template here (pass --template PATH)") from None
    try:
        document = yaml.load(text, Loader=CfnLoader)  # noqa: S506 - CfnLoader is a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise TemplateSyntaxError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateSyntaxError(f"{path}: a template needs a top-level Resources mapping")
    return document
