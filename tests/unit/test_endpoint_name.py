"""One endpoint-name rule for the local endpoint (any name SageMaker takes) and for AWS (lowercase only)."""

from __future__ import annotations

import re

import pytest

from mysfits import endpoint_name
from tests.templates.sam_template import sam_template


@pytest.mark.parametrize("name", ["mysfits-knn", "a", "a--b", "9" * 63, "Mysfits-KNN"])
def test_sagemaker_names_are_served_locally(name):
    assert endpoint_name.check(name, lowercase=False) == name


@pytest.mark.parametrize("name", ["", "-a", "a-", "a_b", "a b", "9" * 64, "é"])
def test_names_sagemaker_refuses_are_refused_everywhere(name):
    for lowercase in (False, True):
        with pytest.raises(endpoint_name.EndpointNameError, match="1-63"):
            endpoint_name.check(name, lowercase=lowercase)


def test_what_goes_to_aws_agrees_with_the_template_pattern():
    parameter = sam_template()["Parameters"][endpoint_name.TEMPLATE_PARAMETER]
    assert parameter["Default"] == endpoint_name.DEFAULT
    pattern = re.compile(parameter["AllowedPattern"])
    for name in ["mysfits-knn", "Mysfits-knn", "a" * 63, "a" * 64, "a-", "x--y"]:
        try:
            endpoint_name.check(name, lowercase=True)
            accepted = True
        except endpoint_name.EndpointNameError:
            accepted = False
        assert accepted == bool(pattern.fullmatch(name)), name
