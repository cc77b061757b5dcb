"""Issue 13's figures, held: our messy personas (tests/personas.py) through the service, against the targets.

``bench/personas.py`` prints the same figures with each persona's path. Dialect-independent (SQLite only): the
conversation is measured here, not the database.
"""

from __future__ import annotations

from tests.personas import NAME_AND_VILLAGE, PERSONAS, run_personas


def test_there_are_enough_personas_and_their_labels_are_distinct() -> None:
    labels = [p.label for p in PERSONAS]
    assert len(labels) >= 40 and len(set(labels)) == len(labels)
    assert set(NAME_AND_VILLAGE) <= set(labels)


async def test_the_personas_reach_their_goals_in_few_short_messages() -> None:
    figures, _ = await run_personas()
    assert figures.reached_share >= 0.95, f"missed: {figures.failed}"
    assert figures.median_to_seat <= 7
    assert figures.median_to_seat_given_name_and_village <= 5
    assert figures.one_segment_share >= 0.90
    assert figures.not_understood_share <= 0.05
