"""How advisers act: the command line, Telegram commands, the web console."""
