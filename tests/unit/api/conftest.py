from __future__ import annotations

import pytest
from botocore.stub import Stubber

from tests.api_support import imported_handler, runtime_client


@pytest.fixture(scope="module")
def handler():
    """The handler under template.yaml's environment. Only for one module at a time: a worker's later tests start
    processes (SAM among them) that would inherit that environment and take its values over their own."""
    with imported_handler() as module:
        yield module


@pytest.fixture
def stub(handler, monkeypatch):
    """A Stubber on a real sagemaker-runtime client, installed as the handler's client for one test."""
    client = runtime_client()
    monkeypatch.setattr(handler, "runtime", client)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def stub_runtime_factory(monkeypatch):
    """Install a Stubber'd runtime client on a handler module imported inside the test."""
    stubbers = []

    def install(module):
        client = runtime_client()
        monkeypatch.setattr(module, "runtime", client)
        stubber = Stubber(client)
        stubber.activate()
        stubbers.append(stubber)
        return stubber

    yield install
    for stubber in stubbers:
        stubber.deactivate()
