"""What the test modules share: one clock, one fake of each provider, and the builders of rows and worlds.

- ``clock``: the injectable ``Clock`` (a "now" the test moves) and local times in Paris;
- ``fake_twilio``, ``fake_telegram``: the providers as real HTTP peers on loopback (the official clients talk to
  them); ``fake_twilio`` also runs as a process of its own for the crash and multi-process tests, and serves the
  Calls API too (``fake_twilio_voice``: the phones it rings fetch our TwiML, press keys, post status callbacks);
- ``senders``: in-memory senders (recording, failing, looking up what they sent); ``pacing``: what the
  dispatcher's pacer granted, and the busiest second of a run;
- ``scheduling``: rows built directly (workshops, residents, enrolments, outbox) and a context around them;
- ``world``: a small territory for the advisers' tests, built through the service operations (``Town``);
- ``transcripts`` (the conversations, as data) and ``harness`` (one runner for them, whatever the channel);
- ``telegram_rig``: the Telegram channel wired as the app wires it, against the fake Bot API;
- ``voice_rig``: the voice channel served on loopback with the fake Twilio's phones; ``call_transcripts``: the calls,
  as data;
- ``serving``: real ``atelier serve`` processes; ``cli``: the ``atelier`` command run in-process;
- ``pgserver``: the throwaway PostgreSQL server of the run.
"""
