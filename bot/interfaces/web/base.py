"""What every console page shares: templates, the signed-in adviser, CSRF, bounded form reading, headers.

Pages are ``async def page(web, request, user) -> Response``; ``Web.guard`` turns one into a Starlette endpoint
that sends anonymous visitors to the sign-in page (a POST from them changes nothing) and refuses a POST whose CSRF
token is not the session's (403, nothing changed).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData, Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.context import Context
from bot.interfaces.web import formats
from bot.interfaces.web.charts import fill_bar
from bot.service.accounts import SignedIn, signed_in

HERE = Path(__file__).parent
PREFIX = "/console"
SESSION_COOKIE = "atelier_session"
LOGIN_CSRF_COOKIE = "atelier_csrf"
FORM_LIMIT = 64 * 1024  # an ordinary form: a broadcast of 3 SMS is under 1 KiB
FILE_LIMIT = 2 * 1024 * 1024  # a planning spreadsheet of a year is about 100 KiB
UPLOAD_LIMIT = FILE_LIMIT * 3 // 2  # a multipart body: the file, or the file again in base64 (import preview)
MAX_FIELDS = 500

# No inline script or style anywhere (SPEC: CSP without inline scripts); SVG charts use attributes, not styles.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"x-content-type-options", b"nosniff"),
]
NO_STORE = (b"cache-control", b"no-store")

Page = Callable[["Web", Request, SignedIn], Awaitable[Response]]


class TooLarge(Exception):  # noqa: N818 — the request's body went past its cap: answered 413
    pass


class BadForm(Exception):  # noqa: N818 — a body that is not a form: answered 400
    pass


class SecurityHeaders:
    """Adds the security headers to every console response, and ``no-store`` to every page but static files
    (pages carry names and phone numbers: no browser or proxy may keep a copy)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith(f"{PREFIX}/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"cache-control" or static]
                headers += SECURITY_HEADERS
                if not static:
                    headers.append(NO_STORE)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass
class Form:
    """A read form: text fields (last value wins, or all of them) and uploaded files."""

    fields: list[tuple[str, str]] = field(default_factory=list)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        found = [v for k, v in self.fields if k == name]
        return found[-1] if found else default

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.fields if k == name]


async def read_body(request: Request, limit: int) -> bytes:
    """The body, streamed and refused past ``limit`` bytes whatever the transfer encoding."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def read_form(request: Request, limit: int = FORM_LIMIT) -> Form:
    body = await read_body(request, limit)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        return await _multipart(request.headers, body)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadForm from exc
    return Form(fields=[(k, v.replace("\x00", "")) for k, v in pairs])


async def _multipart(headers: Headers, body: bytes) -> Form:
    async def stream() -> AsyncGenerator[bytes, None]:
        yield body

    try:
        parsed: FormData = await MultiPartParser(headers, stream(), max_files=2, max_fields=MAX_FIELDS).parse()
    except MultiPartException as exc:
        raise BadForm from exc
    form = Form()
    for key, value in parsed.multi_items():
        if isinstance(value, UploadFile):
            form.files[key] = (value.filename or "", await value.read())
            await value.close()
        else:
            form.fields.append((key, value.replace("\x00", "")))
    return form


def client_address(request: Request) -> str:
    return request.client.host if request.client else "inconnue"


@dataclass
class Web:
    """The console's shared state, built once by ``bot.interfaces.web.console``."""

    ctx: Context
    templates: Environment
    secure_cookies: bool

    @classmethod
    def build(cls, ctx: Context) -> Web:
        env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html", "svg"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        formats.install(env, ctx.tz)
        env.globals["fill"] = fill_bar
        env.globals["territory"] = ctx.territory.name
        env.globals["prefix"] = PREFIX
        secure = (ctx.settings.public_url or "").lower().startswith("https://")
        return cls(ctx, env, secure)

    # --- responses ---

    def render(
        self, request: Request, template: str, *, user: SignedIn | None, status: int = 200, **values: Any
    ) -> HTMLResponse:
        page = self.templates.get_template(template)
        html = page.render(
            user=user,
            csrf=user.csrf_token if user else request.cookies.get(LOGIN_CSRF_COOKIE, ""),
            path=request.url.path,
            now=self.ctx.now(),
            **values,
        )
        return HTMLResponse(html, status_code=status)

    def see_other(self, path: str, **query: str | int) -> RedirectResponse:
        suffix = "&".join(f"{k}={quote(str(v))}" for k, v in query.items())
        return RedirectResponse(f"{PREFIX}{path}" + (f"?{suffix}" if suffix else ""), status_code=303)

    def cookie_options(self) -> Mapping[str, Any]:
        return {"httponly": True, "samesite": "lax", "secure": self.secure_cookies, "path": PREFIX}

    # --- guards ---

    async def user_of(self, request: Request) -> SignedIn | None:
        return await signed_in(ctx=self.ctx, token=request.cookies.get(SESSION_COOKIE))

    def guard(self, page: Page, *, admin: bool = False) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            user = await self.user_of(request)
            if user is None:
                wanted = request.url.path if request.method == "GET" else f"{PREFIX}/aujourdhui"
                return self.see_other("/connexion", suite=wanted)
            if request.method == "POST":
                refusal = await self._check_post(request, user)
                if refusal is not None:
                    return refusal
            if admin and not user.admin:
                return self.render(request, "error.html", user=user, status=403, message=ADMIN_ONLY)
            return await page(self, request, user)

        return endpoint

    async def _check_post(self, request: Request, user: SignedIn) -> Response | None:
        """Read the form once (bounded) and check its CSRF token (a field, or the X-CSRF-Token header of the
        little JavaScript there is); the page then finds the form in ``form_of(request)``."""
        try:
            limit = UPLOAD_LIMIT if request.headers.get("content-type", "").startswith("multipart/") else FORM_LIMIT
            form = await read_form(request, limit)
        except TooLarge:
            return self.render(request, "error.html", user=user, status=413, message=TOO_LARGE)
        except BadForm:
            return self.render(request, "error.html", user=user, status=400, message=BAD_FORM)
        token = request.headers.get("x-csrf-token") or form.get("csrf")
        if not _same(token, user.csrf_token):
            return self.render(request, "error.html", user=user, status=403, message=BAD_CSRF)
        request.state.form = form
        return None


def form_of(request: Request) -> Form:
    """The form a guarded POST already read and checked."""
    form: Form = request.state.form
    return form


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def new_login_csrf() -> str:
    return secrets.token_urlsafe(32)


ADMIN_ONLY = "Cette page est réservée au coordinateur (compte administrateur)."
TOO_LARGE = "Le fichier ou le formulaire envoyé est trop gros (2 Mo au plus pour un fichier)."
BAD_FORM = "Le formulaire reçu est illisible. Rechargez la page et recommencez."
BAD_CSRF = (
    "Ce formulaire a expiré (ou ne vient pas de la console). Rechargez la page et recommencez : rien n'a été changé."
)


def sentence(error: Exception) -> str:
    """A service refusal ("l'atelier n°3 est déjà annulé.") as the console shows it: capitalised."""
    text = str(error).strip()
    return text[:1].upper() + text[1:]


def csv_download(data: bytes, filename: str) -> Response:
    """A spreadsheet the browser saves (``filename``: ASCII, no quotes), never shown as a page."""
    headers = {"content-disposition": f'attachment; filename="{filename}"'}
    return Response(data, media_type="text/csv; charset=utf-8", headers=headers)


def int_or_none(value: str | None) -> int | None:
    """A number typed in a form or a URL; None for anything else (huge ones included)."""
    value = (value or "").strip()
    if not value.isdigit() or len(value) > 9:
        return None
    return int(value)


def is_preview(request: Request) -> bool:
    """A change's form posted to ``…/apercu``: show what confirming would do, write nothing."""
    return request.url.path.endswith("/apercu")
