"""What the test modules share: one clock, one fake of each provider, and the builders of rows and worlds.

- ``clock``: the injectable ``Clock`` (a "now" the test moves) and local times in Paris;
- ``fake_twilio``, ``fake_telegram``: the providers as real HTTP peers on loopback (the official clients talk to
  them); ``fake_twilio`` also runs as a process of its own for the crash and multi-process tests;
- ``senders``: in-memory senders (recording, failing, slow) and ``pacing``: what the dispatcher's pacer granted;
- ``scheduling``: rows built directly (workshops, residents, enrolments, outbox) and a context around them;
- ``world``: a small territory for the advisers' tests, built through the service operations (``Town``);
- ``transcripts`` (the conversations, as data) and ``harness`` (one runner for them, whatever the channel);
- ``telegram_rig``: the Telegram channel wired as the app wires it, against the fake Bot API;
- ``serving``: real ``atelier serve`` processes; ``cli``: the ``atelier`` command run in-process;
- ``pgserver``: the throwaway PostgreSQL server of the run.
"""
