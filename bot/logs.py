"""What the logs may say (SPEC §7): never a whole phone number or chat id (``masked``), never a message's text.

``log_failure`` is how every module logs an exception it caught: its type and frames, never its message, since
database errors quote the statement's parameters (numbers, message bodies).
"""

from __future__ import annotations

import logging
import traceback


def log_failure(log: logging.Logger, what: str, exc: BaseException) -> None:
    """``<what> failed: <exception type>`` and the frames."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("%s failed: %s\n%s", what, type(exc).__name__, frames)
