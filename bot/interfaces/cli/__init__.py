"""The ``atelier`` sub-commands, one module per group; ``bot/cli.py`` assembles them."""
