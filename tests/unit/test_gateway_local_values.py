"""The gateway on the project's own template.yaml: the optional CloudFront website is always off locally.

samconfig.toml's deploy overrides switch the website on for AWS, and the template then takes the API's CORS origin
from the distribution. Locally nothing is deployed, so the gateway must land on the no-website value instead of a
placeholder host.
"""

from pathlib import Path

import pytest

from mysfits.local.gateway.server import GatewaySettings, load_settings_api
from mysfits.local.gateway.template import load_api

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "gateway" / "template.yaml"


def origins(**settings) -> tuple[str, str]:
    api = load_settings_api(
        GatewaySettings(template=ROOT / "template.yaml", sagemaker_runtime_url="http://127.0.0.1:9", **settings)
    )
    (function,) = api.functions.values()
    (cors,) = {route.api.cors.allow_origin for route in api.routes}
    return cors, function.environment["ALLOWED_ORIGIN"]


def test_with_the_projects_samconfig_the_local_origin_is_any():
    assert origins(samconfig=ROOT / "samconfig.toml") == ("*", "*")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, "*"),
        ({"DeployWebsite": "true"}, "*"),
        ({"DeployWebsite": "true", "AllowedOrigin": "http://127.0.0.1:5173"}, "http://127.0.0.1:5173"),
    ],
)
def test_flags_cannot_switch_the_website_on_locally(overrides, expected):
    assert origins(parameter_overrides=overrides) == (expected, expected)


def test_without_the_local_value_the_origin_would_name_a_distribution_that_does_not_exist():
    cors, env = origins(parameter_overrides={}, local_values={})
    assert cors == env == "https://WebsiteDistribution.DomainName"


def test_local_values_skip_parameters_a_template_does_not_declare():
    api = load_api(FIXTURE, {}, "test", local_values={"DeployWebsite": "false"})
    assert "DeployWebsite" not in api.parameters
