"""``mysfits sam-local``: the Docker twin of ``mysfits serve``, with the API served by the real ``sam local``.

Everything it starts is a child of this process or a context it leaves on the way out: the model endpoint, the
page's server, dockerd (only if it was not running already), and SAM itself, whose containers SAM removes when it
stops (any it leaves are removed here, by their run label). Ctrl-C and SIGTERM take the same way out.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from mysfits import stopping
from mysfits.cli_base import CliError
from mysfits.local.serve.processes import PortRole

DEFAULT_PORT = 3001
DEFAULT_PAGE_PORT = 3002  # beside `make run`'s 3000, so that both can run at once
# The function reaches the endpoint by this name. Docker Desktop resolves it to the host; on Docker Engine the
# launcher maps it to 127.0.0.1, which with host networking is this machine.
ENDPOINT_HOST_NAME = "host.docker.internal"
FUNCTION = "RecommendationsFunction"
ENDPOINT_URL_VARIABLE = "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"
# pyenv's shims only find python3.13 (what src/Makefile builds with) when PYENV_VERSION lists it; harmless elsewhere.
PYENV_VERSIONS = "3.11.7:3.12.1:3.13.0"
STOP_TIMEOUT_S = 20.0
_SAM_LOCAL = {"make_target": "make sam-local", "command": "mysfits sam-local"}
API_PORT = PortRole("the sam local API", "SAM_LOCAL_PORT", "--port", **_SAM_LOCAL)
PAGE_PORT = PortRole("the page", "SAM_LOCAL_PAGE_PORT", "--page-port", **_SAM_LOCAL)
ENDPOINT_PORT = PortRole("the model endpoint", "ENDPOINT_PORT", "--endpoint-port", **_SAM_LOCAL)


def register(subparsers: argparse._SubParsersAction) -> None:
    from mysfits.local.sam_local.base_image import DEFAULT_CACHE

    parser = subparsers.add_parser(
        "sam-local",
        help="serve the API with `sam local start-api` in Docker (root and Docker Engine; see the README)",
        description=(
            "Train a model if there is none, start the local model endpoint, start (or reuse) a loopback-only "
            "dockerd, build (or reuse) the Lambda base image, run `sam build`, and serve `sam local start-api` on "
            "127.0.0.1:PORT until Ctrl-C. With Docker Desktop or your own Docker Engine, run plain `sam local "
            "start-api` instead (README)."
        ),
    )
    parser.add_argument("--model", type=Path, default=Path("models/mysfits-knn.json"), help="default: %(default)s")
    parser.add_argument("--data", type=Path, default=Path("data/answers.csv"), help="default: %(default)s")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port of the API (default: %(default)s)")
    parser.add_argument(
        "--page-port",
        type=int,
        default=DEFAULT_PAGE_PORT,
        help="port of the page, set up to call this API (default: %(default)s; 0: no page)",
    )
    parser.add_argument("--endpoint-port", type=int, default=8080, help="port of the model endpoint (default: 8080)")
    parser.add_argument(
        "--endpoint-name",
        help="name the started endpoint answers to (default: SageMakerEndpointName from --parameter-overrides, "
        "else the template's default, mysfits-knn); the function calls the name the template's parameter gives it",
    )
    parser.add_argument(
        "--endpoint-url",
        help=(
            "use an endpoint that is already running at this URL (as the function's container sees it; with this "
            "command's host networking, http://127.0.0.1:PORT) instead of training and starting one"
        ),
    )
    parser.add_argument("--template", type=Path, default=Path("template.yaml"), help="default: %(default)s")
    parser.add_argument("--env-vars", type=Path, default=Path("env.json"), help="default: %(default)s")
    parser.add_argument("--build-dir", type=Path, default=Path(".aws-sam/sam-local"), help="default: %(default)s")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="base image cache (default: %(default)s)")
    parser.add_argument(
        "--parameter-overrides",
        metavar="'KEY=VALUE ...'",
        help="template parameters, passed to `sam local start-api` as they are",
    )
    parser.set_defaults(func=_run)


def tool_env(run: str = "", hidden: frozenset[str] = frozenset()) -> dict[str, str]:
    """SAM's environment: this process's, without the ``hidden`` names (see :func:`function_variables`)."""
    from mysfits.local.sam_local.launcher import RUN_LABEL_VARIABLE

    env = {name: value for name, value in os.environ.items() if name not in hidden}
    if run:
        env[RUN_LABEL_VARIABLE] = run
    env.setdefault("PYENV_VERSION", PYENV_VERSIONS)
    env["SAM_CLI_TELEMETRY"] = "0"
    return env


def function_variables(template: Path) -> frozenset[str]:
    """The names the template sets in its functions' environments.

    For such a name, SAM gives the function the value of a shell variable of the same name over the template's, and
    so over ``--parameter-overrides``: an ``export SAGEMAKER_ENDPOINT_NAME=...`` left in a shell would silently
    decide which endpoint the function calls. Here the template, its parameters and --env-vars decide.
    """
    from mysfits.local.gateway.template import TemplateError, TemplateSyntaxError, load_template

    try:
        template_dict = load_template(template)
    except (TemplateError, TemplateSyntaxError):
        return frozenset()  # `sam build` reports the broken template in its own words
    declared = _variables((template_dict.get("Globals") or {}).get("Function") or {})
    for resource in (template_dict.get("Resources") or {}).values():
        if isinstance(resource, dict) and resource.get("Type") == "AWS::Serverless::Function":
            declared |= _variables(resource.get("Properties") or {})
    return frozenset(declared)


def _variables(properties: object) -> set[str]:
    environment = properties.get("Environment") if isinstance(properties, dict) else None
    variables = environment.get("Variables") if isinstance(environment, dict) else None
    return set(variables) if isinstance(variables, dict) else set()


def launcher(*args: str) -> list[str]:
    return [sys.executable, "-m", "mysfits.local.sam_local.launcher", *args]


def load_env_vars(source: Path) -> dict:
    """The --env-vars file, checked before anything starts: SAM would ignore a malformed one without a word."""
    try:
        loaded = json.loads(source.read_text())
        if not isinstance(loaded.get(FUNCTION), dict):
            raise TypeError(f"no {FUNCTION!r} object")
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise CliError(f"--env-vars {source}: expected a JSON object with a {FUNCTION!r} object ({exc})") from None
    return loaded


def env_vars_file(loaded: dict, endpoint_url: str, target: Path) -> Path:
    """The env vars with the endpoint URL pointed at this run's endpoint (SAM takes the variables from a file)."""
    variables = {**loaded[FUNCTION], ENDPOINT_URL_VARIABLE: endpoint_url}
    target.write_text(json.dumps({**loaded, FUNCTION: variables}, indent=2))
    return target


def page_copy(web: Path, api_url: str, target: Path) -> Path:
    """web/ with its config.json pointed at this API: the page is the same, only where it sends requests changes."""
    shutil.copytree(web, target)
    config_path = target / "config.json"
    config = json.loads(config_path.read_text()) if config_path.is_file() else {}
    config_path.write_text(json.dumps({**config, "apiBaseUrl": api_url}, indent=2))
    return target


def build(template: Path, build_dir: Path) -> Path:
    build_dir.mkdir(parents=True, exist_ok=True)
    command = launcher("build", "--template-file", str(template.resolve()), "--build-dir", str(build_dir.resolve()))
    # cwd is the build folder's parent, so SAM's own .aws-sam cache lands beside it and not in the project.
    done = subprocess.run(command, cwd=build_dir.resolve().parent, env=tool_env(), check=False)  # noqa: S603
    if done.returncode != 0:
        raise CliError(f"sam build failed ({done.returncode}); its output is above")
    return build_dir.resolve() / "template.yaml"


def start_api_command(
    built_template: Path, port: int, env_vars: Path, parameter_overrides: str | None = None
) -> list[str]:
    command = launcher(
        "local", "start-api",
        "--template", str(built_template),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--env-vars", str(env_vars),
        "--skip-pull-image",
        "--warm-containers", "LAZY",
        "--add-host", f"{ENDPOINT_HOST_NAME}:127.0.0.1",
    )  # fmt: skip
    if parameter_overrides:
        command += ["--parameter-overrides", parameter_overrides]
    return command


def run_until_interrupted(command: list[str], env: dict[str, str], on_interrupt=lambda: None) -> int | None:
    """The command's exit status, or None if Ctrl-C or SIGTERM stopped it (passed on as SIGTERM, then SIGKILL)."""
    child = subprocess.Popen(command, env=env)  # noqa: S603 - argv list, no shell
    try:
        return child.wait()
    except KeyboardInterrupt:
        on_interrupt()
        child.send_signal(signal.SIGTERM)  # the launcher takes it as Ctrl-C
        try:
            child.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        return None


def remove_containers(client, run: str) -> list[str]:
    """Remove the Lambda containers of one run that SAM did not (it was killed, or failed half-way)."""
    from mysfits.local.sam_local.launcher import RUN_LABEL

    left = client.containers.list(all=True, filters={"label": f"{RUN_LABEL}={run}"})
    for container in left:
        container.remove(force=True)
    return [container.id for container in left]


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _endpoint_name(parameter_overrides: str | None) -> str:
    """The name the function will call: SAM gives it SageMakerEndpointName from the overrides or the template."""
    from mysfits import endpoint_name
    from mysfits.samconfig import SamConfigError, parse_overrides

    if not parameter_overrides:
        return endpoint_name.DEFAULT
    try:
        overrides = parse_overrides(parameter_overrides, "--parameter-overrides")
    except SamConfigError as exc:
        raise CliError(str(exc)) from None
    return overrides.get(endpoint_name.TEMPLATE_PARAMETER, endpoint_name.DEFAULT)


def _run(args: argparse.Namespace) -> int:
    from mysfits.local.sam_local import base_image, engine
    from mysfits.local.serve import processes
    from mysfits.progress import Progress

    stopping.install()  # SIGTERM as Ctrl-C; and Ctrl-C even if started with SIGINT ignored
    try:
        loaded_env_vars = load_env_vars(args.env_vars)
        endpoint_name = args.endpoint_name or _endpoint_name(args.parameter_overrides)
        processes.check_port_free(API_PORT, "127.0.0.1", args.port)
        if args.page_port:
            processes.check_port_free(PAGE_PORT, "127.0.0.1", args.page_port)
        if args.endpoint_url:
            endpoint_context = contextlib.nullcontext(None)
        else:
            processes.check_port_free(ENDPOINT_PORT, "127.0.0.1", args.endpoint_port)
            processes.ensure_model(args.model, args.data, Progress())
            endpoint_context = processes.endpoint_process(args.model, endpoint_name, "127.0.0.1", args.endpoint_port)
        with (
            tempfile.TemporaryDirectory(prefix="mysfits-sam-local-") as work,
            endpoint_context as endpoint,
            engine.engine(args.cache / "dockerd.log") as started,
            contextlib.ExitStack() as stack,
        ):
            print("dockerd: started (loopback only)" if started else "dockerd: reusing the running one", flush=True)
            image = base_image.ensure(engine.client(), args.cache)
            print(f"base image: recipe {image.recipe} ({image.seconds:.1f} s)", flush=True)
            built = build(args.template, args.build_dir)
            endpoint_url = args.endpoint_url or f"http://{ENDPOINT_HOST_NAME}:{args.endpoint_port}"
            env_vars = env_vars_file(loaded_env_vars, endpoint_url, Path(work) / "env.json")
            if endpoint is not None:
                endpoint.wait_ready()
            api_url = f"http://127.0.0.1:{args.port}"
            print(f"sam local start-api on {api_url} (endpoint at {endpoint_url}); Ctrl-C stops", flush=True)
            if args.page_port:
                page = page_copy(args.template.resolve().parent / "web", api_url, Path(work) / "web")
                # A static folder only; the standard library's server is enough, and it stays on loopback.
                serve_page = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(page)]
                page_server = subprocess.Popen(  # noqa: S603 - fixed argv
                    [*serve_page, str(args.page_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
                stack.callback(_stop, page_server)
                print(f"the page, calling that API: http://127.0.0.1:{args.page_port}/", flush=True)
            command = start_api_command(built, args.port, env_vars, args.parameter_overrides)
            hidden = function_variables(built)
            for name in sorted(hidden & os.environ.keys()):
                print(
                    f"sam-local: not passing {name} from this shell to SAM, which would give it to the function over "
                    "the template's value; set it with --parameter-overrides or --env-vars",
                    file=sys.stderr,
                    flush=True,
                )
            run = uuid.uuid4().hex
            stopping.checkpoint()
            try:
                # Ctrl-C reaches the endpoint too; its supervisor must not restart it while SAM stops.
                supervisor = getattr(endpoint, "supervisor", None)
                code = run_until_interrupted(
                    command, tool_env(run, hidden), supervisor.stop if supervisor else lambda: None
                )
            finally:
                left = remove_containers(engine.client(), run)
                if left:
                    print(f"removed leftover Lambda containers: {', '.join(c[:12] for c in left)}", file=sys.stderr)
            if code is None:
                return 0
            if code != 0:
                raise CliError(f"sam local start-api exited with {code}; its output is above")
    except KeyboardInterrupt:
        return 0
    except (processes.ServeError, engine.EngineError, base_image.BaseImageError) as exc:
        raise CliError(str(exc)) from None
    return 0
