"""``mysfits serve``: the whole flow on one machine (model, endpoint, gateway, page), the way ``make run`` starts it."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from mysfits import stopping
from mysfits.cli_base import CliError, positive_float, positive_int
from mysfits.endpoint_name import DEFAULT as DEFAULT_ENDPOINT_NAME
from mysfits.endpoint_name import TEMPLATE_PARAMETER as ENDPOINT_NAME_PARAMETER
from mysfits.local.choices_store import RECOMMENDATION_WAIT_S

DEFAULT_PORT = 3000
DEFAULT_ENDPOINT_PORT = 8080
DEFAULT_HOST = "127.0.0.1"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the page, the API (the real Lambda handler) and the model endpoint locally",
        description=(
            "Train a model if there is none, start the local SageMaker-style endpoint and a local API Gateway that "
            "serves template.yaml's routes with the real handler and the page in web/. No AWS, no Docker."
        ),
    )
    parser.add_argument(
        "--model", type=Path, default=Path("models/mysfits-knn.json"), help="model file (default: %(default)s)"
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=Path("data/answers.csv"),
        help="training data, generated if missing (default: %(default)s)",
    )
    parser.add_argument(
        "--choices",
        type=Path,
        default=Path("data/choices.sqlite3"),
        help="SQLite file that keeps recommendations and visitors' choices, shared by every worker "
        "(default: %(default)s; created if missing)",
    )
    parser.add_argument(
        "--store-wait",
        type=positive_float,
        default=RECOMMENDATION_WAIT_S,
        metavar="SECONDS",
        help="how long a recommendation waits for the choices store before it is answered without an id, and so "
        "without an Adopt button (default: %(default)s). The one function instance serves nobody else meanwhile; "
        "raise it for a slow or busy disk",
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="address the page and API listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--endpoint-host",
        default=DEFAULT_HOST,
        help="address the model endpoint listens on (default: %(default)s). It answers anyone who can reach it, so "
        "it stays on loopback unless asked; `sam local` on Linux needs it reachable from containers",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port of the page and API (default: %(default)s)"
    )
    parser.add_argument(
        "--endpoint-port",
        type=int,
        default=DEFAULT_ENDPOINT_PORT,
        help="port of the model endpoint (default: %(default)s)",
    )
    parser.add_argument(
        "--endpoint-name",
        help=f"endpoint name (default: the template's {ENDPOINT_NAME_PARAMETER}, from samconfig.toml)",
    )
    parser.add_argument(
        "--endpoint-url",
        help="use an endpoint that is already running at this URL instead of training and starting one",
    )
    parser.add_argument(
        "--template", type=Path, default=Path("template.yaml"), help="SAM template (default: %(default)s)"
    )
    parser.add_argument("--web", type=Path, help="static page directory (default: web/ beside the template)")
    parser.add_argument(
        "--parameter-overrides",
        metavar="'KEY=VALUE ...'",
        help="template parameters; like sam, this replaces samconfig.toml's parameter_overrides entirely",
    )
    parser.add_argument("--config-env", default="default", help="samconfig.toml environment (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="gateway processes (default: %(default)s). Each runs one invocation of a function at a time, as one "
        "Lambda instance does; more processes, like Lambda's concurrency, let a load test run several at once",
    )
    parser.add_argument(
        "--client-limit",
        type=_client_limit,
        default="on",
        metavar="on|off|FACTORx",
        help="limits per source address on POST /recommendations and POST /choices (default: on, the template's "
        "PerClientLimitsEnabled and per-minute parameters, as its WAF rules apply them on AWS); off lifts them and "
        "e.g. 10x raises them tenfold, for a load test from one address",
    )
    parser.set_defaults(func=_serve)


def _client_limit(text: str) -> float | None:
    from mysfits.local.gateway.client_limits import LimitSettingError, parse_setting

    try:
        return parse_setting(text)
    except LimitSettingError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _serve(args: argparse.Namespace) -> int:
    from mysfits.local.gateway.intrinsics import IntrinsicError
    from mysfits.local.gateway.lambda_runtime import HandlerImportError
    from mysfits.local.gateway.parameters import ParameterError
    from mysfits.local.gateway.server import GatewaySettings, build_gateway, load_settings_api
    from mysfits.local.gateway.template import TemplateError, TemplateSyntaxError
    from mysfits.local.http_server import PortInUse, bind, serve_workers
    from mysfits.local.serve import processes
    from mysfits.samconfig import SamConfigError, parse_overrides
    from mysfits_api.choices import StoreUnavailable

    # SIGTERM (a service manager, `kill`) stops like Ctrl-C, through the same clean-up, at any stage: the serving
    # loop installs its own handlers for its lifetime and restores these after.
    stopping.install()
    _log_requests(not args.quiet)
    _warn_about_exposure(args)
    template = args.template.resolve()
    try:
        overrides = (
            None
            if args.parameter_overrides is None
            else parse_overrides(args.parameter_overrides, "--parameter-overrides")
        )
        settings = GatewaySettings(
            template=template,
            sagemaker_runtime_url=args.endpoint_url
            or f"http://{_connectable(args.endpoint_host)}:{args.endpoint_port}",
            web_root=args.web or template.parent / "web",
            samconfig_env=args.config_env,
            parameter_overrides=overrides,
            choices=args.choices,
            store_wait_s=args.store_wait,
            client_limit=args.client_limit,
            extra_overrides={
                **({ENDPOINT_NAME_PARAMETER: args.endpoint_name} if args.endpoint_name else {}),
                **_model_encoding(args),
            },
        )
        api = load_settings_api(settings)
        gateway_socket = bind(args.host, args.port)
    except (TemplateSyntaxError, TemplateError, ParameterError, SamConfigError, IntrinsicError) as exc:
        raise CliError(str(exc)) from None
    except PortInUse:
        raise CliError(processes.port_in_use_message(processes.GATEWAY_PORT, args.host, args.port)) from None
    endpoint_name = str(api.parameters.get(ENDPOINT_NAME_PARAMETER, args.endpoint_name or DEFAULT_ENDPOINT_NAME))
    try:
        with _endpoint(args, endpoint_name, processes) as endpoint:
            try:
                # Importing the handler (boto3, Powertools) overlaps with the endpoint process starting.
                app = build_gateway(settings, api)
            except HandlerImportError as exc:
                raise CliError(str(exc)) from None
            except StoreUnavailable as exc:
                raise CliError(f"--choices: {exc}") from None
            endpoint.wait_ready()
            stopping.checkpoint()  # building the gateway is mostly imports
            url = f"http://{args.host}:{args.port}"
            workers = f" ({args.workers} gateway processes)" if args.workers > 1 else ""

            def announce() -> None:
                print(
                    f"Mythical Mysfits is running at {url}{workers}\n"
                    f"  API: {url}/questionnaire, {url}/recommendations, {url}/choices (handler {_handlers(api)})\n"
                    f"  choices kept in {args.choices}\n"
                    f"  {_limits_line(app)}\n"
                    f"  endpoint {endpoint_name!r} at {endpoint.url}\n"
                    "Press Ctrl-C to stop.",
                    flush=True,
                )

            # API Gateway keeps a browser's connection open longer than uvicorn's default of 5 s.
            serve_workers(
                app,
                gateway_socket,
                args.workers,
                on_ready=announce,
                keep_alive_s=30,
                error_headers=tuple(app.error_headers()),
            )
    except (processes.ServeError, RuntimeError) as exc:
        raise CliError(str(exc)) from None
    finally:
        gateway_socket.close()
    print("stopped", file=sys.stderr)
    return 0


def _connectable(host: str) -> str:
    """Where this process reaches a server that listens on ``host`` (an any-address is reached on loopback)."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104


def _warn_about_exposure(args: argparse.Namespace) -> None:
    from mysfits.local.http_server import exposure_warning

    for what, host, port in (
        ("the page and API", args.host, args.port),
        *([] if args.endpoint_url else [("the model endpoint", args.endpoint_host, args.endpoint_port)]),
    ):
        warning = exposure_warning(what, host, port)
        if warning:
            print(warning, file=sys.stderr, flush=True)


def _endpoint(args: argparse.Namespace, name: str, processes):
    import contextlib

    from mysfits.progress import Progress

    if args.endpoint_url:
        return contextlib.nullcontext(processes.EndpointChild(args.endpoint_url, None, args.host, args.endpoint_port))
    # Before training, which can take a while: a busy port should not cost the user that wait.
    processes.check_port_free(processes.ENDPOINT_PORT, args.endpoint_host, args.endpoint_port)
    processes.ensure_model(args.model, args.data, Progress())
    stopping.checkpoint()
    return processes.endpoint_process(args.model, name, args.endpoint_host, args.endpoint_port)


def _model_encoding(args: argparse.Namespace) -> dict[str, str]:
    """The encoding of the model this command serves, for the handler: it must send rows of the model's width.

    Only when the stack starts its own endpoint from ``--model`` (a model trained on the way is ordinal, the
    default); with ``--endpoint-url`` the template's ModelEncoding (samconfig.toml) says what that endpoint wants.
    """
    from mysfits.model.artifact import ArtifactError, load_model
    from mysfits.samconfig import ENCODING_PARAMETER

    if args.endpoint_url or not args.model.exists():
        return {}
    try:
        return {ENCODING_PARAMETER: load_model(args.model).encoding}
    except ArtifactError:
        return {}  # the endpoint reports the broken file itself, with the loader's message


def _log_requests(enabled: bool) -> None:
    """One short line per request on stderr from the gateway (the handler's own JSON logs go there too)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    gateway_log = logging.getLogger("mysfits.local.gateway")
    gateway_log.addHandler(handler)
    gateway_log.setLevel(logging.INFO if enabled else logging.WARNING)
    gateway_log.propagate = False


def _limits_line(app) -> str:
    if app.limits is None:
        return "no limits per client (--client-limit off, or the template sets none)"
    shown = ", ".join(f"{method} {path} {rate.limit}/min" for (method, path), rate in sorted(app.limits.rates.items()))
    return f"limits per source address: {shown} (--client-limit off lifts them)"


def _handlers(api) -> str:
    return ", ".join(sorted({f.handler for f in api.functions.values()})) or "none"
