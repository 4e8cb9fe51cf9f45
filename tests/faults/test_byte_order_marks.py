"""Issue 22, item 11 (last point): a UTF-8 byte-order mark before the endpoint's CSV or JSON is dropped, not
refused as a bad row (it was a 424 ModelError)."""

from __future__ import annotations

import json

import pytest

from mysfits.local.endpoint.server import serve_in_thread
from tests.api_support import local_runtime_client
from tests.endpoint_artifacts import write_artifact

BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/csv", b"1,2,3,4,5\n8,8,8,8,8"), ("application/json", b'{"instances":[{"features":[1,2,3,4,5]}]}')],
)
def test_a_bom_before_the_body_is_dropped(tmp_path, content_type, body):
    write_artifact(tmp_path / "model.json", rows=400)
    with serve_in_thread(str(tmp_path / "model.json"), "mysfits-knn") as endpoint:
        client = local_runtime_client(endpoint.url)
        plain = client.invoke_endpoint(EndpointName="mysfits-knn", ContentType=content_type, Body=body)
        marked = client.invoke_endpoint(EndpointName="mysfits-knn", ContentType=content_type, Body=BOM + body)
        assert json.loads(marked["Body"].read()) == json.loads(plain["Body"].read())
