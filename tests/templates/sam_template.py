"""template.yaml as data: parsed (short-form intrinsics included) and translated to plain CloudFormation.

cfn-lint no longer expands SAM resources, so IAM and resource checks run on what
samtranslator produces, the same translation CloudFormation applies at deploy time.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATE = ROOT / "template.yaml"
PACKAGED_CODE_URI = "s3://example-bucket/recommendations.zip"
REGION = "us-east-1"


def _no_managed_policy_names() -> dict[str, str]:
    """Our template names managed policies by ARN only, so the translator never needs to ask IAM."""
    return {}


@cache
def _parsed() -> dict:
    return yaml_parse(TEMPLATE.read_text("utf-8"))


def sam_template() -> dict:
    return copy.deepcopy(_parsed())


def translate(template: dict) -> dict:
    """CloudFormation for a SAM template, with every local CodeUri replaced as `sam package` would."""
    template = copy.deepcopy(template)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = PACKAGED_CODE_URI
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    return translator.translate(template, parameter_values={}, get_managed_policy_map=_no_managed_policy_names)


@cache
def _translated() -> dict:
    return translate(_parsed())


def cfn_template() -> dict:
    return copy.deepcopy(_translated())


def function_properties(template: dict) -> dict:
    return template["Resources"]["RecommendationsFunction"]["Properties"]
