"""The SageMaker endpoint's name: its default and the one pattern every part of the project checks it against.

SageMaker accepts mixed case, but endpoint ARNs are lowercase, so an ARN-scoped IAM policy only ever matches a
lowercase name. Whatever reaches AWS (samconfig.toml, the deploy) must therefore be lowercase; the local endpoint
takes any name SageMaker would.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable

DEFAULT = "mysfits-knn"
"""The name the template's ``SageMakerEndpointName`` defaults to, and every command's default."""
TEMPLATE_PARAMETER = "SageMakerEndpointName"
"""The template parameter that names the endpoint (samconfig.toml's override; the Lambda's environment)."""

_SAGEMAKER = re.compile(r"^[a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62}$")  # SageMaker's EndpointName, at most 63 long


class EndpointNameError(ValueError):
    """A name SageMaker (or, for AWS, an ARN-scoped policy) would not accept; the message says what is allowed."""


def check(name: str, *, lowercase: bool) -> str:
    if not _SAGEMAKER.match(name or "") or (lowercase and name != name.lower()):
        case = "lowercase " if lowercase else ""
        why = " (SageMaker endpoint ARNs are lowercase, so IAM policies need lowercase)" if lowercase else ""
        raise EndpointNameError(
            f"endpoint name {name!r} is not allowed: use 1-63 {case}letters, digits and hyphens, starting and "
            f"ending with a letter or digit{why}"
        )
    return name


def flag(*, lowercase: bool) -> Callable[[str], str]:
    """An argparse ``type`` that checks the name."""

    def parse(text: str) -> str:
        try:
            return check(text, lowercase=lowercase)
        except EndpointNameError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse
