"""What the logs may say (SPEC §7): never a whole phone number or chat id (``masked``), never a message's text,
never a secret.

``log_failure`` is how every module logs an exception it caught: its type and frames, never its message, since
database errors quote the statement's parameters (numbers, message bodies).

``protect_logs``, installed by the wiring (``app.py``, ``cli.py``), covers what other libraries log: no record, at
any level and from any library, holds a secret of the settings (httpx logs every Bot API URL, token included), and
uvicorn's access lines carry no query string (a webhook misconfigured as GET would print the sender's number and
message). It is a record factory, so it sees each record once, where it is made, whatever handlers or formatters
are configured later (uvicorn configures its own).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


def log_failure(log: logging.Logger, what: str, exc: BaseException) -> None:
    """``<what> failed: <exception type>`` and the frames."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("%s failed: %s\n%s", what, type(exc).__name__, frames)


# --- What the wiring installs --------------------------------------------------------------------------------------

REDACTED = "[secret]"
ACCESS_LOGGER = "uvicorn.access"


@dataclass
class _Redactor:
    """The record factory: every record is looked at once, where it is made, whoever logs it and wherever it goes."""

    previous: Any
    secrets: set[str] = field(default_factory=set)
    ordered: tuple[str, ...] = ()

    def add(self, secrets: Iterable[str]) -> None:
        self.secrets.update(secrets)
        self.ordered = tuple(sorted(self.secrets, key=len, reverse=True))  # "a:b" before "b"

    def redact(self, text: str) -> str:
        for secret in self.ordered:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.previous(*args, **kwargs)
        if record.name == ACCESS_LOGGER:
            _drop_query_string(record)
        try:
            self._clean(record)
        except Exception:  # a record whose arguments do not fit its message: logging reports it when emitting
            return record
        return record

    def _clean(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            if record.name == ACCESS_LOGGER:  # uvicorn's formatter reads the arguments: redact them one by one
                record.args = tuple(self.redact(a) if isinstance(a, str) else a for a in record.args or ())
            else:
                record.msg, record.args = clean, ()
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.redact(text)  # formatters use exc_text when it is set
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)


def _drop_query_string(record: logging.LogRecord) -> None:
    """uvicorn logs '%s - "%s %s HTTP/%s" %d' with the path and its query string as the third argument."""
    args = record.args
    if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str) and "?" in args[2]:
        record.args = (args[0], args[1], args[2].partition("?")[0], args[3], args[4])


# Libraries whose DEBUG lines quote database parameters (numbers, names, and any key stored in the database): never
# below WARNING, whatever level the rest of the logs is set to.
QUIET_LIBRARIES = ("aiosqlite", "asyncpg", "sqlalchemy.engine")


def protect_logs(secrets: Iterable[str]) -> None:
    """Install the redaction of ``secrets`` (``Settings.secrets()``) in every log record of the process (once;
    later calls add their secrets), drop query strings from access lines, and keep the database drivers quiet."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _Redactor):
        factory = _Redactor(previous=factory)
        logging.setLogRecordFactory(factory)
    factory.add(secret for secret in secrets if secret)
    for name in QUIET_LIBRARIES:
        library = logging.getLogger(name)
        if library.getEffectiveLevel() < logging.WARNING:
            library.setLevel(logging.WARNING)
