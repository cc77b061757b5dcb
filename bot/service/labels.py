"""The French word advisers read for each message status, message kind and enrolment status: one table per
vocabulary, keyed by the enum members, shared by the web console, the command line and the spreadsheets, so that
one thing has one word wherever an adviser meets it.

Keys are ``StrEnum`` members, so a table answers for the member and for its English value alike (``"sent"``).
The words stay short: the command line shows them in fixed columns of an 80-column terminal (``messages list``: 13
characters for the kind, 9 for the status). A table phrased for another sentence stays where that sentence is
(``atelier residents show``'s history: « une place », « liste d'attente »), and says so.
"""

from __future__ import annotations

from collections.abc import Mapping

from storage.enums import EnrolmentStatus, MessageKind, MessageStatus, WorkshopStatus

MESSAGE_STATUS_FR: Mapping[MessageStatus, str] = {
    MessageStatus.pending: "à envoyer",
    MessageStatus.sending: "en cours",
    MessageStatus.sent: "envoyé",
    MessageStatus.delivered: "reçu",
    MessageStatus.failed: "échec",
    # not « annulé »: that word is the workshop's, shown beside the message (a notice of a cancelled workshop)
    MessageStatus.cancelled: "retiré",
    MessageStatus.expired: "expiré",  # too late to be of use, never sent; fits the 9-character column
}
MESSAGE_KIND_FR: Mapping[MessageKind, str] = {
    MessageKind.reply: "réponse",
    MessageKind.reminder: "rappel",
    MessageKind.change_notice: "changement",
    MessageKind.broadcast: "diffusion",
    MessageKind.promotion: "place libérée",
    MessageKind.confirmation: "confirmation",
    MessageKind.adviser_notice: "conseiller",
    # the "call back" sense (the digest counts requests to be called back), not "rappel", the reminder
    MessageKind.callback_digest: "à rappeler",
}
ENROLMENT_STATUS_FR: Mapping[EnrolmentStatus, str] = {
    EnrolmentStatus.seated: "inscrit",
    EnrolmentStatus.waiting: "en attente",
    EnrolmentStatus.cancelled: "désinscrit",
    EnrolmentStatus.attended: "présent",
    EnrolmentStatus.absent: "absent",
}
WORKSHOP_STATUS_FR: Mapping[WorkshopStatus, str] = {WorkshopStatus.planned: "prévu", WorkshopStatus.cancelled: "annulé"}
CONFIRMED_FR: Mapping[bool | None, str] = {True: "oui", False: "non", None: "—"}  # the answer to a reminder
CONSENT_FR: Mapping[str, str] = {  # how the person gave their consent (``Resident.consent_channel``)
    "sms": "par SMS",
    "telegram": "par Telegram",
    "console": "au terminal",
    "phone": "par téléphone, à un conseiller",
    "oral": "de vive voix, à l'atelier",
}

# Words these tables once said (each interface had its own table): the command line still understands them as
# input, since advisers' scripts and habits use them (``atelier messages list --status annulé``).
FORMER_MESSAGE_STATUS_FR: Mapping[MessageStatus, tuple[str, ...]] = {
    MessageStatus.cancelled: ("annulé",),
    MessageStatus.expired: ("pas parti à temps",),
}
FORMER_MESSAGE_KIND_FR: Mapping[MessageKind, tuple[str, ...]] = {
    MessageKind.callback_digest: ("rappels à faire",),
}
