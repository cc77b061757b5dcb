"""The residents' conversation: pure, channel-agnostic, one small function per step and a table of steps.

``respond`` is given the stored state, what the resident wrote, what we know of the resident and of the world
(the clock, the communes, the upcoming workshops) and returns a ``Turn``: the new state, the replies with the
choices they offer, and the effects the service must apply. No I/O happens here, so every rule is tested as a table
(compare goflow's ``Session.Resume`` returning events, and python-telegram-bot's conversationbot example).

The sign-up asks for what it does not know yet, in order — name, the second person's name when two come, commune,
level, interests — and takes from every message all it says ("cest josette martin de domerat" gives the name and
the commune; "3 je suis a l aise" the level): nothing already said is asked again. Wherever the conversation
stands, a keyword (AIDE, ANNULER…), a wish said in words ("je suis malade je viendrai pas mardi", "changer de date
pour le 31", "effacez mon nom", "au revoir") or a usual question ("c'est payant ?") is answered first.

Effects whose outcome is only known once applied (a seat may be taken by someone else meanwhile) are followed by
``after_enrol`` / ``after_move``, which turn the outcome into the right words.

The package, by concern: ``entry`` (``respond`` and the table of steps), ``anywhere`` (keywords, wishes and usual
questions at every step), ``idle`` (no conversation in progress, the menu's answers), ``signup`` and ``gathering``
(reading a sign-up message), ``offering`` and ``choosing`` (the workshops offered and the answers to them),
``cancelling``, ``moving``, ``forgetting``, ``callback``, ``notices`` (the answers to a reminder or a change
notice), ``outcomes`` (``after_enrol``, ``after_move``), ``again`` (the current question asked again), ``menu``
and ``common`` (what they share).
"""

from bot.conversation.dialogue.entry import STEPS, respond
from bot.conversation.dialogue.notices import offers_after_cancellation
from bot.conversation.dialogue.outcomes import after_enrol, after_move

__all__ = ["STEPS", "after_enrol", "after_move", "offers_after_cancellation", "respond"]
