"""The sender used when no SMS provider is configured: it prints each message as the resident would read it.

It prints what the channel's own renderer makes of the message (for SMS, ``bot.conversation.gsm7.render_sms``:
numbered choices, GSM-7), given by the wiring, so what a developer reads in the terminal is what a resident's phone
would show, with its SMS segment count. The header masks the number like the logs do.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TextIO

from bot.channels import Outgoing
from bot.conversation.gsm7 import count_segments
from bot.conversation.phones import masked
from storage.enums import Channel

Render = Callable[[str, Sequence[str]], str]


class ConsoleSender:
    max_length = 1600
    supports_buttons = False
    recipient_interval: timedelta | None = None

    def __init__(self, *, render: Render, channel: Channel = Channel.sms, stream: TextIO | None = None) -> None:
        self.channel = channel
        self._render = render
        self._stream = stream  # None: the standard output at the time of sending (tests may swap it)

    async def send(self, message: Outgoing) -> str:
        text = self._render(message.body, message.choices)
        segments = count_segments(text)
        plural = "s" if segments > 1 else ""
        stream = self._stream or sys.stdout
        stream.write(f"--- SMS pour {masked(message.to)} ({segments} segment{plural}) ---\n{text}\n\n")
        stream.flush()
        return f"console-{uuid.uuid4().hex}"
