"""Every French sentence Atelier sends, written for people who have never used a computer; one module per concern.

Short sentences, the date written out, numbered choices, no links needed to act. Pure: no I/O; times are
converted with the time zone passed in. SMS-specific transliteration and segment counting live in
``bot.conversation.gsm7``.

Callers read every sentence from one namespace (``from bot.conversation import texts as say``; ``say.seated(…)``),
whichever module it is written in: ``writing`` (dates, times, names, the wording that fits one SMS), ``signup``,
``offering``, ``anytime`` (AIDE, MES ATELIERS, STOP, OUBLIER, CONSEILLER), ``cancelling``, ``moving``,
``reminders``, ``changes`` (notices of a workshop changed by an adviser, enrolment by phone), ``advisers``,
``channels`` and ``spoken`` (the voice channel).
"""

# One namespace for every sentence: the star imports keep each caller's ``say.X`` whatever module X lives in.
from bot.conversation.texts.advisers import *  # noqa: F403
from bot.conversation.texts.anytime import *  # noqa: F403
from bot.conversation.texts.cancelling import *  # noqa: F403
from bot.conversation.texts.changes import *  # noqa: F403
from bot.conversation.texts.channels import *  # noqa: F403
from bot.conversation.texts.moving import *  # noqa: F403
from bot.conversation.texts.offering import *  # noqa: F403
from bot.conversation.texts.reminders import *  # noqa: F403
from bot.conversation.texts.signup import *  # noqa: F403
from bot.conversation.texts.spoken import *  # noqa: F403
from bot.conversation.texts.writing import *  # noqa: F403
