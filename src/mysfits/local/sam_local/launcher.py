"""Run the SAM CLI with its Lambda containers on the host's network, for a dockerd that has no bridge.

Stock SAM publishes the emulator's port 8080 on the host and reaches the container through it. A daemon started
without a bridge (:mod:`.engine`) cannot publish ports, and SAM only treats a network literally named "host"
specially, still publishing ports. So, for SAM's Lambda containers only and only inside this process, docker-py's
container creation is adjusted: host network mode, nothing published, the emulator listening on 127.0.0.1 at the
port SAM picked for it, and the runtime API on another free loopback port (on the host network two containers, or
the local endpoint on 8080, would otherwise collide on the emulator's defaults).

Also in this process only: SAM's weekly look-up of its newest version on PyPI, made after `build` and the `local`
commands, is turned off (SAM_CLI_TELEMETRY=0 covers telemetry, not this), so that nothing leaves the machine.

It also refuses to let SAM pull, or build FROM AWS's image (what SAM does when the base image is missing), so that
dockerd never tries a registry.

This depends on SAM internals, so it checks them first and refuses to run if they changed; pyproject.toml pins the
SAM CLI version it was tested with. Usage: ``python -m mysfits.local.sam_local.launcher local start-api ...``.
"""

from __future__ import annotations

import inspect
import os
import signal
import socket
import sys
from importlib.metadata import version

TESTED_SAM_VERSION = "1.170.0"
EMULATOR = "/var/rapid/aws-lambda-rie"
EMULATOR_PORT_IN_CONTAINER = "8080"
RUN_LABEL = "mysfits.sam-local.run"
RUN_LABEL_VARIABLE = "MYSFITS_SAM_LOCAL_RUN"
"""Containers are labelled with this run's id (from the variable), so whoever started SAM can remove any that a
killed SAM left behind."""
INTERNALS_CHANGED = 70  # exit status when SAM no longer looks the way this launcher expects


class SamInternalsChanged(RuntimeError):
    """SAM CLI no longer creates its Lambda containers the way the adjustment below expects."""


def check_internals() -> None:
    """Fail before anything starts if the SAM CLI differs from the one the adjustment was written against."""
    from samcli.lib.utils import version_checker
    from samcli.local.docker.container import Container
    from samcli.local.docker.lambda_container import LambdaContainer

    found = version("aws-sam-cli")
    problems = []
    if found != TESTED_SAM_VERSION:
        problems.append(f"aws-sam-cli is {found}, the launcher was tested with {TESTED_SAM_VERSION}")
    if Container.RAPID_PORT_CONTAINER != EMULATOR_PORT_IN_CONTAINER:
        problems.append(f"the emulator's container port is {Container.RAPID_PORT_CONTAINER!r}, not 8080")
    if LambdaContainer._get_default_entry_point()[:1] != [EMULATOR]:
        problems.append(f"Lambda containers no longer start {EMULATOR}")
    if not callable(getattr(version_checker, "_inform_newer_version", None)):
        problems.append("samcli.lib.utils.version_checker._inform_newer_version is gone")
    if "docker_client.containers.create(" not in inspect.getsource(Container.create):
        problems.append("Container.create no longer calls docker-py's containers.create")
    if problems:
        raise SamInternalsChanged(
            "the sam local launcher cannot adjust this SAM CLI: "
            + "; ".join(problems)
            + ". Re-check src/mysfits/local/sam_local/launcher.py against it, then update TESTED_SAM_VERSION and "
            "the pin in pyproject.toml."
        )


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def adjust(kwargs: dict) -> dict:
    """The creation arguments of one SAM Lambda container, rewritten for the host network (see the module's doc)."""
    ports = dict(kwargs.pop("ports", None) or {})
    published = ports.pop(EMULATOR_PORT_IN_CONTAINER, None)
    if published is None:
        raise SamInternalsChanged(f"SAM created a Lambda container without publishing port 8080: {ports}")
    if ports:
        raise SamInternalsChanged(
            f"SAM asked to publish more ports ({sorted(ports)}); debugging ports are not supported on a host network"
        )
    host_port = published[1] if isinstance(published, tuple) else published
    if kwargs.get("network") not in (None, "host"):
        raise SamInternalsChanged(f"a container network ({kwargs['network']!r}) cannot be combined with the host's")
    kwargs.pop("network", None)
    kwargs["network_mode"] = "host"
    run = os.environ.get(RUN_LABEL_VARIABLE)
    if run:
        kwargs["labels"] = {**(kwargs.get("labels") or {}), RUN_LABEL: run}
    kwargs["entrypoint"] = [
        *kwargs["entrypoint"],
        "--runtime-interface-emulator-address",
        f"127.0.0.1:{int(host_port)}",
        "--runtime-api-address",
        f"127.0.0.1:{free_loopback_port()}",
    ]
    return kwargs


def _no_version_check(force_check: bool = False) -> None:
    """Stands in for SAM's PyPI look-up: this project pins the SAM CLI, and tests must stay on loopback."""


def install() -> None:
    """Wrap docker-py's ContainerCollection.create, in this process only, so SAM's Lambda containers get adjust()."""
    from docker import APIClient
    from docker.models.containers import ContainerCollection
    from samcli.lib.utils import version_checker

    version_checker._inform_newer_version = _no_version_check
    original = ContainerCollection.create
    if getattr(original, "_mysfits_adjusted", False):
        return

    def create(self, image, command=None, **kwargs):
        entrypoint = kwargs.get("entrypoint") or []
        if list(entrypoint[:1]) == [EMULATOR]:
            kwargs = adjust(kwargs)
            print(
                f"sam-local launcher: container on the host network, {' '.join(kwargs['entrypoint'][-4:])}",
                file=sys.stderr,
                flush=True,
            )
        return original(self, image, command, **kwargs)

    create._mysfits_adjusted = True
    ContainerCollection.create = create
    # SAM pulls, or builds FROM AWS's image, only when the base image is missing; either would make dockerd try a
    # registry. Refuse both here, before dockerd is asked.
    APIClient.pull = _refuse_registry
    APIClient.build = _refuse_registry


class RegistryRefused(RuntimeError):
    """SAM asked dockerd for something only a registry has."""


def _refuse_registry(_self, *args, **kwargs):
    raise RegistryRefused(
        "SAM asked dockerd to pull or build an image, which would reach for a registry; the Lambda base image is "
        "missing: `python -m mysfits.local.sam_local.base_image` (or `make sam-local`) builds it locally"
    )


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    try:
        check_internals()  # before anything in this process is changed
    except SamInternalsChanged as exc:
        print(f"error: {exc}", file=sys.stderr)
        return INTERNALS_CHANGED
    os.environ["SAM_CLI_TELEMETRY"] = "0"
    # SIGTERM takes Ctrl-C's way out, on which SAM stops and removes its warm containers; and Ctrl-C works even if
    # this process was started with SIGINT ignored (as a shell's background jobs are).
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    install()
    from samcli.cli.main import cli

    return cli.main(args=list(sys.argv[1:] if argv is None else argv), prog_name="sam", standalone_mode=True)


if __name__ == "__main__":
    sys.exit(main())
