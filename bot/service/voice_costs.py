"""How long a call takes and what it costs: Twilio bills a call by the started minute (``ATELIER_CALL_PRICE``).

What a call says is known before it is placed (who calls, the message twice, the keys), so its length can be
estimated for a broadcast's preview; statistics use the durations Twilio reports after the calls.
"""

from __future__ import annotations

import math

from bot.conversation import texts as say

# A French text-to-speech voice at its normal rate says about 14 characters a second (about 150 words a minute);
# each <Pause> and the gaps between sentences add a few seconds.
SPOKEN_CHARACTERS_PER_SECOND = 14.0
PAUSES_SECONDS = 4.0
LONGEST_PROMPT = max(len(prompt) for prompt in say.KEYS_PROMPTS.values())


def spoken_seconds(text: str) -> float:
    return len(text) / SPOKEN_CHARACTERS_PER_SECOND


def call_seconds(body: str, territory_name: str) -> float:
    """An answered call: who is calling, the message, "je répète" and the message again, the keys."""
    said = f"{say.call_intro(territory_name)} {body} {say.repeat_spoken(body)}"
    return spoken_seconds(said) + LONGEST_PROMPT / SPOKEN_CHARACTERS_PER_SECOND + PAUSES_SECONDS


def started_minutes(seconds: float) -> int:
    """Billed minutes: every started minute counts; a call that was answered costs one at least."""
    return max(1, math.ceil(seconds / 60))


def call_cost(*, minutes: int, price: float) -> float:
    return round(minutes * price, 2)
