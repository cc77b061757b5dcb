"""The channels (SMS, Telegram, voice, console), one module each; they never import each other.

What the two Twilio channels share to read a webhook lives here: the form read within a size limit, the check of
Twilio's signature (https://www.twilio.com/docs/usage/webhooks/webhooks-security), the refusal, a field's text.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlparse

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from twilio.request_validator import RequestValidator, compare

from bot.channels import plain_number
from bot.config import Settings

FORM_TYPE = "application/x-www-form-urlencoded"  # how Twilio posts every webhook, SMS and voice alike
MAX_FIELDS = 1000  # Twilio's forms have a few dozen fields; as many as Starlette's own form parser accepts


async def read_form(request: Request, *, most: int) -> FormData | None:
    """The posted form, or None when the request is not a URL-encoded form (Twilio posts nothing else:
    https://www.twilio.com/docs/usage/webhooks/webhooks-overview) or is longer than ``most`` bytes.

    Parsed by the standard library rather than ``request.form()`` (python-multipart, through a callback per byte
    range): half the CPU for a Twilio form. As Starlette does, names and values are read as Latin-1 then
    percent-decoded as UTF-8, a malformed sequence becoming U+FFFD; the body is read before its type is looked at,
    so that an oversized body of any type is answered 413 by the guard (bot/guards.py), never read past the limit.
    ``most`` repeats that limit for a server without the guard (the benchmark's ceiling, bench/inbound_sms.py).
    The console reads its own forms otherwise (``bot/interfaces/web/base.py``): strict UTF-8 and no NUL, since an
    adviser's typing is stored, where a provider's form is read as the provider signed it (the signature is
    computed over these very values).
    """
    length = request.headers.get("content-length")
    size = plain_number(length) if length is not None else 0
    if size is None or size > most:
        return None
    body = await request.body()
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if len(body) > most or kind != FORM_TYPE:
        return None
    try:
        fields = parse_qsl(body.decode("latin-1"), keep_blank_values=True, errors="replace", max_num_fields=MAX_FIELDS)
    except ValueError:  # more than MAX_FIELDS fields
        return None
    values: list[tuple[str, str | UploadFile]] = list(fields)  # FormData's type, which a list of str pairs is not
    return FormData(values)


def signed_url(request: Request, settings: Settings, path: str) -> str:
    """The URL Twilio signed: the public one configured (behind a proxy, ``request.url`` is not what Twilio
    called), with the query string Twilio was given, if any."""
    if settings.public_url is None:
        return str(request.url)
    # The raw query string, as the server received it (``request.url`` would build and split the whole URL: 5 µs).
    query = request.scope.get("query_string", b"").decode("latin-1")
    return settings.public_url + path + (f"?{query}" if query else "")


def twilio_signed(request: Request, form: FormData | None, settings: Settings, path: str) -> bool:
    """True when the request may be processed: signed with our auth token, or no token configured (local use).

    The signature covers the URL and every POST parameter; ``RequestValidator`` reads repeated parameters through
    the form's ``getlist``, which is why it gets Starlette's form object and not a dict.
    """
    token = settings.twilio_auth_token
    if not token:
        return True
    signature = request.headers.get("x-twilio-signature")
    if not signature or form is None:
        return False
    url = signed_url(request, settings, path)
    validator = RequestValidator(token)
    # ``validate`` accepts the signature of the URL without its port or with it, and always computes both (~35 us
    # each). Twilio signs the URL as configured, which is one of those two (``urlparse(url).geturl()`` is what
    # twilio's remove_port returns for a URL without a port, and add_port for one with a port): it is checked
    # alone first, and ``validate`` runs only when it does not match. Same answer, one HMAC per genuine request.
    if compare(validator.compute_signature(urlparse(url).geturl(), form), signature):
        return True
    return bool(validator.validate(url, form, signature))


def forbidden() -> Response:
    return Response("Forbidden", status_code=403, media_type="text/plain")


def field(form: FormData, name: str) -> str:
    """A form field's text; empty when absent (or a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""
