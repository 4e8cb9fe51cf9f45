"""How often visitors took the model's advice, per model version and per day: the loop's first sign of progress."""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from dataclasses import dataclass

from mysfits_api.choices import ChoiceReader


@dataclass(frozen=True)
class Tally:
    recommendations: int
    choices: int
    accepted: int

    @property
    def acceptance_rate(self) -> float | None:
        """Choices that adopted the recommended Mysfit, out of all choices (None before the first choice)."""
        return self.accepted / self.choices if self.choices else None


@dataclass(frozen=True)
class Stats:
    total: Tally
    by_version: dict[str, Tally]
    by_day: dict[str, Tally]
    """Keyed by the UTC day the recommendation was made."""


def collect(reader: ChoiceReader) -> Stats:
    made: dict[str, Counter] = {"version": Counter(), "day": Counter()}
    chosen: dict[str, Counter] = {"version": Counter(), "day": Counter()}
    accepted: dict[str, Counter] = {"version": Counter(), "day": Counter()}
    for recommendation in reader.recommendations():
        made["version"][recommendation.model_version or "unknown"] += 1
        made["day"][_day(recommendation.created_at)] += 1
    for choice in reader.choices():
        keys = {
            "version": choice.recommendation.model_version or "unknown",
            "day": _day(choice.recommendation.created_at),
        }
        for kind, key in keys.items():
            chosen[kind][key] += 1
            accepted[kind][key] += choice.accepted

    def tallies(kind: str) -> dict[str, Tally]:
        keys = sorted(set(made[kind]) | set(chosen[kind]))
        return {key: Tally(made[kind][key], chosen[kind][key], accepted[kind][key]) for key in keys}

    by_version, by_day = tallies("version"), tallies("day")
    total = Tally(
        sum(t.recommendations for t in by_day.values()),
        sum(t.choices for t in by_day.values()),
        sum(t.accepted for t in by_day.values()),
    )
    return Stats(total, by_version, by_day)


def _day(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).date().isoformat()


def format_stats(stats: Stats) -> str:
    lines = [_line("all", stats.total), "", "by model version:"]
    lines += [_line(version, tally) for version, tally in stats.by_version.items()] or ["  (none)"]
    lines += ["", "by day (UTC, when recommended):"]
    lines += [_line(day, tally) for day, tally in stats.by_day.items()] or ["  (none)"]
    return "\n".join(lines)


def _line(name: str, tally: Tally) -> str:
    rate = "n/a" if tally.acceptance_rate is None else f"{tally.acceptance_rate:.1%}"
    return f"  {name:<26} {tally.recommendations:>9,} recommendations {tally.choices:>8,} choices acceptance {rate:>6}"


def write_plot(stats: Stats, out: str | os.PathLike) -> None:
    """Acceptance rate per day, with the number of choices behind each point. Written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mysfits.files import write_figure_png

    days = [day for day, tally in stats.by_day.items() if tally.choices]
    rates = [stats.by_day[day].acceptance_rate * 100 for day in days]
    counts = [stats.by_day[day].choices for day in days]
    figure, axis = plt.subplots(figsize=(8, 4), dpi=100)
    axis.plot(days, rates, marker="o")
    for day, rate, count in zip(days, rates, counts, strict=True):
        axis.annotate(f"{count:,}", (day, rate), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    axis.set_ylim(0, 100)
    axis.set_ylabel("acceptance rate, % (choice = recommendation)")
    axis.set_title("Visitors who adopted the recommended Mysfit, by day (labels: choices)")
    axis.tick_params(axis="x", rotation=45)
    figure.tight_layout()
    write_figure_png(figure, out)
