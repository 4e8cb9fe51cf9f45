"""`sam local start-api` for real: the function as `sam build` ships it, in a container, over HTTP.

The API is `mysfits sam-local` (what `make sam-local` runs): a loopback-only dockerd, the Lambda base image built
from Debian packages (cached under ~/.cache/mysfits, so only the first run on a machine builds it), the real SAM CLI
behind the launcher that puts its containers on the host network. The model endpoint is a `mysfits endpoint`
process the tests own, so that they can stop it. Nothing leaves loopback: dockerd has no bridge and never pulls.

The function runs without a choices table here (env.json sets none, so it never reaches for DynamoDB): a
recommendation is answered but not kept, and POST /choices says the store is down. Those tests check exactly that.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO, Process, child_env, free_port, running, start

pytestmark = [pytest.mark.sam, pytest.mark.slow, pytest.mark.xdist_group("sam_local")]

# The first run on a machine builds the base image (debootstrap, about 30-60 s) before SAM starts.
SAM_START_TIMEOUT_S = 300.0
ORIGIN = "http://127.0.0.1:3000"  # the page's origin under `make run`; the template's default origin is *
WORKSHOP_ENTRY = [1, 2, 3, 4, 5]


@dataclass
class SamApi:
    port: int
    page_port: int
    process: Process
    endpoint_url: str = ""

    def request(self, method: str, path: str, body: object = None, headers: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            payload = None if body is None else json.dumps(body)
            connection.request(
                method, path, body=payload, headers={"Content-Type": "application/json", **(headers or {})}
            )
            response = connection.getresponse()
            raw = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, raw
        finally:
            connection.close()


def _require_host_tools() -> None:
    missing = [tool for tool in ("dockerd", "debootstrap") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: `make docker` apt-installs docker.io and debootstrap (as root)")


def _wait_until_serving(process: Process, port: int, timeout: float = SAM_START_TIMEOUT_S) -> float:
    """Seconds until SAM's server answers anything (its 403 for an unknown path): up, before any container starts."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.proc.poll() is not None:
            raise AssertionError(f"mysfits sam-local exited with {process.proc.returncode}:\n{process.output()}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/no-such-route")
            connection.getresponse().read()
            return time.monotonic() - started
        except OSError:
            time.sleep(0.1)
        finally:
            connection.close()
    process.kill()
    raise AssertionError(f"sam local start-api did not answer on {port} within {timeout:.0f} s:\n{process.output()}")


@contextlib.contextmanager
def sam_local(workdir: Path, *extra: str, env: dict[str, str] | None = None) -> Iterator[SamApi]:
    _require_host_tools()
    port, page_port = free_port(), free_port()
    args = ["sam-local", "--port", str(port), "--page-port", str(page_port), "--build-dir", str(workdir / "build")]
    process = start([*args, *extra], workdir / "sam-local.log", env)
    try:
        _wait_until_serving(process, port)
        yield SamApi(port, page_port, process)
    finally:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.proc.terminate()  # SIGTERM: everything it started must stop, like on Ctrl-C
            process.proc.wait(60)
        process.kill()


@pytest.fixture(scope="module")
def model(tmp_path_factory, small_data) -> Path:
    path = tmp_path_factory.mktemp("sam-model") / "model.json"
    done = subprocess.run(
        [sys.executable, "-m", "mysfits", "train", "--data", str(small_data), "--model", str(path)],
        cwd=REPO, env=child_env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return path


@contextlib.contextmanager
def endpoint(workdir: Path, model: Path, name: str) -> Iterator[tuple[str, Process]]:
    port = free_port()
    args = ["endpoint", "--model", str(model), "--name", name, "--port", str(port), "--quiet"]
    with running(args, workdir / f"endpoint-{name}.log", port, ready_path="/ping") as process:
        yield f"http://127.0.0.1:{port}", process


@pytest.fixture(scope="module")
def api(tmp_path_factory, small_data) -> Iterator[SamApi]:
    """`make sam-local`'s path: no model yet (it trains one), its own endpoint, named by the template's parameter."""
    workdir = tmp_path_factory.mktemp("sam-local")
    endpoint_port = free_port()
    args = ["--model", str(workdir / "model.json"), "--data", str(small_data), "--endpoint-port", str(endpoint_port)]
    args += ["--parameter-overrides", "SageMakerEndpointName=mysfits-sam-own"]
    with sam_local(workdir, *args) as served:
        served.endpoint_url = f"http://127.0.0.1:{endpoint_port}"
        yield served
    assert served.process.proc.returncode == 0, served.process.output()
    with pytest.raises(OSError):  # the endpoint it started is gone too
        socket.create_connection(("127.0.0.1", endpoint_port), timeout=2).close()


def _body(raw: bytes) -> dict:
    return json.loads(raw.decode())


def _endpoints_mysfit(endpoint_url: str, entry: list[int]) -> str:
    """What the model itself says for these answers, asked over SageMaker's container contract."""
    from mysfits_api.catalog import mysfit_for_label

    port = int(endpoint_url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", "/invocations", ",".join(map(str, entry)), {"Content-Type": "text/csv"})
        response = connection.getresponse()
        label = json.loads(response.read())["predictions"][0]["predicted_label"]
    finally:
        connection.close()
    return mysfit_for_label(int(label)).id


def test_the_workshops_request_gets_the_models_mysfit(api):
    status, headers, raw = api.request("POST", "/recommendations", {"entry": WORKSHOP_ENTRY}, {"Origin": ORIGIN})
    assert status == 200, raw
    assert _body(raw)["modelPick"] == _endpoints_mysfit(api.endpoint_url, WORKSHOP_ENTRY)
    assert headers["access-control-allow-origin"] == "*"
    assert headers["content-type"].startswith("application/json")


def test_different_answers_get_what_the_model_says_for_each(api):
    entries = ([1, 1, 1, 1, 1], [8, 8, 8, 8, 8], [1, 8, 1, 8, 1], [4, 4, 4, 4, 4], [8, 1, 8, 1, 8])
    served = {tuple(e): _body(api.request("POST", "/recommendations", {"entry": e})[2])["modelPick"] for e in entries}
    assert served == {tuple(e): _endpoints_mysfit(api.endpoint_url, e) for e in entries}
    assert len(set(served.values())) > 1, "every answer got the same Mysfit: not a useful check of the model"


def test_the_preflight_allows_the_pages_post(api):
    status, headers, _ = api.request(
        "OPTIONS", "/recommendations", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    )
    assert status == 200
    assert headers["access-control-allow-origin"] == "*"
    assert "POST" in headers["access-control-allow-methods"]
    assert "content-type" in headers["access-control-allow-headers"].lower()
    assert headers["access-control-max-age"] == "600"


@pytest.mark.parametrize(
    ("body", "field", "received"),
    [({"entry": [1, 2, 3, 4, 9]}, "entry[4]", 9), ({"entry": [1, 2, 3]}, "entry", None), ({}, "entry", None)],
)
def test_bad_input_is_a_400_that_names_the_field(api, body, field, received):
    status, headers, raw = api.request("POST", "/recommendations", body, {"Origin": ORIGIN})
    assert status == 400, raw
    error = _body(raw)
    assert error["field"] == field
    if received is not None:
        assert error["received"] == received
    assert headers["access-control-allow-origin"] == "*"


def test_the_questionnaire_is_served_by_the_function(api):
    from mysfits_api.questionnaire import load_questionnaire

    status, headers, raw = api.request("GET", "/questionnaire")
    assert status == 200, raw
    served = _body(raw)
    assert json.dumps(served, sort_keys=True) == json.dumps(load_questionnaire().to_dict(), sort_keys=True)
    assert headers["access-control-allow-origin"] == "*"


def test_without_a_choices_table_the_recommendation_is_answered_but_not_kept(api):
    """env.json names no table, so the function never reaches for DynamoDB: it answers, says the recommendation
    was not kept (no recommendationId, so the page offers no Adopt button), and refuses a choice with 503."""
    status, _, raw = api.request("POST", "/recommendations", {"entry": WORKSHOP_ENTRY})
    assert status == 200, raw
    assert "recommendationId" not in _body(raw)
    assert "recommendation not kept" in api.process.output()
    choice = {"recommendationId": str(uuid.uuid4()), "mysfitId": _body(raw)["recommendedMysfit"]}
    status, headers, raw = api.request("POST", "/choices", choice)
    assert status == 503, raw
    assert "retry" in _body(raw)["message"]
    assert headers["access-control-allow-origin"] == "*"


def test_the_functions_environment_comes_from_the_templates_parameters(tmp_path, model):
    """Another endpoint name and origin, given only as parameters: the function must call that endpoint by name
    and answer with that origin, even with other values for them in the shell (SAM would prefer those); with the
    endpoint stopped, it answers 502 or 503 with CORS headers."""
    origin = "http://page.example:8000"
    name = "mysfits-sam-param"
    overrides = f"SageMakerEndpointName={name} AllowedOrigin={origin} LogLevel=DEBUG"
    shell = {"SAGEMAKER_ENDPOINT_NAME": "mysfits-from-the-shell", "ALLOWED_ORIGIN": "https://shell.example"}
    with endpoint(tmp_path, model, name) as (url, endpoint_process):
        with sam_local(tmp_path, "--endpoint-url", url, "--parameter-overrides", overrides, env=shell) as served:
            status, headers, raw = served.request("POST", "/recommendations", {"entry": WORKSHOP_ENTRY})
            assert status == 200, raw
            assert headers["access-control-allow-origin"] == origin
            status, headers, _ = served.request(
                "OPTIONS", "/recommendations", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
            )
            assert headers["access-control-allow-origin"] == origin
            endpoint_process.interrupt()
            status, headers, raw = served.request("POST", "/recommendations", {"entry": WORKSHOP_ENTRY})
            assert status in (502, 503), raw
            assert headers["access-control-allow-origin"] == origin
            assert "message" in _body(raw)
    # SIGTERM took the Ctrl-C way out: SAM stopped (and its server with it), nothing was left to kill.
    assert served.process.proc.returncode == 0, served.process.output()
    assert "removed leftover" not in served.process.output()
    for variable in shell:
        assert f"not passing {variable} from this shell" in served.process.output()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", served.port), timeout=2).close()


def test_the_page_is_served_and_set_up_to_call_this_api(api):
    connection = http.client.HTTPConnection("127.0.0.1", api.page_port, timeout=10)
    try:
        connection.request("GET", "/config.json")
        response = connection.getresponse()
        config = json.loads(response.read())
        connection.request("GET", "/")
        page = connection.getresponse()
        html = page.read().decode()
    finally:
        connection.close()
    assert response.status == 200
    assert config["apiBaseUrl"] == f"http://127.0.0.1:{api.port}"
    assert page.status == 200 and html == (REPO / "web" / "index.html").read_text()


def test_the_launcher_refuses_a_sam_cli_it_was_not_tested_with(monkeypatch, capsys):
    """If SAM changes, the run must fail loudly, not skip: the launcher checks the version and the internals."""
    from mysfits.local.sam_local import launcher

    launcher.check_internals()  # the installed SAM is the one it was written against
    monkeypatch.setattr(launcher, "TESTED_SAM_VERSION", "0.0.1")
    assert launcher.main(["--version"]) == launcher.INTERNALS_CHANGED
    assert "tested with 0.0.1" in capsys.readouterr().err


def test_containers_are_adjusted_only_in_the_expected_shape():
    from mysfits.local.sam_local import launcher

    adjusted = launcher.adjust(
        {"entrypoint": [launcher.EMULATOR, "--log-level", "error"], "ports": {"8080": ("127.0.0.1", 5001)}}
    )
    assert adjusted["network_mode"] == "host" and "ports" not in adjusted
    assert adjusted["entrypoint"][3:5] == ["--runtime-interface-emulator-address", "127.0.0.1:5001"]
    with pytest.raises(launcher.SamInternalsChanged, match="without publishing port 8080"):
        launcher.adjust({"entrypoint": [launcher.EMULATOR], "ports": {"9000": ("127.0.0.1", 5001)}})
    with pytest.raises(launcher.SamInternalsChanged, match="debugging ports"):
        launcher.adjust({"entrypoint": [launcher.EMULATOR], "ports": {"8080": ("127.0.0.1", 1), "5858": 5858}})


@pytest.mark.browser
def test_the_page_calls_the_api_across_origins_in_chromium(api, page):
    """The page (port A) posts to SAM (port B) the way app.js does: Chromium's CORS checks must let it through."""
    page.goto(f"http://127.0.0.1:{api.page_port}/")
    result = page.evaluate(
        """async (entry) => {
            const config = await (await fetch("config.json")).json();
            const response = await fetch(config.apiBaseUrl + "/recommendations", {
                method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({entry}),
            });
            return {status: response.status, body: await response.json()};
        }""",
        WORKSHOP_ENTRY,
    )
    assert result["status"] == 200, result
    assert result["body"]["recommendedMysfit"]


def test_the_launcher_refuses_to_let_sam_pull_or_build_an_image():
    """With the base image missing, SAM would pull or build FROM AWS's image: the launcher stops it before dockerd."""
    script = (
        "import docker\n"
        "from mysfits.local.sam_local import launcher\n"
        "launcher.install()\n"
        "client = docker.APIClient(base_url='unix:///nonexistent/docker.sock', version='1.41')\n"
        "for call in (lambda: client.pull('public.ecr.aws/lambda/python'), lambda: client.build(path='.')):\n"
        "    try:\n"
        "        call()\n"
        "    except launcher.RegistryRefused as exc:\n"
        "        print('refused:', exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], env=child_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("refused:") == 2, done.stdout + done.stderr
