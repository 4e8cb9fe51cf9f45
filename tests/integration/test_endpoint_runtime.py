"""The local endpoint through an unmodified boto3 ``sagemaker-runtime`` client, over real HTTP on loopback."""

from __future__ import annotations

import itertools
import json
import random
import time

import httpx
import numpy as np
import pytest
from botocore.exceptions import ClientError

from mysfits.local.endpoint.protocol import MAX_PAYLOAD_BYTES, parse_response
from mysfits.local.endpoint.server import serve_in_thread
from mysfits.model import knn
from mysfits_api.questionnaire import N_CELLS, cell_index
from tests.api_support import local_runtime_client
from tests.endpoint_artifacts import write_artifact

NAME = "mysfits-knn"
ALL_ANSWERS = list(itertools.product(range(1, 9), repeat=5))  # itertools order is cell_index order


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("endpoint") / "mysfits-knn.json"
    write_artifact(path)
    return path


@pytest.fixture(scope="module")
def endpoint(model_path):
    with serve_in_thread(str(model_path), NAME) as handle:
        yield handle


@pytest.fixture(scope="module")
def client(endpoint):
    return local_runtime_client(endpoint.url)


@pytest.fixture(scope="module")
def table(endpoint):
    return endpoint.model.table


def invoke(client, body, content_type="text/csv", accept=None, **extra):
    args = {"EndpointName": NAME, "Body": body, "ContentType": content_type, **extra}
    if accept:
        args["Accept"] = accept
    response = client.invoke_endpoint(**args)
    return response, parse_response(response["Body"].read(), response["ContentType"])


def csv_of(rows) -> str:
    return "\n".join(",".join(map(str, row)) for row in rows) + "\n"


def bodies(rows) -> dict[str, str]:
    """The same rows in every request form the built-in kNN accepts."""
    return {
        "text/csv": csv_of(rows),
        "application/json": json.dumps({"instances": [{"features": list(row)} for row in rows]}),
        "application/json+data": json.dumps(
            {"instances": [{"data": {"features": {"values": list(row)}}} for row in rows]}
        ),
        "application/jsonlines": "\n".join(json.dumps({"features": list(row)}) for row in rows),
        "application/jsonlines+data": "\n".join(
            json.dumps({"data": {"features": {"values": list(row)}}}) for row in rows
        ),
    }


def refused(client, **args) -> ClientError:
    with pytest.raises(ClientError) as caught:
        client.invoke_endpoint(**{"EndpointName": NAME, "ContentType": "text/csv", **args})
    return caught.value


# -- answers ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", [None, "application/json", "application/jsonlines"])
@pytest.mark.parametrize("form", list(bodies([(1, 1, 1, 1, 1)])))
def test_every_request_and_response_format_answers_from_the_table(client, table, form, accept):
    rows = random.Random(form + str(accept)).sample(ALL_ANSWERS, 25)
    response, predictions = invoke(client, bodies(rows)[form], form.split("+")[0], accept)
    assert response["ContentType"] == (accept or "application/json")
    assert [p["predicted_label"] for p in predictions] == [float(table[cell_index(row)]) for row in rows]
    assert all(type(p["predicted_label"]) is float for p in predictions)


def test_response_headers_that_boto3_maps(client, model_path):
    response, _ = invoke(client, "1,2,3,4,5", CustomAttributes="trace-id=abc123")
    checksum = json.loads(model_path.read_text())["checksum"].removeprefix("sha256:")
    assert response["InvokedProductionVariant"] == f"ordinal-{checksum[:12]}"
    assert response["ContentType"] == "application/json"
    assert response["CustomAttributes"] == "trace-id=abc123"
    assert len(response["ResponseMetadata"]["RequestId"]) == 36


def test_a_batch_is_answered_in_request_order(client, table):
    rows = random.Random(3).choices(ALL_ANSWERS, k=2000)
    _, predictions = invoke(client, csv_of(rows))
    assert len(predictions) == len(rows)
    assert [p["predicted_label"] for p in predictions] == [float(table[cell_index(row)]) for row in rows]


@pytest.mark.slow
def test_all_answer_vectors_over_http_equal_the_artifact_table(client, table):
    predicted = []
    for start in range(0, N_CELLS, 8192):
        _, predictions = invoke(client, csv_of(ALL_ANSWERS[start : start + 8192]))
        predicted.extend(int(p["predicted_label"]) for p in predictions)
    assert len(predicted) == N_CELLS
    assert bytes(predicted) == table


def direct_knn(endpoint, rows):
    X, y = knn.sample_arrays(endpoint.model.artifact)
    return knn.neighbours(X, y, np.asarray(rows, dtype=float), endpoint.model.k)


@pytest.mark.parametrize("accept", ["application/json; verbose=true", "application/jsonlines;verbose=true"])
def test_verbose_adds_sorted_distances_and_neighbour_labels(client, endpoint, table, accept):
    rows = [(1, 2, 3, 4, 5), (8, 8, 8, 8, 8), (2.5, 3, 3, 7.25, 1)]
    response, predictions = invoke(client, csv_of(rows), accept=accept)
    predicted, distances, labels = direct_knn(endpoint, rows)
    assert response["ContentType"] == accept.split(";")[0]
    for answer, p, d, lab in zip(predictions, predicted, distances, labels, strict=True):
        assert answer["predicted_label"] == float(p)
        assert answer["distances"] == pytest.approx(d.tolist())
        assert answer["distances"] == sorted(answer["distances"])
        assert answer["labels"] == [float(v) for v in lab]
        assert len(answer["labels"]) == endpoint.model.k
    # Verbose and plain answers agree on grid rows: the table was compiled with the same tie rule.
    assert predictions[0]["predicted_label"] == float(table[cell_index(rows[0])])
    assert predictions[1]["predicted_label"] == float(table[cell_index(rows[1])])


def test_off_grid_rows_get_the_direct_knn_answer(client, endpoint, table):
    rows = [(2.5, 1, 1, 1, 1), (9, 9, 9, 9, 9), (1, 2, 3, 4, 5), (0, 0.5, 3, 3, 3)]
    _, predictions = invoke(client, csv_of(rows))
    predicted, _, _ = direct_knn(endpoint, rows)
    assert [p["predicted_label"] for p in predictions] == [float(v) for v in predicted]
    assert predictions[2]["predicted_label"] == float(table[cell_index(rows[2])])


def test_the_official_endpoint_url_variable_reaches_the_local_endpoint(endpoint, table, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", endpoint.url)
    _, predictions = invoke(local_runtime_client(None), "3,3,3,3,3")
    assert predictions == [{"predicted_label": float(table[cell_index((3, 3, 3, 3, 3))])}]


# -- errors as SageMaker reports them ----------------------------------------------------------------------------------


def test_unknown_endpoint_is_a_validation_error(client):
    error = refused(client, EndpointName="mysfits-other", Body="1,2,3,4,5")
    assert error.response["Error"]["Code"] == "ValidationError"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "Endpoint mysfits-other of account" in error.response["Error"]["Message"]
    assert "not found" in error.response["Error"]["Message"]


@pytest.mark.parametrize(
    ("args", "status", "fragment"),
    [
        ({"Body": "1,2,3,4,5\n1,2,3,4\n"}, 400, "row 2 (line 2): expected 5 comma-separated numbers (the model"),
        ({"Body": "1,2,3,4,5\n1,x,3,4,5\n"}, 400, "row 2 (line 2, column 2): 'x' is not a number"),
        ({"Body": '{"instances": [{"features": [1,2,3]}]}', "ContentType": "application/json"}, 400, "row 1"),
        ({"Body": "", "ContentType": "text/csv"}, 400, "the request body is empty"),
        ({"Body": "1,2,3,4,5", "ContentType": "application/x-recordio-protobuf"}, 415, "is not supported"),
        ({"Body": "1,2,3,4,5", "Accept": "text/csv"}, 406, "Accept 'text/csv' is not supported"),
    ],
)
def test_payloads_the_model_rejects_are_model_errors(client, args, status, fragment):
    error = refused(client, **args)
    assert error.response["Error"]["Code"] == "ModelError"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error.response["OriginalStatusCode"] == status
    assert fragment in error.response["OriginalMessage"]
    assert fragment in error.response["Error"]["Message"]
    assert f"Received client error ({status}) from primary" in error.response["Error"]["Message"]
    assert error.response["LogStreamArn"].startswith("arn:aws:logs:us-east-1:")


def test_missing_content_type_is_a_model_error(client):
    with pytest.raises(ClientError) as caught:
        client.invoke_endpoint(EndpointName=NAME, Body=b"1,2,3,4,5")
    assert caught.value.response["Error"]["Code"] == "ModelError"
    assert caught.value.response["OriginalStatusCode"] == 415


def test_the_serving_variant_can_be_targeted(client, endpoint):
    response, _ = invoke(client, "1,2,3,4,5", TargetVariant=endpoint.model.variant)
    assert response["InvokedProductionVariant"] == endpoint.model.variant


def test_unknown_target_variant_is_a_validation_error(client):
    error = refused(client, Body="1,2,3,4,5", TargetVariant="Canary")
    assert error.response["Error"]["Code"] == "ValidationError"
    assert "Variant Canary not found" in error.response["Error"]["Message"]


def test_a_body_over_the_limit_gets_the_services_413(client):
    body = b"1,2,3,4,5\n" * (MAX_PAYLOAD_BYTES // 10 + 1)
    with pytest.raises(ClientError) as caught:
        client.invoke_endpoint(EndpointName=NAME, ContentType="text/csv", Body=body)
    assert caught.value.response["Error"]["Code"] == "413"
    assert caught.value.response["Error"]["Message"] == f"HTTP content length exceeded {MAX_PAYLOAD_BYTES} bytes."


def test_a_streamed_body_is_cut_off_at_the_limit(endpoint):
    """No Content-Length (chunked upload): the server counts bytes as they arrive and stops at the limit."""
    sent = 0

    def chunks():
        nonlocal sent
        for _ in range(200):  # 200 x 64 KiB = 12.5 MiB offered
            sent += 65536
            yield b"1,2,3,4,5\n" * 6553 + b"123456"

    with httpx.Client(timeout=10) as http:
        response = http.post(
            f"{endpoint.url}/endpoints/{NAME}/invocations", content=chunks(), headers={"content-type": "text/csv"}
        )
    assert response.status_code == 413
    assert response.json()["message"] == f"HTTP content length exceeded {MAX_PAYLOAD_BYTES} bytes."


def test_a_body_at_the_limit_is_accepted(client, table):
    row = b"1,2,3,4,5\n"
    body = row * (MAX_PAYLOAD_BYTES // len(row))
    _, predictions = invoke(client, body)
    assert len(predictions) == MAX_PAYLOAD_BYTES // len(row)
    assert predictions[-1] == {"predicted_label": float(table[cell_index((1, 2, 3, 4, 5))])}


# -- the container contract -------------------------------------------------------------------------------------------


def test_container_contract_ping_and_invocations(endpoint, table):
    with httpx.Client(base_url=endpoint.url, timeout=10) as http:
        assert http.get("/ping").status_code == 200
        answer = http.post("/invocations", content="1,2,3,4,5\n", headers={"content-type": "text/csv"})
        refusal = http.post("/invocations", content="1,2,3,4,5", headers={"content-type": "image/png"})
        unknown = http.get("/models")
    assert answer.status_code == 200
    assert answer.json() == {"predictions": [{"predicted_label": float(table[cell_index((1, 2, 3, 4, 5))])}]}
    assert "x-amzn-invoked-production-variant" not in answer.headers  # SageMaker adds it, not the container
    assert refusal.status_code == 415
    assert "'image/png' is not supported" in refusal.text
    assert unknown.status_code == 404
    assert "POST /endpoints/{name}/invocations" in unknown.json()["message"]


def test_every_request_is_logged_as_one_json_line(client, caplog):
    caplog.set_level("INFO", logger="mysfits.local.endpoint")
    invoke(client, "1,2,3,4,5\n5,4,3,2,1\n")
    refused(client, Body="1,2,3\n")

    def request_lines():
        messages = [r.getMessage() for r in caplog.records if r.name == "mysfits.local.endpoint"]
        lines = [json.loads(line) for message in messages for line in message.splitlines()]
        return [line for line in lines if line["event"] == "request"]

    deadline = time.monotonic() + 5  # lines are flushed when the server's loop ends its current iteration
    while len(request_lines()) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    requests = request_lines()
    summary = [(r["status"], r["rows"], r["content_type"]) for r in requests]
    assert summary == [(200, 2, "text/csv"), (424, 0, "text/csv")]
    assert all(r["latency_ms"] >= 0 for r in requests)
    assert "row 1 (line 1)" in requests[1]["error"]


def test_a_large_sample_answers_grid_rows_by_walking_cells_and_off_grid_rows_directly(tmp_path):
    """From GRID_WALK_FROM rows up, verbose grid rows come from the sample's cells; the answers are still exactly
    those of every distance, in order, and off-grid rows in the same request still get the direct kNN."""
    from mysfits.local.endpoint.model import GRID_WALK_FROM

    path = tmp_path / "large.json"
    write_artifact(path, rows=GRID_WALK_FROM + 5000, seed=11, k=25)
    rows = [(1, 2, 3, 4, 5), (2.5, 1, 1, 1, 1), (8, 8, 8, 8, 8), (1, 1, 1, 1, 1), (9, 0, 3, 3, 3)]
    with serve_in_thread(str(path), NAME) as handle:
        assert handle.model._index is None, "the direct index was built for a sample the grid walk serves"
        _, predictions = invoke(local_runtime_client(handle.url), csv_of(rows), accept="application/json;verbose=true")
        predicted, distances, labels = direct_knn(handle, rows)
    for answer, p, d, lab in zip(predictions, predicted, distances, labels, strict=True):
        assert answer["predicted_label"] == float(p)
        assert answer["distances"] == pytest.approx(d.tolist())
        assert answer["labels"] == [float(v) for v in lab]
