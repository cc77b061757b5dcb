"""What ``atelier serve`` does once its application is built, before the first request (``bot.cli.ready_to_serve``).

The communes' indexes are built then, not by the first message that names a place; then everything start-up made
is frozen out of the cyclic garbage collector's reach (``gc.freeze``): a full collection walked those objects, 60 to
120 ms during which every request in flight waited (bench/inbound_sms.py's p99). The test unfreezes them after.
"""

from __future__ import annotations

import gc

from bot.app import create_app
from bot.cli import ready_to_serve
from bot.config import Settings
from bot.context import Context
from storage.database import Database


def test_a_server_builds_its_indexes_then_freezes_what_start_up_made(settings: Settings, db: Database) -> None:
    application = create_app(settings, db=db)
    ctx: Context = application.state.ctx
    assert {"commune_index", "france_index"}.isdisjoint(vars(ctx))  # a context builds them when first needed
    assert gc.get_freeze_count() == 0
    try:
        ready_to_serve(application)
        assert {"commune_index", "france_index"} <= set(vars(ctx))
        # the modules, the application and the 35,000 communes of France: far more than a hundred thousand
        assert gc.get_freeze_count() > 100_000
    finally:
        gc.unfreeze()
