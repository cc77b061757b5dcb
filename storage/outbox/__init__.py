"""The outbox: every message that leaves Atelier is a row here first (SPEC §5).

Two halves, each taking the caller's session and never committing:

- ``queueing``: the services put messages in (``enqueue`` one ``NewMessage``, ``enqueue_many`` for a broadcast),
  cancel or revive them, and read what was queued;
- ``claiming``: the dispatcher takes due rows out, safely across processes, and writes what became of them;
- ``departures``: what the forecast of when queued messages leave reads (a resident's queue, what they had today).
"""
