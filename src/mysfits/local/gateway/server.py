"""Bind, build and run the gateway under uvicorn, in the foreground or in a background thread.

The listening socket is bound here rather than by uvicorn so that a busy port becomes one
clear :class:`PortInUse` error (uvicorn would log and exit), and so that tests can bind
port 0 and read back the port they got.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from mysfits.local.gateway.app import Gateway
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


class PortInUse(OSError):
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        super().__init__(errno.EADDRINUSE, f"{host}:{port} is already in use")


def bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(host, port) from exc
        raise
    sock.listen(2048)
    sock.setblocking(False)
    return sock


# The gateway serves web/ itself, so a template's optional CloudFront website never exists here. With it off,
# values that would otherwise name the distribution (the API's allowed CORS origin) take their no-website form.
LOCAL_PARAMETER_VALUES = {"DeployWebsite": "false"}


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
    # Applied last, and only to parameters the template declares (see LOCAL_PARAMETER_VALUES).
    local_values: Mapping[str, str] = field(default_factory=lambda: dict(LOCAL_PARAMETER_VALUES))
    region: str = "us-east-1"


def load_settings_api(settings: GatewaySettings) -> ApiDefinition:
    """The template's API with parameters from the flags, else samconfig.toml, else the template's defaults."""
    if settings.parameter_overrides is not None:
        overrides, source = dict(settings.parameter_overrides), "--parameter-overrides"
    else:
        samconfig = settings.samconfig or settings.template.parent / "samconfig.toml"
        overrides, source = samconfig_overrides(samconfig, settings.samconfig_env), str(samconfig)
    overrides.update(settings.extra_overrides)
    return load_api(settings.template, overrides, source, settings.local_values)


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
    static = StaticSite(settings.web_root) if settings.web_root is not None else None
    return Gateway(api, handlers, static)


def uvicorn_server(app, log_level: str = "warning", access_log: bool = False) -> uvicorn.Server:
    config = uvicorn.Config(app, log_level=log_level, access_log=access_log, lifespan="auto", timeout_keep_alive=30)
    return uvicorn.Server(config)


class BackgroundServer:
    """An ASGI app served by uvicorn in a daemon thread, for tests and for running beside other servers."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning"):
        self.socket = bind(host, port)
        self.host = host
        self.port = self.socket.getsockname()[1]
        self.server = uvicorn_server(app, log_level=log_level)
        self._thread = threading.Thread(target=self._run, name=f"uvicorn-{self.port}", daemon=True)
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        try:
            asyncio.run(self.server.serve(sockets=[self.socket]))
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread by start()
            self._error = exc

    def start(self, timeout_s: float = 10.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"server on {self.url} failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server on {self.url} did not start within {timeout_s} s")
            time.sleep(0.01)
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self.server.should_exit = True
        self._thread.join(timeout_s)
        self.socket.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
