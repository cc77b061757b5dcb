"""One word for one thing: the message statuses and kinds advisers read are the same French words in the web
console and on the command line (bot/service/labels.py), every value of each enum has one (a new kind never
shows raw English), and the command line still understands the words it used to show."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from jinja2 import Environment
from rich.console import Console

from bot.interfaces.cli import common
from bot.interfaces.cli.messages import messages_table, parse_label
from bot.interfaces.cli.residents import message_line
from bot.interfaces.web import formats
from bot.service.labels import (
    ENROLMENT_STATUS_FR,
    FORMER_MESSAGE_KIND_FR,
    FORMER_MESSAGE_STATUS_FR,
    MESSAGE_KIND_FR,
    MESSAGE_STATUS_FR,
)
from bot.service.outbox_views import MessageView
from bot.service.residents import MessageLine
from storage.enums import EnrolmentStatus, MessageKind, MessageStatus

PARIS = ZoneInfo("Europe/Paris")
DUE = datetime(2026, 12, 7, 9, tzinfo=UTC)

# One row per value: the word an adviser reads, wherever they read it.
STATUSES = [
    ("pending", MessageStatus.pending, "à envoyer"),
    ("sending", MessageStatus.sending, "en cours"),
    ("sent", MessageStatus.sent, "envoyé"),
    ("delivered", MessageStatus.delivered, "reçu"),
    ("failed", MessageStatus.failed, "échec"),
    ("cancelled", MessageStatus.cancelled, "retiré"),
    ("expired", MessageStatus.expired, "expiré"),
]
KINDS = [
    ("reply", MessageKind.reply, "réponse"),
    ("reminder", MessageKind.reminder, "rappel"),
    ("change_notice", MessageKind.change_notice, "changement"),
    ("broadcast", MessageKind.broadcast, "diffusion"),
    ("promotion", MessageKind.promotion, "place libérée"),
    ("confirmation", MessageKind.confirmation, "confirmation"),
    ("adviser_notice", MessageKind.adviser_notice, "conseiller"),
    ("callback_digest", MessageKind.callback_digest, "à rappeler"),
]

VOCABULARIES: list[tuple[str, type[StrEnum], Mapping[Any, str]]] = [
    ("message statuses", MessageStatus, MESSAGE_STATUS_FR),
    ("message kinds", MessageKind, MESSAGE_KIND_FR),
    ("enrolment statuses", EnrolmentStatus, ENROLMENT_STATUS_FR),
]


def folded(word: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", word.casefold()) if not unicodedata.combining(ch))


@pytest.mark.parametrize(("label", "enum", "table"), VOCABULARIES, ids=[row[0] for row in VOCABULARIES])
def test_every_value_has_one_french_word_of_its_own(label: str, enum: type[StrEnum], table: Mapping[Any, str]) -> None:
    missing = [member.value for member in enum if not table.get(member, "").strip()]
    assert not missing, (label, missing)
    words = [folded(table[member]) for member in enum]
    assert len(set(words)) == len(words), (label, words)  # one word, one value: the command line parses them back


@pytest.mark.parametrize(("rows", "enum"), [(STATUSES, MessageStatus), (KINDS, MessageKind)], ids=["statuses", "kinds"])
def test_the_rows_below_cover_every_value(rows: list[tuple[str, StrEnum, str]], enum: type[StrEnum]) -> None:
    assert [row[1] for row in rows] == list(enum)


def console_filter(name: str) -> Callable[[object], str]:
    """A Jinja filter of the web console, as its templates use it (``{{ m.status|message_status }}``)."""
    env = Environment(autoescape=True)
    formats.install(env, PARIS)
    found: Callable[[object], str] = env.filters[name]
    return found


def command_line_table(view: MessageView, monkeypatch: pytest.MonkeyPatch) -> str:
    """``atelier messages list`` as an 80-column terminal shows it."""
    out = io.StringIO()
    terminal = Console(file=out, width=80, color_system=None)
    monkeypatch.setattr(common, "console", terminal)  # is_wide() reads it
    terminal.print(messages_table([view], PARIS))
    return out.getvalue()


def a_message(
    *, kind: MessageKind = MessageKind.reminder, status: MessageStatus = MessageStatus.pending
) -> MessageView:
    return MessageView(
        id=7, resident_id=1, name="Martine", channel="sms", to_address="+33612345678", kind=kind,
        body="Rappel : atelier demain à 14 h.", due_at=DUE, status=status, error=None, workshop_id=3,
    )  # fmt: skip


@pytest.mark.parametrize(("label", "status", "word"), STATUSES, ids=[row[0] for row in STATUSES])
def test_a_message_status_reads_the_same_in_the_console_and_on_the_command_line(
    label: str, status: MessageStatus, word: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = console_filter("message_status")
    assert (shown(status), shown(status.value)) == (word, word), label  # the templates pass either
    [row] = [line for line in command_line_table(a_message(status=status), monkeypatch).splitlines() if "06 12" in line]
    assert f" {word} " in f" {row} ", (label, row)  # whole, in its column of an 80-column terminal
    line = MessageLine(
        id=7, kind=MessageKind.reminder, channel="sms", body="Rappel.", due_at=DUE, sent_at=None, status=status,
        error=None, workshop_id=3,
    )  # fmt: skip
    assert f" {word} (" in message_line(line, PARIS), label  # atelier residents show: a person's messages


@pytest.mark.parametrize(("label", "kind", "word"), KINDS, ids=[row[0] for row in KINDS])
def test_a_message_kind_reads_the_same_in_the_console_and_on_the_command_line(
    label: str, kind: MessageKind, word: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = console_filter("kind")
    assert (shown(kind), shown(kind.value)) == (word, word), label
    [row] = [line for line in command_line_table(a_message(kind=kind), monkeypatch).splitlines() if "06 12" in line]
    assert f" {word} " in f" {row} ", (label, row)


# What `atelier messages list --status/--kind` understands: today's word, the word it used to show, accents or
# not, the English value of the JSON.
WORDS_UNDERSTOOD = [
    ("today's word for a cancelled message", MessageStatus, "retiré", MessageStatus.cancelled),
    ("the command line's former word for it", MessageStatus, "annulé", MessageStatus.cancelled),
    ("… without its accent", MessageStatus, "ANNULE", MessageStatus.cancelled),
    ("today's word for an expired message", MessageStatus, "expiré", MessageStatus.expired),
    ("residents show's former word for it", MessageStatus, "pas parti à temps", MessageStatus.expired),
    ("an English value", MessageStatus, "cancelled", MessageStatus.cancelled),
    ("today's word for the call-back digest", MessageKind, "à rappeler", MessageKind.callback_digest),
    ("the former word for it", MessageKind, "rappels à faire", MessageKind.callback_digest),
    ("« rappel » stays the reminder", MessageKind, "rappel", MessageKind.reminder),
    ("an English kind", MessageKind, "callback_digest", MessageKind.callback_digest),
]


@pytest.mark.parametrize(("label", "enum", "said", "meant"), WORDS_UNDERSTOOD, ids=[row[0] for row in WORDS_UNDERSTOOD])
def test_the_command_line_understands_todays_and_former_words(
    label: str, enum: type[MessageStatus] | type[MessageKind], said: str, meant: StrEnum
) -> None:
    if enum is MessageStatus:
        found: StrEnum | None = parse_label(MessageStatus, said, "statut", MESSAGE_STATUS_FR, FORMER_MESSAGE_STATUS_FR)
    else:
        found = parse_label(MessageKind, said, "type", MESSAGE_KIND_FR, FORMER_MESSAGE_KIND_FR)
    assert found is meant, label


def test_a_former_word_is_never_today_s_word_for_another_value() -> None:
    for former, today in ((FORMER_MESSAGE_STATUS_FR, MESSAGE_STATUS_FR), (FORMER_MESSAGE_KIND_FR, MESSAGE_KIND_FR)):
        todays = {folded(word): member for member, word in today.items()}
        for member, words in former.items():
            assert all(todays.get(folded(word), member) is member for word in words), (member, words)


PARSED: list[tuple[str, type[StrEnum], Mapping[Any, str], Mapping[Any, tuple[str, ...]]]] = [
    ("message statuses", MessageStatus, MESSAGE_STATUS_FR, FORMER_MESSAGE_STATUS_FR),
    ("message kinds", MessageKind, MESSAGE_KIND_FR, FORMER_MESSAGE_KIND_FR),
]


@pytest.mark.parametrize(("label", "enum", "table", "former"), PARSED, ids=[row[0] for row in PARSED])
def test_every_word_shown_or_once_shown_parses_back_to_its_own_value(
    label: str, enum: type[StrEnum], table: Mapping[Any, str], former: Mapping[Any, tuple[str, ...]]
) -> None:
    """Through the command line's own parser (its folding, and the English values it also accepts): no word of
    one value can be taken for another."""
    for member in enum:
        for word in (table[member], *former.get(member, ())):
            assert parse_label(enum, word, label, table, former) is member, (label, word)
