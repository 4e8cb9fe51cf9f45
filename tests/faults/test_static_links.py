"""Issue 22, item 6: a symlink loop in the page's folder is a JSON 404 with the gateway's headers, not a 500."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from mysfits.local.gateway.server import GatewaySettings, build_gateway
from mysfits.local.http_server import BackgroundServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gateway"


def test_symlink_loops_are_404s_and_the_page_still_serves(tmp_path):
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html><title>t</title>")
    os.symlink("loop", web / "loop")
    os.symlink("b", web / "a")
    os.symlink("a", web / "b")
    settings = GatewaySettings(
        template=FIXTURES / "template.yaml",
        sagemaker_runtime_url="http://127.0.0.1:9",
        web_root=web,
        parameter_overrides={"AllowedOrigin": "http://page.example"},
    )
    with BackgroundServer(build_gateway(settings)) as server, httpx.Client(base_url=server.url, timeout=5) as client:
        for path in ("/loop", "/a", "/loop/index.html"):
            response = client.get(path)
            assert response.status_code == 404, path
            assert response.headers["content-type"] == "application/json"
            assert response.json() == {"message": "Not Found"}
        assert client.get("/").status_code == 200
