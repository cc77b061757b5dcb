"""What ``atelier serve`` does once its application is built, before the first request (``bot.cli.ready_to_serve``).

The communes' indexes are built then, not by the first message that names a place; then everything start-up made
is frozen out of the cyclic garbage collector's reach (``gc.freeze``): a full collection walked those objects, 60 to
120 ms during which every request in flight waited (bench/inbound_sms.py's p99). The test unfreezes them after.
"""

from __future__ import annotations

import gc
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette

from bot import cli
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


async def test_atelier_serve_and_each_worker_get_ready_before_serving(
    monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    """``atelier serve`` (one process) and every process of ``--workers N`` (``worker_app``) call it on the
    application they serve, before uvicorn serves it."""
    ready: list[Starlette] = []
    served: list[Any] = []
    monkeypatch.setenv("ATELIER_DATABASE_URL", db_url)
    monkeypatch.setattr(cli, "ready_to_serve", ready.append)
    monkeypatch.setattr(cli, "_serving_logs", lambda secrets: None)  # the test process's logging left alone
    monkeypatch.setattr(uvicorn, "run", lambda application, **options: served.append(application))
    cli.serve(host="127.0.0.1", port=8000, workers=1)
    worker = cli.worker_app()
    try:
        assert len(ready) == 2 and ready[0] is served[0] and ready[1] is worker
    finally:
        for application in (*served, worker):
            await application.state.ctx.db.dispose()
