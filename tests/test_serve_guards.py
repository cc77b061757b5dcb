"""What a real ``atelier serve`` process does before and around its routes: it refuses to start unprotected, and
its access log holds no query string.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.fakes.twilio import DEFAULT_AUTH_TOKEN
from tests.serving import ATELIER, ROOT, serving

PUBLIC = "https://atelier.example.org"


@pytest.fixture
def database(sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated SQLite database of its own (the process's memory is measured: no PostgreSQL in the way)."""
    path = tmp_path / "atelier.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


def plain_env(database: str, **values: str) -> dict[str, str]:
    """The environment of a serve process with no provider account (SMS would go to the console sender)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ATELIER_", "TWILIO_", "TELEGRAM_"))}
    env.update(ATELIER_DATABASE_URL=database, ATELIER_QUIET_HOURS="none", **values)
    return env


# --- Refusing to start unprotected -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        {"ATELIER_PUBLIC_URL": PUBLIC},
        {"ATELIER_PUBLIC_URL": PUBLIC, "TWILIO_AUTH_TOKEN": "   "},
        {"ATELIER_PUBLIC_URL": PUBLIC, "ATELIER_ALLOW_UNSIGNED": "false"},
    ],
    ids=["no auth token", "a blank auth token", "unsigned explicitly not allowed"],
)
def test_a_public_service_without_a_twilio_auth_token_refuses_to_start(values: dict[str, str], database: str) -> None:
    """Anyone could otherwise post OUBLIER then OUI as any resident: one sentence, a non-zero exit, no server."""
    try:
        done = subprocess.run(
            [str(ATELIER), "serve", "--port", "0"],
            cwd=ROOT,
            env=plain_env(database, **values),
            capture_output=True,
            timeout=15,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("atelier serve started (it was still running after 15 s)")
    error = " ".join(done.stderr.decode().split())  # one sentence, wrapped to the terminal's width
    assert done.returncode != 0
    assert error.startswith("Erreur : ATELIER_PUBLIC_URL est défini mais pas TWILIO_AUTH_TOKEN"), error
    assert error.endswith("ATELIER_ALLOW_UNSIGNED=1)."), error


@pytest.mark.parametrize(
    "values",
    [
        {},  # local use: no public URL, nobody can reach the webhooks from outside
        {"ATELIER_PUBLIC_URL": PUBLIC, "TWILIO_AUTH_TOKEN": DEFAULT_AUTH_TOKEN},
        {"ATELIER_PUBLIC_URL": PUBLIC, "ATELIER_ALLOW_UNSIGNED": "1"},
    ],
    ids=["no public URL", "public with an auth token", "public, unsigned allowed explicitly"],
)
def test_a_protected_or_local_service_starts(values: dict[str, str], database: str, tmp_path: Path) -> None:
    with (
        serving(plain_env(database, **values), tmp_path / "serve.log") as (served,),
        urllib.request.urlopen(f"http://127.0.0.1:{served.port}/healthz", timeout=5) as answer,
    ):
        assert answer.status == 200
