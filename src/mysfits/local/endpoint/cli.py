"""``mysfits endpoint``: serve a model artifact on SageMaker Runtime's REST path and the container contract."""

from __future__ import annotations

import argparse
import logging
import sys

from mysfits import endpoint_name
from mysfits.cli_base import CliError


def register(subparsers: argparse._SubParsersAction) -> None:
    from mysfits.local.endpoint.server import DEFAULT_HOST, DEFAULT_PORT

    parser = subparsers.add_parser(
        "endpoint",
        help="serve a trained model like a SageMaker kNN endpoint",
        description=(
            "Serve MODEL at POST /endpoints/NAME/invocations (what boto3's sagemaker-runtime invoke_endpoint calls; "
            "point it here with AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=http://HOST:PORT) and at the container "
            "contract's POST /invocations and GET /ping. The model file is reloaded when it changes or on SIGHUP; "
            "SIGINT/SIGTERM stop after in-flight requests."
        ),
    )
    parser.add_argument("--model", default="models/mysfits-knn.json", help="model artifact (default: %(default)s)")
    parser.add_argument(
        "--name",
        default=endpoint_name.DEFAULT,
        type=endpoint_name.flag(lowercase=False),
        help="endpoint name (default: %(default)s)",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", default=DEFAULT_PORT, type=int, help="port to listen on (default: %(default)s)")
    parser.add_argument(
        "--refresh-interval",
        default=1.0,
        type=float,
        metavar="SECONDS",
        help="how often to look for a new model file at --model (default: %(default)s); SIGHUP reloads at once",
    )
    parser.add_argument("--quiet", action="store_true", help="log only warnings and errors, not every request")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from mysfits.local.endpoint.logs import log_to_stderr
    from mysfits.local.endpoint.server import run
    from mysfits.local.http_server import exposure_warning
    from mysfits.model.artifact import ArtifactError

    log_to_stderr(logging.WARNING if args.quiet else logging.INFO)
    if (warning := exposure_warning(args.host, f"the endpoint {args.name!r}")) is not None:
        print(warning, file=sys.stderr, flush=True)
    try:
        run(args.model, args.name, args.host, args.port, refresh_interval=args.refresh_interval)
    except ArtifactError as exc:
        raise CliError(f"cannot serve the model: {exc}") from exc
    except OSError as exc:
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from exc
    return 0
