"""Signing in and out, and changing one's password."""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from bot.interfaces.web.base import (
    BAD_CSRF,
    BAD_FORM,
    LOGIN_CSRF_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    TOO_LARGE,
    BadForm,
    TooLarge,
    Web,
    client_address,
    form_of,
    new_login_csrf,
    read_form,
    sentence,
)
from bot.service.accounts import SignedIn, change_own_password, sign_in, sign_out
from bot.service.team import TeamError

REFUSED = "Adresse e-mail ou mot de passe incorrect."
THROTTLED = "Trop d'essais : attendez un quart d'heure avant de réessayer, ou demandez au coordinateur."


def _safe_next(value: str) -> str:
    """Only a console path: never send someone elsewhere after signing in (open redirect)."""
    if value.startswith(f"{PREFIX}/") and not value.startswith("//") and "\\" not in value and "//" not in value:
        return value
    return f"{PREFIX}/aujourdhui"


async def login_page(web: Web, request: Request) -> Response:
    if await web.user_of(request) is not None:
        return web.see_other("/aujourdhui")
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_login_csrf()
    response = web.templates.get_template("login.html")
    html = response.render(csrf=token, suite=_safe_next(request.query_params.get("suite", "")), error=None, email="")
    return _login_response(web, html, token, 200)


def _login_response(web: Web, html: str, token: str, status: int) -> Response:
    answer = HTMLResponse(html, status_code=status)
    answer.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, **web.cookie_options())
    return answer


async def login(web: Web, request: Request) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    try:
        form = await read_form(request)
    except TooLarge:
        return _error(web, request, 413, TOO_LARGE)
    except BadForm:
        return _error(web, request, 400, BAD_FORM)
    if not cookie or not hmac.compare_digest(form.get("csrf").encode(), cookie.encode()):
        return _error(web, request, 403, BAD_CSRF)
    email, password = form.get("email")[:300], form.get("password")
    outcome = await sign_in(ctx=web.ctx, email=email, password=password, address=client_address(request))
    suite = _safe_next(form.get("suite"))
    if outcome.outcome != "ok" or outcome.token is None:
        message = THROTTLED if outcome.outcome == "throttled" else REFUSED
        html = web.templates.get_template("login.html").render(csrf=cookie, suite=suite, error=message, email=email)
        return _login_response(web, html, cookie, 429 if outcome.outcome == "throttled" else 401)
    answer = web.see_other(suite.removeprefix(PREFIX))
    answer.set_cookie(SESSION_COOKIE, outcome.token, max_age=24 * 3600, **web.cookie_options())
    answer.delete_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)
    return answer


def _error(web: Web, request: Request, status: int, message: str) -> Response:
    return web.render(request, "error.html", user=None, status=status, message=message)


async def logout(web: Web, request: Request, _user: SignedIn) -> Response:
    await sign_out(ctx=web.ctx, token=request.cookies.get(SESSION_COOKIE))
    answer = web.see_other("/connexion")
    answer.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return answer


async def password_page(web: Web, request: Request, user: SignedIn) -> Response:
    if request.method == "GET":
        return web.render(request, "password.html", user=user, error=None)
    form = form_of(request)
    new, again = form.get("new"), form.get("again")
    error = None
    if new != again:
        error = "Les deux nouveaux mots de passe diffèrent."
    else:
        try:
            changed = await change_own_password(ctx=web.ctx, current=form.get("current"), new=new, actor=user.actor)
        except TeamError as exc:
            error = sentence(exc)
        else:
            if not changed:
                error = "Le mot de passe actuel est incorrect."
    if error is not None:
        return web.render(request, "password.html", user=user, error=error, status=400)
    answer = web.see_other("/connexion")
    answer.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return answer
