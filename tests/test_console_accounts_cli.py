"""The console's accounts from the command line: ``advisers add --email --admin``, ``advisers password EMAIL``
(standard input when it is not a terminal) and the demo account ``atelier demo`` prints once."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from sqlalchemy import select

from storage.database import Database
from storage.models import Adviser, AuditEvent
from tests.helpers.cli import atelier, ok


def rows(db_url: str, model: Any) -> list[Any]:
    async def query() -> list[Any]:
        db = Database.from_url(db_url)
        try:
            async with db.read() as session:
                return list((await session.execute(select(model).order_by(model.id))).scalars())
        finally:
            await db.dispose()

    return asyncio.run(query())


def test_an_adviser_gets_an_email_a_role_and_a_password_read_from_standard_input(db_url: str) -> None:
    ok(db_url, "advisers", "add", "--name", "Claire Martin", "--email", "Claire@Example.fr", "--admin")
    said = ok(db_url, "advisers", "password", "claire@example.fr", stdin="un mot de passe assez long\n")
    assert "Mot de passe enregistré pour Claire Martin (claire@example.fr)" in said.stdout
    adviser = rows(db_url, Adviser)[0]
    assert (adviser.login, adviser.role) == ("claire@example.fr", "admin")
    assert adviser.password_hash.startswith("$argon2id$") and "assez long" not in adviser.password_hash
    actions = [e.action for e in rows(db_url, AuditEvent)]
    assert actions == ["adviser_added", "password_set"]


@pytest.mark.parametrize(
    ("args", "stdin", "says"),
    [
        (("advisers", "password", "nobody@example.fr"), "un mot de passe assez long\n", "aucun conseiller"),
        (("advisers", "password", "claire@example.fr"), "court\n", "trop court"),
        (("advisers", "add", "--name", "Jean", "--email", "pas-une-adresse"), None, "adresse e-mail invalide"),
    ],
    ids=["unknown e-mail", "short password", "bad e-mail"],
)
def test_refusals_change_nothing(db_url: str, args: tuple[str, ...], stdin: str | None, says: str) -> None:
    ok(db_url, "advisers", "add", "--name", "Claire Martin", "--email", "claire@example.fr")
    result = atelier(db_url, *args, stdin=stdin)
    assert result.exit_code != 0 and says in result.stderr and "Rien n'a été changé" in result.stderr
    assert [a.password_hash for a in rows(db_url, Adviser)] == [None]


def test_demo_prints_the_console_account_once(db_url: str) -> None:
    first = ok(db_url, "demo").stdout
    match = re.search(r"Adresse e-mail : (\S+)\n\s+Mot de passe : (\S+)", first)
    assert match is not None and match.group(1) == "demo@atelier.invalid"
    again = ok(db_url, "demo", "--if-empty").stdout
    assert "Mot de passe" not in again and match.group(2) not in again
