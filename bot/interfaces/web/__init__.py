"""The advisers' web console (``/console``): server-rendered pages over ``bot.service``, wired by ``bot.app``."""
