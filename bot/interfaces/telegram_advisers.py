"""Advisers' commands on Telegram, for advisers on the road: see, announce, cancel, call back.

Only a Telegram account registered as an adviser (``atelier advisers add --telegram-id``, ``bot.service.team``) may use
them, and only in a private chat with the bot (a roster must never reach a group). ``handle`` is the hook that
``app.py`` gives the Telegram channel: it takes an update when it is an adviser command from an adviser, or an
adviser's button press, and returns False for everything else — a resident typing /inscrits gets the resident's
answer and learns nothing.

| command | what |
|---|---|
| ``/ateliers`` | upcoming workshops: seats taken, waiting, confirmed |
| ``/inscrits ID`` | the roster, with what each person wants to learn (full numbers: advisers phone people) |
| ``/annonce ID texte`` | a message to the workshop's participants: preview (recipients, SMS cost), then a button |
| ``/annuler ID raison`` | cancel the workshop, everyone concerned told — after a confirmation button |
| ``/rappels`` | call-back requests, one button per request to mark it handled |
| ``/appels`` | the "to call" list (call-backs, people no message reaches, unanswered reminders), a button each |

Answers to advisers are sent directly with the bot, not through the outbox: they are the interactive side of a
command (inline keyboards, edits of the preview, answers to button presses) and the adviser is looking at the
screen — if Telegram fails, they see no answer and type the command again. What reaches residents (an
announcement, a cancellation notice) goes through the outbox like every other message, queued by
``bot.service.broadcasts`` and ``bot.service.changes``.

A confirmation waiting for its button (the text of an announcement, a cancellation's reason) is kept in the
database, in the conversations table under the channel ``telegram_adviser``, so that any server instance can
handle the press; a press consumes it atomically, so a double tap or two instances never send twice.
(https://core.telegram.org/bots/api#inlinekeyboardmarkup, https://core.telegram.org/bots/api#callbackquery)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError

from bot.channels import MAX_ROW_ID, plain_number
from bot.context import Context
from bot.conversation import texts as say
from bot.conversation.phones import national
from bot.service.actors import Actor
from bot.service.broadcasts import Audience, Preview, preview_broadcast, send_broadcast
from bot.service.callbacks import CallbackItem, list_callbacks, mark_callback_done
from bot.service.calls import CallError, CallItem, list_calls, mark_call_done
from bot.service.changes import cancel_workshop_and_notify, report_lines
from bot.service.departures import broadcast_departures, departure_lines
from bot.service.drafts import keep_draft, take_draft
from bot.service.inbound import first_delivery
from bot.service.labels import ENROLMENT_STATUS_FR
from bot.service.team import adviser_by_telegram_id
from bot.service.workshops import (
    Roster,
    RosterEntry,
    WorkshopError,
    WorkshopSummary,
    get_workshop,
    list_workshops,
    roster,
)
from storage.enums import Channel, EnrolmentStatus, WorkshopStatus

log = logging.getLogger("atelier.telegram.advisers")

COMMANDS = ("ateliers", "inscrits", "annonce", "annuler", "rappels", "appels")
PREFIX = "conseil"  # callback_data of our inline buttons: "conseil:<action>:<argument>" (64 bytes at most)
DRAFTS = "telegram_adviser"  # the conversations' channel holding confirmations waiting for a button
DRAFT_TTL = timedelta(hours=2)  # an old preview's button no longer sends anything
MAX_TEXT = 4096  # https://core.telegram.org/bots/api#sendmessage
MAX_LISTED = 40  # workshops or requests listed in one answer; the command line lists everything
MAX_BUTTONS = 20  # call-back buttons under one message
MAX_ANNOUNCEMENT = 1000  # characters; an SMS above three segments is refused by the broadcast anyway
CONFIRM = "Envoyer ?"
USAGE_ROSTER = "Écrivez /inscrits suivi du numéro de l'atelier, par exemple : /inscrits 12. La liste : /ateliers"
USAGE_ANNOUNCE = (
    "Écrivez /annonce, le numéro de l'atelier puis le message, par exemple : "
    "/annonce 12 La salle change : rendez-vous à la mairie."
)
USAGE_CANCEL = (
    "Écrivez /annuler, le numéro de l'atelier puis la raison, par exemple : /annuler 12 salle indisponible. "
    "La raison est donnée aux inscrits."
)


@dataclass(frozen=True)
class Who:
    """The adviser who typed or pressed, and the private chat to answer in."""

    adviser_id: int
    name: str
    chat_id: int

    @property
    def actor(self) -> Actor:
        """Who their changes are recorded as, in the audit trail."""
        return Actor(self.name, self.adviser_id, interface="telegram")


# --- Entry point ------------------------------------------------------------------------------------------------


async def handle(ctx: Context, bot: Bot, update: Update, command: tuple[str, str] | None) -> bool:
    """Take the update if it is an adviser's command or button; False leaves it to the residents' side.
    ``command``: the message's /command as the channel read it (name, argument), None for anything else."""
    if update.callback_query is not None:
        return await _on_button(ctx, bot, update, update.callback_query)
    message = update.message
    if message is None or message.chat.type != ChatType.PRIVATE or message.from_user is None:
        return False
    if command is None or command[0] not in COMMANDS:
        return False
    who = await _adviser(ctx, message.from_user.id, message.chat.id)
    if who is None:
        log.info("adviser command from an account that is not an adviser's: answered as a resident")
        return False
    if not await _first_delivery(ctx, update, f"/{command[0]}"):
        return True  # Telegram delivered this update before: it was handled then
    name, argument = command
    log.info("adviser %s: /%s", who.adviser_id, name)
    await ACTIONS[name](ctx, bot, who, argument)
    return True


async def _adviser(ctx: Context, telegram_user_id: int, chat_id: int) -> Who | None:
    adviser = await adviser_by_telegram_id(ctx=ctx, telegram_user_id=telegram_user_id)
    return Who(adviser.id, adviser.name, chat_id) if adviser is not None else None


async def _first_delivery(ctx: Context, update: Update, what: str) -> bool:
    """Record the update_id (the same table as residents' messages): False when it was seen before."""
    return await first_delivery(ctx=ctx, channel=Channel.telegram, provider_id=str(update.update_id), body=what)


# --- Answering ----------------------------------------------------------------------------------------------------


def chunks(lines: Sequence[str], limit: int = MAX_TEXT) -> list[str]:
    """Lines packed into messages of at most ``limit`` characters (a very long line is cut)."""
    out: list[str] = []
    current = ""
    for line in lines:
        line = line if len(line) <= limit else line[: limit - 1] + "…"
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            out.append(current)
            candidate = line
        current = candidate
    if current:
        out.append(current)
    return out


async def _say(bot: Bot, who: Who, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Plain text (no parse_mode: names and announcements are shown as typed)."""
    pieces = chunks(text.split("\n"))
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        try:
            await bot.send_message(chat_id=who.chat_id, text=piece, reply_markup=markup if last else None)
        except TelegramError as exc:
            log.warning("answer to adviser %s not sent: %s", who.adviser_id, type(exc).__name__)
            return


async def _edit(bot: Bot, query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the message whose button was pressed (its buttons go away unless ``markup`` gives new ones)."""
    message = query.message
    if message is None:
        return
    try:
        await bot.edit_message_text(
            chat_id=message.chat.id, message_id=message.message_id, text=text[:MAX_TEXT], reply_markup=markup
        )
    except BadRequest as exc:  # "message is not modified" (the same text again) and the like: nothing to show
        log.info("adviser message not edited: %s", type(exc).__name__)
    except TelegramError as exc:
        log.warning("adviser message not edited: %s", type(exc).__name__)


async def _answer(bot: Bot, query: CallbackQuery, text: str | None = None) -> None:
    """Stop the button's spinner, with a short notice (https://core.telegram.org/bots/api#answercallbackquery)."""
    try:
        await bot.answer_callback_query(query.id, text=text[:200] if text else None)
    except TelegramError as exc:
        log.warning("button press not answered: %s", type(exc).__name__)


def _button(label: str, action: str, argument: str | int) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=f"{PREFIX}:{action}:{argument}")


def _sentence(text: str) -> str:
    """A refusal's fragment ("l'atelier n°3 est déjà annulé") as a sentence."""
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


def _refusal(exc: WorkshopError) -> str:
    return " ".join(_sentence(problem) for problem in exc.problems) or _sentence(str(exc))


_ID = re.compile(r"^(?:n°|no|n|#)?\s*(\d{1,9})\b\s*(.*)$", re.IGNORECASE | re.DOTALL)


def split_id(argument: str) -> tuple[int, str] | None:
    """``"12 Salle fermée"`` → ``(12, "Salle fermée")``; ``"n°12"`` → ``(12, "")``; None without a number."""
    match = _ID.match(argument.strip())
    if match is None:
        return None
    return int(match.group(1)), match.group(2).strip()


# --- Wording ------------------------------------------------------------------------------------------------------


def _level(summary: WorkshopSummary) -> str:
    return say.LEVEL_NAMES.get(summary.level, str(summary.level))


def workshop_title(summary: WorkshopSummary, ctx: Context) -> str:
    """n°12, mardi 14 avril à 14 h, Saint-Victor (Mairie), débutant"""
    when = say.when_fr(summary.starts_at, ctx.tz)
    return f"n°{summary.id}, {when}, {summary.commune} ({summary.venue}), {_level(summary)}"


def workshop_line(summary: WorkshopSummary, ctx: Context) -> str:
    seats = f"{summary.seated}/{summary.capacity} places prises"
    return f"{workshop_title(summary, ctx)} : {seats}, {summary.waiting} en attente, {summary.confirmed} confirmé(s)"


def roster_line(number: int, entry: RosterEntry) -> str:
    parts = [f"{number}. {entry.name or '(sans nom)'}"]
    if entry.phone:
        parts.append(national(entry.phone))
    elif entry.telegram_chat_id is not None:
        parts.append("Telegram seulement")
    if entry.status == EnrolmentStatus.seated:
        confirmed = {True: "a confirmé", False: "ne vient pas", None: "pas encore confirmé"}
        parts.append(confirmed[entry.confirmed])
    elif entry.status in (EnrolmentStatus.attended, EnrolmentStatus.absent):
        parts.append(ENROLMENT_STATUS_FR[entry.status])
    if entry.channel is None:
        parts.append("injoignable par message")
    wants = ", ".join(entry.interests) if entry.interests else "rien de précis"
    parts.append(f"veut apprendre : {wants}")
    return " — ".join(parts)


def roster_text(result: Roster, ctx: Context) -> str:
    summary = result.workshop
    lines = [f"Atelier {workshop_title(summary, ctx)}", f"{summary.seated}/{summary.capacity} places prises."]
    seated, waiting = result.seated, result.waiting
    lines.append("")
    lines.append("Inscrits :" if seated else "Personne n'est inscrit pour l'instant.")
    lines.extend(roster_line(number, entry) for number, entry in enumerate(seated, start=1))
    if waiting:
        lines.append("")
        lines.append("En attente :")
        lines.extend(roster_line(number, entry) for number, entry in enumerate(waiting, start=1))
    return "\n".join(lines)


def euros(amount: float) -> str:
    return f"{amount:.2f} €".replace(".", ",")


def preview_text(preview: Preview, summary: WorkshopSummary, ctx: Context) -> str:
    reach = ", ".join(f"{count} par {say.channel_name(ch)}" for ch, count in preview.by_channel.items() if count)
    lines = [
        f"Annonce pour l'atelier {workshop_title(summary, ctx)} :",
        "",
        preview.body,
        "",
        f"Destinataires : {preview.recipients}" + (f" ({reach})." if reach else "."),
        f"Coût : {preview.segments} SMS par personne, {euros(preview.estimated_cost)} en tout"
        + (
            f" (dont {preview.calls} appel(s) aux numéros fixes, {euros(preview.call_cost)})." if preview.calls else "."
        ),
    ]
    if preview.skipped_opted_out:
        lines.append(f"{preview.skipped_opted_out} personne(s) ont demandé STOP : elles ne recevront rien.")
    if preview.unreachable:
        lines.append(f"{preview.unreachable} personne(s) sans moyen de recevoir un message : à appeler.")
    lines.append(CONFIRM)
    return "\n".join(lines)


def callbacks_text(items: Sequence[CallbackItem], ctx: Context) -> str:
    if not items:
        return "Aucune demande de rappel en attente."
    lines = [f"Demandes de rappel ({len(items)}) :"]
    for item in items[:MAX_LISTED]:
        since = say.when_fr(item.created_at, ctx.tz)
        phone = national(item.phone) or "pas de numéro (Telegram seulement)"
        said = f" — « {item.reason[:80]} »" if item.reason else ""
        lines.append(
            f"n°{item.id} — {item.name or '(sans nom)'} — {phone} — {item.commune or 'commune inconnue'} — {since}"
            f"{said}"
        )
    if len(items) > MAX_LISTED:
        lines.append(f"… et {len(items) - MAX_LISTED} autres : atelier callbacks list")
    lines.append("Touchez une demande une fois la personne rappelée.")
    return "\n".join(lines)


def callbacks_keyboard(items: Sequence[CallbackItem]) -> InlineKeyboardMarkup | None:
    rows = [
        [_button(f"✅ n°{item.id} {item.name or ''}".strip()[:60], "rappel", item.id)] for item in items[:MAX_BUTTONS]
    ]
    return InlineKeyboardMarkup(rows) if rows else None


CALL_DONE = "appel fait (noté sur Telegram)"


def calls_text(items: Sequence[CallItem], ctx: Context) -> str:
    if not items:
        return "Personne à appeler."
    lines = [f"À appeler ({len(items)}) :"]
    for item in items[:MAX_LISTED]:
        phone = item.phone_display or "pas de numéro (Telegram seulement)"
        why = item.kind_label + (f", {item.reason_label}" if item.reason_label else "")
        lines.append(f"n°{item.id} — {item.name or '(sans nom)'} — {phone} — {why}")
        if item.workshop_id is not None and item.workshop_start is not None:
            lines.append(f"   atelier n°{item.workshop_id}, {say.when_fr(item.workshop_start, ctx.tz)}")
        if item.said:
            lines.append(f"   Sa demande : « {item.said[:80]} »")
        if item.what_to_say:
            lines.append(f"   À dire : {item.what_to_say}")
    if len(items) > MAX_LISTED:
        lines.append(f"… et {len(items) - MAX_LISTED} autres : atelier calls list")
    lines.append(
        "Touchez un appel une fois la personne appelée (pour noter ce qui a été convenu : atelier calls done)."
    )
    return "\n".join(lines)


def calls_keyboard(items: Sequence[CallItem]) -> InlineKeyboardMarkup | None:
    rows = [
        [_button(f"✅ n°{item.id} {item.name or ''}".strip()[:60], "appel", item.id)] for item in items[:MAX_BUTTONS]
    ]
    return InlineKeyboardMarkup(rows) if rows else None


# --- Commands -----------------------------------------------------------------------------------------------------


async def _workshops(ctx: Context, bot: Bot, who: Who, _argument: str) -> None:
    summaries = await list_workshops(ctx=ctx)
    if not summaries:
        await _say(bot, who, "Aucun atelier à venir. Pour en ajouter : atelier workshops add, ou import.")
        return
    lines = [f"Ateliers à venir ({len(summaries)}) :"]
    lines.extend(workshop_line(s, ctx) for s in summaries[:MAX_LISTED])
    if len(summaries) > MAX_LISTED:
        lines.append(f"… et {len(summaries) - MAX_LISTED} autres : atelier workshops list")
    lines.append("Détail : /inscrits NUMÉRO")
    await _say(bot, who, "\n".join(lines))


async def _roster(ctx: Context, bot: Bot, who: Who, argument: str) -> None:
    parsed = split_id(argument)
    if parsed is None:
        await _say(bot, who, USAGE_ROSTER)
        return
    try:
        result = await roster(ctx=ctx, workshop_id=parsed[0])
    except WorkshopError:
        await _say(bot, who, _unknown(parsed[0]))
        return
    await _say(bot, who, roster_text(result, ctx))


def _unknown(workshop_id: int) -> str:
    return f"Je ne trouve pas l'atelier n°{workshop_id}. Tapez /ateliers pour voir la liste."


async def _summary(ctx: Context, bot: Bot, who: Who, workshop_id: int) -> WorkshopSummary | None:
    try:
        return await get_workshop(ctx=ctx, workshop_id=workshop_id)
    except WorkshopError:
        await _say(bot, who, _unknown(workshop_id))
        return None


async def _announce(ctx: Context, bot: Bot, who: Who, argument: str) -> None:
    parsed = split_id(argument)
    if parsed is None or not parsed[1]:
        await _say(bot, who, USAGE_ANNOUNCE)
        return
    workshop_id, body = parsed
    if len(body) > MAX_ANNOUNCEMENT:
        await _say(bot, who, f"Ce message est trop long ({len(body)} caractères) : {MAX_ANNOUNCEMENT} au plus.")
        return
    summary = await _summary(ctx, bot, who, workshop_id)
    if summary is None:
        return
    audience = Audience(workshop_id=workshop_id)
    try:
        preview = await preview_broadcast(ctx=ctx, audience=audience, body=body)
    except WorkshopError as exc:
        await _say(bot, who, _refusal(exc))
        return
    if preview.recipients == 0:
        await _say(bot, who, f"Personne ne peut recevoir de message pour l'atelier n°{workshop_id} : rien à envoyer.")
        return
    draft = {"workshop_id": workshop_id, "body": body, "recipients": preview.recipients}
    nonce = await _keep_draft(ctx, who, "annonce", draft)
    markup = InlineKeyboardMarkup(
        [[_button("Envoyer", "annonce-oui", nonce), _button("Ne pas envoyer", "annonce-non", nonce)]]
    )
    await _say(bot, who, preview_text(preview, summary, ctx), markup)


async def _cancel(ctx: Context, bot: Bot, who: Who, argument: str) -> None:
    parsed = split_id(argument)
    if parsed is None or not parsed[1]:
        await _say(bot, who, USAGE_CANCEL)
        return
    workshop_id, reason = parsed
    summary = await _summary(ctx, bot, who, workshop_id)
    if summary is None:
        return
    if summary.status == WorkshopStatus.cancelled:
        await _say(bot, who, f"L'atelier n°{workshop_id} est déjà annulé.")
        return
    if summary.starts_at <= ctx.now():
        await _say(bot, who, f"L'atelier n°{workshop_id} a déjà commencé : il ne peut plus être annulé.")
        return
    nonce = await _keep_draft(ctx, who, "annuler", {"workshop_id": workshop_id, "reason": reason})
    text = (
        f"Annuler l'atelier {workshop_title(summary, ctx)} ?\n"
        f"{summary.seated} inscrit(s) et {summary.waiting} en attente seront prévenus, avec la raison : {reason}"
    )
    markup = InlineKeyboardMarkup(
        [[_button("Oui, annuler l'atelier", "annuler-oui", nonce)], [_button("Non, le garder", "annuler-non", nonce)]]
    )
    await _say(bot, who, text, markup)


async def _callbacks(ctx: Context, bot: Bot, who: Who, _argument: str) -> None:
    items = await list_callbacks(ctx=ctx)
    await _say(bot, who, callbacks_text(items, ctx), callbacks_keyboard(items))


async def _calls(ctx: Context, bot: Bot, who: Who, _argument: str) -> None:
    items = await list_calls(ctx=ctx)
    await _say(bot, who, calls_text(items, ctx), calls_keyboard(items))


# One signature for every command (the argument is what follows it); one that takes none names it ``_argument``.
Action = Callable[[Context, Bot, Who, str], Awaitable[None]]
ACTIONS: dict[str, Action] = {
    "ateliers": _workshops,
    "inscrits": _roster,
    "annonce": _announce,
    "annuler": _cancel,
    "rappels": _callbacks,
    "appels": _calls,
}


# --- Drafts waiting for their button ----------------------------------------------------------------------------


async def _keep_draft(ctx: Context, who: Who, kind: str, data: dict[str, Any]) -> str:
    """Keep what the button will confirm, replacing the adviser's earlier draft of the same kind (an older
    preview's buttons then do nothing: a corrected announcement is not sent twice). Returns the draft's nonce,
    carried by its buttons."""
    data = {**data, "adviser_id": who.adviser_id}
    return await keep_draft(ctx=ctx, box=DRAFTS, owner=str(who.chat_id), kind=kind, data=data)


async def _take_draft(ctx: Context, who: Who, kind: str, nonce: str) -> dict[str, Any] | None:
    """The draft these buttons confirm, if it is this adviser's and still fresh; taken once, whoever presses."""
    draft = await take_draft(ctx=ctx, box=DRAFTS, owner=str(who.chat_id), kind=kind, nonce=nonce)
    if draft is None or draft.data.get("adviser_id") != who.adviser_id or ctx.now() - draft.kept_at > DRAFT_TTL:
        return None
    return draft.data


# --- Buttons ------------------------------------------------------------------------------------------------------


async def _on_button(ctx: Context, bot: Bot, update: Update, query: CallbackQuery) -> bool:
    data = query.data or ""
    if not data.startswith(PREFIX + ":"):
        return False
    message = query.message
    chat_id = message.chat.id if message is not None else query.from_user.id
    who = await _adviser(ctx, query.from_user.id, chat_id)
    if who is None:
        await _answer(bot, query, "Réservé aux conseillers.")
        return True
    if not await _first_delivery(ctx, update, "(bouton)"):
        return True
    _, action, argument = [*data.split(":", 2), "", ""][:3]
    handler = BUTTONS.get(action)
    if handler is None:
        await _answer(bot, query)
        return True
    log.info("adviser %s pressed %s", who.adviser_id, action)
    await handler(ctx, bot, who, query, argument)
    return True


async def _announce_yes(ctx: Context, bot: Bot, who: Who, query: CallbackQuery, nonce: str) -> None:
    draft = await _take_draft(ctx, who, "annonce", nonce)
    if draft is None:
        await _answer(bot, query, "Cette annonce n'est plus en attente.")
        await _edit(
            bot, query, _previous_text(query) + "\n\nCette annonce n'est plus en attente : rien n'a été envoyé."
        )
        return
    workshop_id, body = int(draft["workshop_id"]), str(draft["body"])
    try:
        broadcast_id = await send_broadcast(
            ctx=ctx, audience=Audience(workshop_id=workshop_id), body=body, actor=who.actor
        )
    except WorkshopError as exc:
        await _answer(bot, query, "Non envoyé.")
        await _edit(bot, query, _previous_text(query) + "\n\nNon envoyé : " + _refusal(exc))
        return
    await _answer(bot, query, "Envoyé.")
    leaving = " ".join(departure_lines(await broadcast_departures(ctx=ctx, broadcast_id=broadcast_id), ctx.tz))
    outcome = (
        f"Envoyé à {draft.get('recipients', '?')} personne(s). {leaving} Suivi : atelier broadcast report "
        f"{broadcast_id}"
    )
    await _edit(bot, query, _previous_text(query) + "\n\n" + outcome)


async def _announce_no(ctx: Context, bot: Bot, who: Who, query: CallbackQuery, nonce: str) -> None:
    await _take_draft(ctx, who, "annonce", nonce)
    await _answer(bot, query, "Annonce abandonnée.")
    await _edit(bot, query, _previous_text(query) + "\n\nAnnonce abandonnée : rien n'a été envoyé.")


async def _cancel_yes(ctx: Context, bot: Bot, who: Who, query: CallbackQuery, nonce: str) -> None:
    draft = await _take_draft(ctx, who, "annuler", nonce)
    if draft is None:
        await _answer(bot, query, "Cette annulation n'est plus en attente.")
        await _edit(bot, query, _previous_text(query) + "\n\nCette demande n'est plus en attente : rien n'a changé.")
        return
    workshop_id = int(draft["workshop_id"])
    try:
        report = await cancel_workshop_and_notify(
            ctx=ctx, workshop_id=workshop_id, reason=str(draft["reason"]), actor=who.actor
        )
    except WorkshopError as exc:
        await _answer(bot, query, "Non annulé.")
        await _edit(bot, query, _previous_text(query) + "\n\nNon annulé : " + _refusal(exc))
        return
    lines = [f"Atelier n°{workshop_id} annulé.", *report_lines(report, ctx.tz)]
    await _answer(bot, query, "Atelier annulé.")
    await _edit(bot, query, _previous_text(query) + "\n\n" + "\n".join(lines))


async def _cancel_no(ctx: Context, bot: Bot, who: Who, query: CallbackQuery, nonce: str) -> None:
    await _take_draft(ctx, who, "annuler", nonce)
    await _answer(bot, query, "L'atelier est gardé.")
    await _edit(bot, query, _previous_text(query) + "\n\nL'atelier est gardé : rien n'a changé.")


async def _callback_done(ctx: Context, bot: Bot, who: Who, query: CallbackQuery, argument: str) -> None:
    callback_id = plain_number(argument, most=MAX_ROW_ID)
    if callback_id is None:
        await _answer(bot, query)
        return
    done = await mark_callback_done(ctx=ctx, callback_id=callback_id, actor=who.actor)
    await _answer(bot, query, "Noté, merci." if done else "Cette demande était déjà traitée.")
    items = await list_callbacks(ctx=ctx)
    await _edit(bot, query, callbacks_text(items, ctx), callbacks_keyboard(items))


async def _call_done(ctx: Context, bot: Bot, who: Who, query: CallbackQuery, argument: str) -> None:
    call_id = plain_number(argument, most=MAX_ROW_ID)
    if call_id is None:
        await _answer(bot, query)
        return
    try:
        await mark_call_done(ctx=ctx, call_id=call_id, outcome=CALL_DONE, actor=who.actor)
    except CallError:
        await _answer(bot, query, "Cet appel était déjà noté.")
    else:
        await _answer(bot, query, "Noté, merci.")
    items = await list_calls(ctx=ctx)
    await _edit(bot, query, calls_text(items, ctx), calls_keyboard(items))


def _previous_text(query: CallbackQuery) -> str:
    """The preview the button was under (Telegram sends it with the press), kept above the outcome."""
    message = query.message
    text = getattr(message, "text", None) if message is not None else None
    return (text or "").removesuffix(CONFIRM).rstrip() or "…"


Button = Callable[[Context, Bot, Who, CallbackQuery, str], Awaitable[None]]
BUTTONS: dict[str, Button] = {
    "annonce-oui": _announce_yes,
    "annonce-non": _announce_no,
    "annuler-oui": _cancel_yes,
    "annuler-non": _cancel_no,
    "rappel": _callback_done,
    "appel": _call_done,
}
