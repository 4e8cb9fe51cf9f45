"""Build the gateway from a template: its parameters, its functions' environments, their handlers.

It is served like the endpoint, by :mod:`mysfits.local.http_server`.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mysfits.local.gateway.app import Gateway
from mysfits.local.gateway.client_limits import ClientLimits, SharedBuckets, rates_from_parameters
from mysfits.local.gateway.lambda_runtime import (
    apply_environment,
    function_environment,
    load_handler,
    local_aws_environment,
)
from mysfits.local.gateway.parameters import samconfig_overrides
from mysfits.local.gateway.static import StaticSite
from mysfits.local.gateway.template import ApiDefinition, load_api

log = logging.getLogger("mysfits.local.gateway")


@dataclass
class GatewaySettings:
    template: Path
    sagemaker_runtime_url: str
    web_root: Path | None = None
    samconfig: Path | None = None
    samconfig_env: str = "default"
    # None: take samconfig's overrides; a mapping replaces them entirely, as `sam --parameter-overrides` does.
    parameter_overrides: Mapping[str, str] | None = None
    extra_overrides: Mapping[str, str] = field(default_factory=dict)
    region: str = "us-east-1"
    # The local stand-in for the template's choices table; None leaves the handler without a store.
    choices: Path | None = None
    # How long a recommendation waits for that store before it is answered without an id (None: the store's default).
    store_wait_s: float | None = None
    # Limits per client: 1 applies the template's (its WAF rules' parameters), a factor multiplies them, None lifts
    # them (a load test from one address). A template without those parameters sets none.
    client_limit: float | None = 1.0


def load_settings_api(settings: GatewaySettings) -> ApiDefinition:
    """The template's API with parameters from the flags, else samconfig.toml, else the template's defaults."""
    if settings.parameter_overrides is not None:
        overrides, source = dict(settings.parameter_overrides), "--parameter-overrides"
    else:
        samconfig = settings.samconfig or settings.template.parent / "samconfig.toml"
        overrides, source = samconfig_overrides(samconfig, settings.samconfig_env), str(samconfig)
    overrides.update(settings.extra_overrides)
    return load_api(settings.template, overrides, source)


def build_gateway(settings: GatewaySettings, api: ApiDefinition | None = None) -> Gateway:
    """Set up this process's function and AWS environment, import the handlers, and return the ASGI app.

    The local AWS settings go on top of the template's variables: a template may declare
    ``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: ""`` for AWS, and locally the local endpoint must win.
    """
    api = api or load_settings_api(settings)
    local_aws = local_aws_environment(settings.sagemaker_runtime_url, settings.region)
    handlers = {}
    for logical_id, function in api.functions.items():
        apply_environment(function_environment(function))
        apply_environment(local_aws)
        handlers[logical_id] = load_handler(function)
    if settings.choices is not None:
        _give_choice_store(handlers.values(), settings.choices, settings.store_wait_s)
    static = StaticSite(settings.web_root) if settings.web_root is not None else None
    return Gateway(api, handlers, static, client_limits(api, settings.client_limit))


def client_limits(api: ApiDefinition, factor: float | None) -> ClientLimits | None:
    """The limits per client the template's parameters set, in memory that worker processes forked later share."""
    rates = rates_from_parameters(api.parameters, factor)
    return ClientLimits(rates, SharedBuckets()) if rates else None


def _give_choice_store(handlers, path: Path, wait_s: float | None = None) -> None:
    """Hand each handler that records choices (it has ``use_choice_store``) the SQLite store at ``path``: on AWS the
    same handler writes the template's DynamoDB table instead.

    A store that cannot be opened (a damaged file, a directory at the path) costs the choices only: the server starts,
    recommendations are answered without an id, ``POST /choices`` answers 503, and every write tries the path again,
    so the store is back as soon as the file is."""
    from mysfits.local.choices_store import RECOMMENDATION_WAIT_S, RETENTION_DAYS, SqliteChoiceStore
    from mysfits_api.choices import StoreUnavailable

    days = os.environ.get("CHOICES_RETENTION_DAYS", "")  # the template's UnchosenRecommendationRetentionDays
    retention_days = int(days) if days.isdigit() and int(days) >= 1 else RETENTION_DAYS
    wait = {"save_wait_s": RECOMMENDATION_WAIT_S if wait_s is None else wait_s}
    try:
        store = SqliteChoiceStore(path, retention_days=retention_days, **wait)
    except StoreUnavailable as exc:
        log.error(
            "choices store unusable: %s; serving recommendations without an id and answering POST /choices with 503 "
            "until the file at %s can be opened",
            exc,
            path,
        )
        store = SqliteChoiceStore(path, retention_days=retention_days, open_now=False, **wait)
    for handler in handlers:
        module = sys.modules.get(getattr(handler, "__module__", ""))
        use = getattr(module, "use_choice_store", None)
        if callable(use):
            use(store)
