import json

from mysfits.aws.smoke_report import PASSED, Check, Report, StepRecord

ACCOUNT = "123456789012"


def _report(seconds: float) -> Report:
    step = StepRecord("API checks", "call the API", PASSED, seconds, f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:f")
    step.checks.append(Check("adopt", True, f"table arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/t"))
    return Report(
        "eu-west-1",
        "real run",
        {"stack": "mysfits-smoke", f"role {ACCOUNT}": "x"},
        steps=[step],
        latency={"p50 ms": seconds},
        outcome=PASSED,
        account=ACCOUNT,
    )


def test_numbers_that_print_twelve_digits_in_a_row_stay_numbers():
    """A step that took 0.123456789012 s once turned the JSON report's number into "0.<account>"."""
    seconds = 0.123456789012
    assert "123456789012" in repr(seconds)
    record = json.loads(_report(seconds).as_json())
    assert record["steps"][0]["seconds"] == seconds and record["latency"]["p50 ms"] == seconds


def test_the_account_id_is_redacted_in_every_string_and_key():
    text = _report(1.5).as_json()
    assert ACCOUNT not in text
    record = json.loads(text)
    assert record["steps"][0]["detail"] == "arn:aws:lambda:eu-west-1:<account>:function:f"
    assert record["steps"][0]["checks"][0]["line"].endswith(":<account>:table/t")
    assert "role <account>" in record["settings"]
