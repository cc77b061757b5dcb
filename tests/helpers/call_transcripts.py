"""Phone call transcripts as data: what the person at a landline hears, what they press, and what must follow.

Each row is one message to Henri (a landline: 04 70 05 12 34), made by the service operation that makes it by SMS
for others (a reminder, a freed seat, an adviser's enrolment, a move, a cancellation, a broadcast), then the call:
each step is what the phone does and what it must then hear. The rows run through the whole voice channel
(``tests/test_voice_calls.py``): the dispatcher places the call with the official client on the fake Twilio API,
whose phone fetches our TwiML, presses keys and posts signed status callbacks. Heard fragments are compared
accent- and case-insensitively.

The world (``tests/test_voice_calls.py``): Monday 2 March 2026, 10:00; workshop "W" at the town hall of
Saint-Victor on Tuesday 10 March at 14:00 (one seat), another at Domérat on Wednesday 11 March at 14:00 (the one a
cancellation offers); Martine (a mobile) is the other person of workshop W.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

KEYS_COMING = "Si vous venez, tapez 1. Si vous ne pouvez pas venir, tapez 2. Pour réécouter, tapez 3."
INTRO = "Bonjour. Ici les ateliers numériques de Montluçon Communauté."
WHEN_W = "le mardi 10 mars, à 14 heures, à la mairie de Saint-Victor"
ADVISERS = "04, 65, 71, 00, 00"


@dataclass(frozen=True)
class Step:
    """``act``: "answer", "machine" (an answering machine picks up), "press N", "press again" (Twilio posts the
    last key a second time), "hang up", "no-answer", "busy", "fail", "later" (``after`` passes, the dispatcher
    runs and places a call), "nothing" (``after`` passes, the dispatcher runs and places no call)."""

    act: str
    hear: tuple[str, ...] = ()  # heard, in this step's answer
    refuse: tuple[str, ...] = ()  # never heard in it
    after: timedelta = timedelta()


@dataclass(frozen=True)
class CallFinal:
    """What must hold at the end (None: not checked)."""

    henri: str | None = None  # Henri's enrolment in W: seated, waiting, cancelled
    confirmed: bool | None = None
    call_status: str | None = None  # the call's outbox row: delivered, failed, pending…
    calls: int | None = None  # calls placed to Henri for this message
    martine: str | None = None  # Martine's enrolment in W
    martine_told: str | None = None  # an SMS to Martine contains this
    advisers_told: bool | None = None  # Henri is on the advisers' list to phone (a call-back request)
    domerat: str | None = None  # Henri's enrolment in the Domérat workshop (the one offered)


@dataclass(frozen=True)
class CallTranscript:
    label: str
    message: str  # reminder, promotion, seated, waiting, moved, cancelled, broadcast
    steps: tuple[Step, ...]
    final: CallFinal = field(default_factory=CallFinal)
    at: tuple[int, int] | None = None  # the local hour and minute the message is sent at (default: its own time)


REMINDER_HEARD = (INTRO, f"Nous vous rappelons votre atelier numérique : {WHEN_W}.", "Je répète.", KEYS_COMING)

CALL_TRANSCRIPTS = [
    CallTranscript(
        "reminder: 1, coming",
        "reminder",
        (
            Step("answer", REMINDER_HEARD),
            Step("press 1", ("Merci, c'est noté : vous venez le mardi 10 mars, à 14 heures.",)),
            Step("hang up"),
        ),
        CallFinal(henri="seated", confirmed=True, call_status="delivered", calls=1, martine="waiting"),
    ),
    CallTranscript(
        "reminder: 2, the seat goes to Martine by SMS",
        "reminder",
        (
            Step("answer", REMINDER_HEARD),
            Step("press 2", ("vous ne venez pas", "Votre place est donnée à une personne qui attendait")),
            Step("hang up"),
        ),
        CallFinal(henri="cancelled", call_status="delivered", martine="seated", martine_told="une place s'est liber"),
    ),
    CallTranscript(
        "reminder: 3 says it again, then 1",
        "reminder",
        (
            Step("answer"),
            Step("press 3", (f"Nous vous rappelons votre atelier numérique : {WHEN_W}.", KEYS_COMING), refuse=(INTRO,)),
            Step("press 1", ("vous venez",)),
            Step("hang up"),
        ),
        CallFinal(henri="seated", confirmed=True),
    ),
    CallTranscript(
        "reminder: a key not offered, then 2",
        "reminder",
        (
            Step("answer"),
            Step("press 7", ("Ce n'est pas une touche prévue.", KEYS_COMING)),
            Step("press 2", ("vous ne venez pas",)),
            Step("hang up"),
        ),
        CallFinal(henri="cancelled", martine="seated"),
    ),
    CallTranscript(
        "reminder: Twilio posts the key twice, it acts once",
        "reminder",
        (
            Step("answer"),
            Step("press 2", ("Votre place est donnée",)),
            Step("press again", ("Votre place est donnée",)),
            Step("hang up"),
        ),
        CallFinal(henri="cancelled", martine="seated", martine_told="une place s'est liber"),
    ),
    CallTranscript(
        "reminder: answered, no key",
        "reminder",
        (Step("answer", ("Je n'ai pas entendu de réponse", ADVISERS)), Step("hang up")),
        CallFinal(henri="seated", call_status="delivered", calls=1, advisers_told=False),
    ),
    CallTranscript(
        "reminder: an answering machine gets a short message with the advisers' number, once",
        "reminder",
        (
            Step(
                "machine",
                (INTRO, f"Nous vous rappelons votre atelier numérique : {WHEN_W}.", ADVISERS),
                refuse=("tapez", "Je répète. Nous"),
            ),
            Step("hang up"),
            Step("nothing", after=timedelta(hours=4)),  # no second call: the message was left
        ),
        CallFinal(henri="seated", call_status="delivered", calls=1, advisers_told=False),
    ),
    CallTranscript(
        "reminder: no answer, called again after lunch, then 1",
        "reminder",
        (
            Step("no-answer"),
            Step("nothing", after=timedelta(hours=2)),  # 12:00: lunch is no time to call
            Step("later", after=timedelta(hours=2)),  # 14:00
            Step("answer", REMINDER_HEARD),
            Step("press 1", ("vous venez",)),
            Step("hang up"),
        ),
        CallFinal(henri="seated", confirmed=True, call_status="delivered", calls=2, advisers_told=False),
    ),
    CallTranscript(
        "reminder: no answer, then busy: the advisers are asked to phone",
        "reminder",
        (Step("no-answer"), Step("later", after=timedelta(hours=4)), Step("busy")),
        CallFinal(henri="seated", call_status="failed", calls=2, advisers_told=True),
    ),
    CallTranscript(
        "reminder at 17:30, no answer: no time left today for a second call",
        "reminder",
        (Step("no-answer"), Step("nothing", after=timedelta(hours=2))),
        CallFinal(call_status="failed", calls=1, advisers_told=True),
        at=(17, 30),
    ),
    CallTranscript(
        "reminder: the call fails",
        "reminder",
        (Step("fail"),),
        CallFinal(henri="seated", call_status="failed", calls=1, advisers_told=True),
    ),
    CallTranscript(
        "a freed seat: 1",
        "promotion",
        (
            Step("answer", ("une place s'est libérée pour vous", WHEN_W, KEYS_COMING)),
            Step("press 1", ("vous venez",)),
            Step("hang up"),
        ),
        CallFinal(henri="seated", confirmed=True, call_status="delivered"),
    ),
    CallTranscript(
        "a freed seat: 2, nobody else waits",
        "promotion",
        (Step("answer"), Step("press 2", ("Votre place est libérée pour une autre personne",)), Step("hang up")),
        CallFinal(henri="cancelled"),
    ),
    CallTranscript(
        "enrolled by an adviser: the seat said, and 2 gives it up",
        "seated",
        (
            Step(
                "answer",
                (
                    "Votre place est réservée à l'atelier numérique du mardi 10 mars, à 14 heures",
                    "Nous vous appellerons avant",
                    KEYS_COMING,
                ),
            ),
            Step("press 2", ("vous ne venez pas",)),
            Step("hang up"),
        ),
        CallFinal(henri="cancelled", call_status="delivered"),
    ),
    CallTranscript(
        "enrolled by an adviser on the waiting list: 2 leaves it",
        "waiting",
        (
            Step(
                "answer",
                (
                    "est complet",
                    "Vous êtes la première personne sur la liste d'attente",
                    "Si vous ne voulez plus attendre de place, tapez 2. Pour réécouter, tapez 3.",
                ),
            ),
            Step("press 1", ("Ce n'est pas une touche prévue",)),
            Step("press 2", ("vous quittez la liste d'attente",)),
            Step("hang up"),
        ),
        CallFinal(henri="cancelled", martine="seated"),
    ),
    CallTranscript(
        "a move: said old and new, 2 gives the seat to Martine",
        "moved",
        (
            Step(
                "answer",
                (
                    "L'atelier numérique du mardi 10 mars, à 14 heures, à Saint-Victor, est déplacé",
                    "Il aura lieu le jeudi 12 mars, à 14 heures, à la mairie de Saint-Victor",
                    "Votre place est gardée",
                    KEYS_COMING,
                ),
            ),
            Step("press 2", ("vous ne venez pas à l'atelier du jeudi 12 mars", "donnée à une personne qui attendait")),
            Step("hang up"),
        ),
        CallFinal(henri="cancelled", martine="seated", martine_told="place"),
    ),
    CallTranscript(
        "a cancellation: the reason, the nearest other workshop, 1 takes it",
        "cancelled",
        (
            Step(
                "answer",
                (
                    "n'aura pas lieu",
                    "La raison : conseillère malade",
                    "Un autre atelier a encore de la place : le mercredi 11 mars, à 14 heures, à la mairie de Domérat",
                    "Pour vous inscrire à cet autre atelier, tapez 1.",
                ),
            ),
            Step("press 1", ("votre place est réservée à l'atelier du mercredi 11 mars",)),
            Step("hang up"),
        ),
        CallFinal(domerat="seated", call_status="delivered"),
    ),
    CallTranscript(
        "a broadcast: read aloud, nothing to answer but 3",
        "broadcast",
        (
            Step(
                "answer",
                (
                    "Voici un message des conseillers numériques. N'oubliez pas votre tablette chargée.",
                    "Pour réécouter, tapez 3.",
                ),
                refuse=("tapez 1",),
            ),
            Step("press 2", ("Ce n'est pas une touche prévue",)),
            Step("hang up"),
        ),
        CallFinal(henri="seated", call_status="delivered"),
    ),
]
