"""The local gateway's limits per client (issue 29): the buckets, what they keep, and where their numbers come from."""

from __future__ import annotations

import ipaddress
import os
import signal
import threading

import pytest

from mysfits.cli import build_parser
from mysfits.local.gateway.client_limits import (
    ROUTE_PARAMETERS,
    SWITCH_PARAMETER,
    WINDOW_S,
    LimitSettingError,
    Rate,
    SharedBuckets,
    client_of,
    parse_setting,
    rates_from_parameters,
)
from mysfits.local.gateway.template import load_api
from tests.templates.sam_template import TEMPLATE, sam_template

CHOICES = Rate(10, WINDOW_S, "ChoicesPerClientPerMinute")


def test_one_address_gets_the_limit_at_once_then_one_more_per_refill():
    buckets = SharedBuckets()
    waits = [buckets.take("POST /choices", "192.0.2.7", CHOICES, now=100.0) for _ in range(11)]
    assert waits[:10] == [0.0] * 10
    assert waits[10] == pytest.approx(6.0)  # 10 a minute: one more every 6 s
    assert buckets.take("POST /choices", "192.0.2.7", CHOICES, now=105.0) == pytest.approx(1.0)
    assert buckets.take("POST /choices", "192.0.2.7", CHOICES, now=106.0) == 0.0
    assert buckets.take("POST /choices", "192.0.2.8", CHOICES, now=106.0) == 0.0, "another address, another bucket"
    assert buckets.take("POST /recommendations", "192.0.2.7", CHOICES, now=106.0) == 0.0, "another route too"


def test_worker_processes_share_one_bucket_per_address():
    """Forked after the table was made, as `mysfits serve --workers N` forks its workers: four processes taking
    as fast as they can get the limit between them, not four times it."""
    buckets = SharedBuckets()
    children = []
    for _ in range(4):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child's exit code is its count
            passed = sum(buckets.take("POST /choices", "192.0.2.7", CHOICES, now=100.0) == 0.0 for _ in range(50))
            os._exit(passed)
        children.append(pid)
    counts = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
    assert sum(counts) == CHOICES.limit, counts


def test_a_worker_killed_while_holding_the_lock_does_not_wedge_the_others():
    """The supervisor replaces a worker that dies (OOM killer, SIGKILL); the lock it held must not outlive it."""
    buckets = SharedBuckets()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - dies holding the lock
        with buckets._locked():
            os.kill(os.getpid(), signal.SIGKILL)
    os.waitpid(pid, 0)
    answered = []
    taker = threading.Thread(
        target=lambda: answered.append(buckets.take("POST /choices", "192.0.2.7", CHOICES)), daemon=True
    )
    taker.start()
    taker.join(30)  # a guard against hanging the suite, not a measurement
    assert answered == [0.0]


def test_an_address_is_forgotten_once_its_bucket_is_full_again():
    buckets = SharedBuckets()
    for n in range(200):
        buckets.take("POST /choices", f"198.51.100.{n}", CHOICES, now=100.0)
    assert buckets.sweep(now=100.0) == 200
    # One request took one token; a token comes back every 6 s.
    assert buckets.sweep(now=105.9) == 200
    assert buckets.sweep(now=106.0) == 0


def test_the_table_holds_no_address_only_salted_hashes():
    buckets = SharedBuckets()
    address = "203.0.113.45"
    for _ in range(5):
        buckets.take("POST /choices", address, CHOICES, now=100.0)
    memory = bytes(buckets._memory)
    assert address.encode() not in memory
    assert ipaddress.ip_address(address).packed not in memory
    assert SharedBuckets()._key("POST /choices", address) != buckets._key("POST /choices", address)


def test_a_full_set_forgets_the_entry_closest_to_a_full_bucket_first():
    buckets = SharedBuckets(sets=1, ways=2)
    heavy = [buckets.take("POST /choices", "192.0.2.1", CHOICES, now=100.0) for _ in range(10)]
    light = buckets.take("POST /choices", "192.0.2.2", CHOICES, now=100.0)
    assert heavy == [0.0] * 10 and light == 0.0
    # A third address needs a slot: the light user's entry goes, the heavy user stays limited.
    assert buckets.take("POST /choices", "192.0.2.3", CHOICES, now=100.0) == 0.0
    assert buckets.take("POST /choices", "192.0.2.1", CHOICES, now=100.0) > 0.0


@pytest.mark.parametrize(
    ("address", "client"),
    [
        ("127.1.2.3", "127.1.2.3"),
        ("::ffff:192.0.2.9", "192.0.2.9"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::7", "2001:db8:1:2::/64"),
        ("not an address", "not an address"),
    ],
)
def test_a_client_is_an_ipv4_address_or_an_ipv6_slash_64(address, client):
    assert client_of(address) == client


def test_the_flag_reads_on_off_and_a_factor_and_names_what_it_takes():
    assert parse_setting("on") == 1.0
    assert parse_setting("OFF") is None
    assert parse_setting("10x") == 10.0
    for bad in ("0.5x", "x", "ten", "-3x", "infx", ""):
        with pytest.raises(LimitSettingError, match=r"on .*off .*10x"):
            parse_setting(bad)


def test_serve_limits_by_default():
    args = build_parser().parse_args(["serve"])
    assert args.client_limit == 1.0
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--client-limit", "lots"])


def test_the_local_limits_are_the_templates_parameters():
    declared = sam_template()["Parameters"]
    rates = rates_from_parameters(load_api(TEMPLATE, {}, "test").parameters, 1.0)
    assert {route: rate.limit for route, rate in rates.items()} == {
        route: declared[name]["Default"] for route, name in ROUTE_PARAMETERS.items()
    }
    assert all(rate.window_s == 60 for rate in rates.values())


def test_the_switch_the_factor_and_a_template_without_the_parameters():
    on = {SWITCH_PARAMETER: "true", "RecommendationsPerClientPerMinute": "30", "ChoicesPerClientPerMinute": "10"}
    assert rates_from_parameters({**on, SWITCH_PARAMETER: "false"}, 1.0) == {}
    assert rates_from_parameters(on, None) == {}
    assert rates_from_parameters({"LogLevel": "INFO"}, 1.0) == {}
    tenfold = rates_from_parameters(on, 10.0)
    assert tenfold[("POST", "/choices")].limit == 100
    assert tenfold[("POST", "/recommendations")].limit == 300


def test_argparse_reports_a_bad_factor_with_the_allowed_forms(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--client-limit", "0x"])
    err = capsys.readouterr().err
    assert "--client-limit" in err and "10x" in err
