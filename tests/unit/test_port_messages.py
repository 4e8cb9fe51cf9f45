"""A busy port's message names the command that was run: `make run` for the local stack, `make sam-local` for the
Docker one, each with the variable and the flag that move it."""

import socket

import pytest

from mysfits.local.sam_local import cli as sam_local
from mysfits.local.serve import processes


@pytest.fixture
def busy_port():
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


@pytest.mark.parametrize(
    ("role", "advice"),
    [
        (processes.GATEWAY_PORT, "make run PORT={next}  (or mysfits serve --port {next})"),
        (sam_local.API_PORT, "make sam-local SAM_LOCAL_PORT={next}  (or mysfits sam-local --port {next})"),
        (sam_local.PAGE_PORT, "make sam-local SAM_LOCAL_PAGE_PORT={next}  (or mysfits sam-local --page-port {next})"),
        (sam_local.ENDPOINT_PORT, "make sam-local ENDPOINT_PORT={next}  (or mysfits sam-local --endpoint-port {next})"),
    ],
)
def test_a_busy_port_is_named_with_the_way_to_move_it(busy_port, role, advice):
    with pytest.raises(processes.ServeError) as caught:
        processes.check_port_free(role, "127.0.0.1", busy_port)
    assert str(caught.value) == (
        f"port {busy_port} on 127.0.0.1 ({role.what}) is already in use; stop what is using it or choose another "
        f"port: {advice.format(next=busy_port + 1)}"
    )
