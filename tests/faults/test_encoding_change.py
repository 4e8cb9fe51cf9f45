"""Issue 22, item 1: a retrained model with the other encoding, renamed over the served file, causes no error.

The endpoint names its variant ``<encoding>-<checksum>`` and refuses a row of the wrong width; the handler sends
that one request again in the other encoding and keeps it. A real endpoint reloads the file; the real handler calls
it through boto3, as ``mysfits serve`` wires them.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from mysfits.local.endpoint.server import serve_in_thread
from mysfits.model.artifact import save_model
from mysfits.model.knn import compile_table
from mysfits_api import encoding as encodings
from mysfits_api.catalog import mysfit_for_label
from mysfits_api.questionnaire import cell_index
from tests.api_support import LambdaContext, event_with, imported_handler
from tests.endpoint_artifacts import make_artifact
from tests.integration.test_endpoint_lifecycle import wait_until

LOCAL_ENV = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "MODEL_ENCODING": "ordinal"}
ANSWERS = [[1, 2, 3, 4, 5], [8, 8, 1, 2, 7], [3, 3, 3, 3, 3]]


def _one_hot(seed: int):
    ordinal = make_artifact(seed=seed, rows=400)
    X = np.frombuffer(ordinal.sample_features, dtype=np.uint8).reshape(-1, 5)
    y = np.frombuffer(ordinal.sample_labels, dtype=np.uint8)
    return dataclasses.replace(
        ordinal,
        hyperparameters={**ordinal.hyperparameters, "encoding": encodings.ONE_HOT, "feature_dim": 40},
        table=bytes(compile_table(X, y, ordinal.k, encodings.ONE_HOT)),
    )


def _recommend(handler, answers) -> dict:
    response = handler.lambda_handler(event_with(json.dumps({"entry": answers})), LambdaContext())
    assert response["statusCode"] == 200, response["body"]
    return json.loads(response["body"])


def test_an_encoding_change_under_a_running_api_answers_every_request(tmp_path, capsys):
    path = tmp_path / "model.json"
    ordinal = make_artifact(seed=1, rows=400)
    save_model(ordinal, path)
    one_hot = _one_hot(2)
    with (
        serve_in_thread(str(path), "mysfits-knn", refresh_interval=0.02) as endpoint,
        imported_handler(AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=endpoint.url, **LOCAL_ENV) as handler,
    ):
        assert endpoint.model.variant.startswith("ordinal-")
        for answers in ANSWERS:
            _recommend(handler, answers)

        staged = tmp_path / "staged.json"
        save_model(one_hot, staged)
        staged.replace(path)
        wait_until(lambda: endpoint.model.encoding == encodings.ONE_HOT, what="the one-hot model to serve")
        got = [_recommend(handler, answers)["modelPick"] for answers in ANSWERS]
        assert handler.encoding.encoding == encodings.ONE_HOT
        assert got == [mysfit_for_label(one_hot.table[cell_index(a)]).id for a in ANSWERS]

        save_model(ordinal, staged)
        staged.replace(path)
        wait_until(lambda: endpoint.model.encoding == encodings.ORDINAL, what="the ordinal model to serve again")
        for answers in ANSWERS:
            _recommend(handler, answers)
        assert handler.encoding.encoding == encodings.ORDINAL
    switches = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "model encoding changed" in line]
    assert [(s["previous"], s["current"]) for s in switches] == [("ordinal", "one-hot"), ("one-hot", "ordinal")]
    assert all("feature_dim" in s["refusal"] for s in switches)


def test_the_variant_names_the_encoding_and_the_checksum(tmp_path):
    path = tmp_path / "model.json"
    save_model(_one_hot(3), path)
    checksum = json.loads(path.read_text())["checksum"].removeprefix("sha256:")
    with serve_in_thread(str(path), "mysfits-knn", refresh_interval=5) as endpoint:
        assert endpoint.model.variant == f"one-hot-{checksum[:12]}"
