"""The API stack's alarms as the smoke run checks them: each of template.yaml's alarms exists, and none is firing.

A deploy that left an alarm out (a template edit, a failed resource) would leave an outage unreported, and an alarm
already in ALARM right after a clean run means the run's own traffic tripped it. Alarms are named
``<stack>-<what>`` in template.yaml; tests/templates checks that the list below is the template's.
"""

from __future__ import annotations

from mysfits.aws.smoke_report import Check

ALARMS = (
    "api-5xx-rate",
    "api-p99-latency",
    "function-errors",
    "function-throttles",
    "endpoint-5xx",
    "store-refusals",
    "acceptance-drop",
)


def alarm_names(stack: str) -> list[str]:
    return [f"{stack}-{suffix}" for suffix in ALARMS]


def check_alarms(cloudwatch, stack: str) -> list[Check]:
    """One check per alarm: present and not in ALARM (OK or INSUFFICIENT_DATA, which an alarm on a metric nobody has
    published yet is in)."""
    found = {}
    # By name, not by prefix: the deployer's policy scopes CloudWatch to the project's alarms by name.
    for page in cloudwatch.get_paginator("describe_alarms").paginate(
        AlarmNames=alarm_names(stack), AlarmTypes=["MetricAlarm"]
    ):
        found.update({alarm["AlarmName"]: alarm for alarm in page["MetricAlarms"]})
    checks = []
    for name in alarm_names(stack):
        alarm = found.get(name)
        if alarm is None:
            checks.append(Check(f"alarm {name}", False, "missing: the API stack did not create it"))
        elif alarm["StateValue"] == "ALARM":
            checks.append(Check(f"alarm {name}", False, f"in ALARM: {alarm.get('StateReason', 'no reason given')}"))
        else:
            checks.append(Check(f"alarm {name}", True, alarm["StateValue"]))
    return checks
