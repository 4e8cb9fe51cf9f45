"""The local stack over plain HTTP, the way the original Mythical Mysfits site called it."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request

import pytest

from mysfits_api.catalog import label_ids

pytestmark = pytest.mark.slow


def test_the_original_sites_curl_call(stack):
    url = f"{stack.url}/recommendations"
    curl = shutil.which("curl")
    if curl:
        done = subprocess.run(
            [curl, "-sS", "-d", '{"entry": [1,2,3,4,5]}', url, "-X", "POST"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        body = json.loads(done.stdout)
    else:
        request = urllib.request.Request(url, data=b'{"entry": [1,2,3,4,5]}', method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.load(response)
    assert body["recommendedMysfit"] in label_ids()
    assert body["mysfit"]["id"] == body["recommendedMysfit"]


def test_questionnaire_and_page_come_from_one_server(stack):
    with urllib.request.urlopen(f"{stack.url}/questionnaire", timeout=10) as response:
        questionnaire = json.load(response)
    assert len(questionnaire["questions"]) == 5
    with urllib.request.urlopen(f"{stack.url}/", timeout=10) as response:
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert b"<form" in response.read()


def test_locally_the_api_allows_any_origin_although_samconfig_deploys_the_website(stack):
    """samconfig.toml asks AWS for the CloudFront website, whose origin the API would allow; here there is none."""
    request = urllib.request.Request(
        f"{stack.url}/recommendations",
        method="OPTIONS",
        headers={"Origin": "http://elsewhere.example", "Access-Control-Request-Method": "POST"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    request = urllib.request.Request(
        f"{stack.url}/recommendations", data=b'{"entry": [1,2,3,4,5]}', method="POST", headers={"Origin": "http://x.y"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_the_served_config_is_the_committed_one_pointing_at_this_server(stack):
    with urllib.request.urlopen(f"{stack.url}/config.json", timeout=10) as response:
        assert json.load(response)["apiBaseUrl"] == ""


def test_concurrent_requests_each_get_their_own_answer(stack):
    """Eight clients at once, each with different answers: no response may belong to another request.

    Powertools keeps the current event on the resolver, so two invocations in one process at
    the same time would read each other's body. Lambda never does that, and neither may we.
    """
    import random
    from concurrent.futures import ThreadPoolExecutor

    from mysfits.model.artifact import load_model
    from mysfits_api.questionnaire import cell_index

    model = load_model(stack.model)
    ids = label_ids()
    rng = random.Random(5)
    entries = [[rng.randint(1, 8) for _ in range(5)] for _ in range(400)]

    def ask(entry):
        request = urllib.request.Request(
            f"{stack.url}/recommendations", data=json.dumps({"entry": entry}).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)["modelPick"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(ask, entries))
    expected = [ids[model.table[cell_index(entry)]] for entry in entries]
    mismatches = sum(a != e for a, e in zip(answers, expected, strict=True))
    assert mismatches == 0, f"{mismatches} of {len(entries)} responses answered someone else's request"
