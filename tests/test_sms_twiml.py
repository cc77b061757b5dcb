"""The SMS webhook's TwiML (https://www.twilio.com/docs/messaging/twiml), written as text by ``bot.handlers.sms.twiml``:
the same bytes as twilio's own ``MessagingResponse`` builder (ElementTree), for the labelled cases and for any texts
and URLs (hypothesis), and always XML that parses back to the texts and URLs given."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.twiml.messaging_response import MessagingResponse

from bot.handlers.sms import twiml

REPORT = "https://atelier.example.org/sms/twilio/status?outbox=12"


def twilios(texts: Sequence[str], reports: Sequence[str | None]) -> str:
    """What twilio's builder writes for the same messages."""
    response = MessagingResponse()
    for index, text in enumerate(texts):
        report = reports[index] if index < len(reports) else None
        if report is None:
            response.message(text)
        else:
            response.message(text, action=report, method="POST")
    return str(response.to_xml())


def read_back(text: str) -> str:
    """A text as an XML parser reads it back: a carriage return becomes a line feed (XML's end-of-line handling)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parsed(xml: str) -> list[tuple[str, str | None, str | None]]:
    """(text, action, method) of each ``<Message>`` of a ``<Response>``."""
    root = ET.fromstring(xml)  # noqa: S314 - our own renderer's output
    assert root.tag == "Response"
    return [(m.text or "", m.get("action"), m.get("method")) for m in root]


CASES = [
    pytest.param([], [], id="nothing to say: the empty response"),
    pytest.param(["Bonjour !"], [], id="one message, no report"),
    pytest.param(["Bonjour !"], [REPORT], id="one message and its report"),
    pytest.param(["Un", "Deux", "Trois"], [REPORT, None], id="three messages, the first reported"),
    pytest.param(["Ateliers & cafés <b>gratuits</b> > 2"], [], id="markup and ampersand in the text"),
    pytest.param(["a\r\nb\tc\"d'e"], [], id="line ends, tab and quotes in the text"),
    pytest.param(["1 Oui\n2 Non"], [REPORT + '&x="1"\r\n\t<>'], id="every escaped character in the URL"),
    pytest.param(["👍 Hélène, Œuvre ½"], [], id="beyond ASCII"),
    pytest.param([""], [REPORT], id="an empty text"),
]


@pytest.mark.parametrize(("texts", "reports"), CASES)
def test_the_same_twiml_as_twilios_builder(texts: list[str], reports: list[str | None]) -> None:
    response = twiml(texts, reports)
    assert response.media_type == "application/xml"
    written = bytes(response.body).decode()
    assert written == twilios(texts, reports)
    padded = [*reports, *[None] * len(texts)]
    expected = [(read_back(t), r, "POST" if r else None) for t, r in zip(texts, padded, strict=False)]
    assert parsed(written) == expected


# XML 1.0 allows tab, line feed, carriage return and everything from U+0020 on except the surrogates and U+FFFE/F;
# the dialogue's texts are GSM-7 and the URLs ours, so this is wider than what is sent.
XML_CHARACTERS = st.characters(blacklist_categories=["Cs"], blacklist_characters="\ufffe\uffff", min_codepoint=0x20)
XML_TEXT = st.text(XML_CHARACTERS | st.sampled_from("\t\n\r&<>\"'"), max_size=40)


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(XML_TEXT, max_size=4), reports=st.lists(st.none() | XML_TEXT, max_size=4))
def test_any_texts_and_reports_give_twilios_bytes(texts: list[str], reports: list[str | None]) -> None:
    written = bytes(twiml(texts, reports).body).decode()
    assert written == twilios(texts, reports)
    assert [text for text, _, _ in parsed(written)] == [read_back(text) for text in texts]
