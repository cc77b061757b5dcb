"""Signing in to the console: the form's labels, cookies, throttling, sessions that end (logout, password change,
a day), and the security headers of every page. SQLite only (dialect-independent)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest

from bot.config import Settings, load_settings
from bot.service.accounts import MAX_FAILURES_PER_ACCOUNT, set_password
from tests.helpers.console_world import EMAIL, PASSWORD, ConsoleWorld, console_world
from tests.helpers.world import JULIE


@pytest.fixture
async def world(settings: Settings, now: datetime) -> AsyncIterator[ConsoleWorld]:
    https = load_settings({"ATELIER_DATABASE_URL": settings.database_url, "ATELIER_PUBLIC_URL": "https://a.example"})
    async with console_world(https, now) as built:
        yield built


async def _sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    form = await client.get("/console/connexion")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    return await client.post(
        "/console/connexion", data={"csrf": csrf.group(1), "email": email, "password": password, "suite": ""}
    )


async def test_the_sign_in_form_and_its_cookie(world: ConsoleWorld) -> None:
    async with world.anonymous() as client:
        page = await client.get("/console/connexion")
        assert '<label for="email">Adresse e-mail</label>' in page.text
        assert '<label for="password">Mot de passe</label>' in page.text
        assert ">Se connecter</button>" in page.text
        answer = await _sign_in(client, EMAIL.upper(), PASSWORD)
        assert (answer.status_code, answer.headers["location"]) == (303, "/console/aujourdhui")
        cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("atelier_session="))
        assert {"HttpOnly", "Secure", "SameSite=lax", "Path=/console"} <= {p.strip() for p in cookie.split(";")}
        assert (await client.get("/console/aujourdhui")).status_code == 200


async def test_a_sign_in_form_without_its_token_is_refused(world: ConsoleWorld) -> None:
    async with world.anonymous() as client:
        answer = await client.post("/console/connexion", data={"email": EMAIL, "password": PASSWORD})
        assert answer.status_code == 403 and "atelier_session" not in answer.headers.get("set-cookie", "")


async def test_wrong_passwords_are_throttled_per_account_even_with_the_right_one_after(world: ConsoleWorld) -> None:
    async with world.anonymous() as client:
        statuses = [(await _sign_in(client, EMAIL, "pas le bon")).status_code for _ in range(MAX_FAILURES_PER_ACCOUNT)]
        assert statuses == [401] * MAX_FAILURES_PER_ACCOUNT
        answer = await _sign_in(client, EMAIL, PASSWORD)
        assert answer.status_code == 429 and "attendez un quart" in answer.text
        world.town.clock.advance(timedelta(minutes=16))
        assert (await _sign_in(client, EMAIL, PASSWORD)).status_code == 303


async def test_sessions_end_at_logout_at_a_password_change_and_after_a_day(world: ConsoleWorld) -> None:
    assert (await world.client.get("/console/planning")).status_code == 200
    world.town.clock.advance(timedelta(hours=24, seconds=1))
    assert (await world.client.get("/console/planning")).status_code == 303
    async with world.anonymous() as client:
        await _sign_in(client, EMAIL, PASSWORD)
        assert (await client.get("/console/planning")).status_code == 200
        await set_password(ctx=world.ctx, adviser_id=world.adviser_id, password="un nouveau mot de passe", actor=JULIE)
        assert (await client.get("/console/planning")).status_code == 303
    async with world.anonymous() as client:
        await _sign_in(client, EMAIL, "un nouveau mot de passe")
        page = await client.get("/console/planning")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        assert (await client.post("/console/deconnexion", data={"csrf": csrf.group(1)})).status_code == 303
        client.cookies.clear()
        token = page.request.headers["cookie"].split("atelier_session=")[1].split(";")[0]
        client.cookies.set("atelier_session", token)  # the old cookie, replayed after logout
        assert (await client.get("/console/planning")).status_code == 303


@pytest.mark.parametrize("path", ["/console/connexion", "/console/aujourdhui", "/console/ateliers/1"])
async def test_security_headers(world: ConsoleWorld, path: str) -> None:
    answer = await world.client.get(path)
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["referrer-policy"] == "same-origin"
    assert answer.headers["cache-control"] == "no-store"
    assert "<script>" not in answer.text and " style=" not in answer.text


async def test_an_open_redirect_after_sign_in_is_refused(world: ConsoleWorld) -> None:
    async with world.anonymous() as client:
        form = await client.get("/console/connexion?suite=//evil.example/x")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None
        data = {"csrf": csrf.group(1), "email": EMAIL, "password": PASSWORD, "suite": "https://evil.example/"}
        answer = await client.post("/console/connexion", data=data)
        assert answer.headers["location"] == "/console/aujourdhui"
