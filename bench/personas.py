"""The figures of issue 13, measured on our own messy personas (tests/personas.py), through the service.

    python bench/personas.py            # the figures, and each persona's path
    python bench/personas.py --verbose  # and every exchange of the personas that missed their goal

Targets: goal reached ≥ 95 %; median SMS to a seat from a cold start ≤ 7 (≤ 5 when the first SMS gives name
and village); our replies in one segment ≥ 90 %; messages answered "not understood" ≤ 5 %.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.personas import (  # noqa: E402 - after the path set-up above
    FIRST_SET,
    PERSONAS,
    SECOND_SET,
    Figures,
    figures,
    run_personas,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    _, outcomes = asyncio.run(run_personas())
    by_label = {o.persona.label: o for o in outcomes}
    for outcome in outcomes:
        mark = "ok  " if outcome.reached else "MISS"
        seat = f", seat at SMS {outcome.to_seat}" if outcome.to_seat else ""
        lost = f", {outcome.not_understood} not understood" if outcome.not_understood else ""
        print(f"{mark} {outcome.persona.label}: {outcome.sent} SMS{seat}{lost}")
        if args.verbose and not outcome.reached:
            for sms in outcome.replies:
                print("      | " + sms.replace("\n", "\n      | "))
    for title, chosen in (("all", PERSONAS), ("first set", FIRST_SET), ("second set", SECOND_SET)):
        print()
        report(title, figures([by_label[p.label] for p in chosen]))


def report(title: str, result: Figures) -> None:
    print(f"{title}: {result.personas} personas")
    print(f"  goal reached: {result.reached}/{result.personas} = {result.reached_share:.0%} (target ≥ 95 %)")
    print(f"  median SMS to a seat, cold start: {result.median_to_seat} (target ≤ 7)")
    print(
        f"  median SMS to a seat, first SMS with name and village: {result.median_to_seat_given_name_and_village} "
        "(target ≤ 5)"
    )
    print(
        f"  replies in one segment: {result.one_segment}/{result.replies} = {result.one_segment_share:.0%} "
        "(target ≥ 90 %)"
    )
    print(
        f"  messages answered 'not understood': {result.not_understood}/{result.messages} = "
        f"{result.not_understood_share:.1%} (target ≤ 5 %)"
    )
    if result.failed:
        print("  missed: " + "; ".join(result.failed))


if __name__ == "__main__":
    main()
