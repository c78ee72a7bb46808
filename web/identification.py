"""aiohttp routes of citizen identification (the OIDC redirect endpoint and a short start link).

59-FZ art. 4, 7 as amended by 547-FZ: an electronic appeal from an identified citizen.

``GET /id/start/{state}`` redirects to the provider's login page of a pending attempt (so the
chat can carry a short link on the agency's own address); ``GET /id/callback?state=&code=`` is
where the provider sends the citizen back. Pages are short and in Russian, and show no
personal data; the error code is shown so that the citizen can quote it to support.
"""
from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from yarl import URL

from services.identification import CALLBACK_PATH, Identified, IdentificationError, IdentificationService

log = logging.getLogger(__name__)

START_PATH = "/id/start/{state}"
OnIdentified = Callable[[str, Identified], Awaitable[None]]

SUCCESS = "Личность подтверждена. Вернитесь в чат."
AGAIN = "Пожалуйста, попробуйте ещё раз из чата."
# code -> (HTTP status, explanation)
FAILURES: dict[str, tuple[int, str]] = {
    "disabled": (503, "Подтверждение личности сейчас недоступно."),
    "unknown_state": (400, "Ссылка недействительна."),
    "replayed": (400, "Эта ссылка уже использована."),
    "expired": (400, "Ссылка устарела: она действует 15 минут."),
    "bad_request": (400, "Служба входа вернула неполный ответ."),
    "cancelled": (400, "Вход не завершён."),
    "provider_unavailable": (502, "Не удалось связаться со службой входа."),
    "token_exchange_failed": (502, "Служба входа не подтвердила вход."),
    "bad_token": (502, "Не удалось проверить ответ службы входа."),
    "unknown_key": (502, "Не удалось проверить ответ службы входа."),
    "bad_signature": (502, "Не удалось проверить ответ службы входа."),
    "bad_claims": (502, "Не удалось проверить ответ службы входа."),
    "nonce_mismatch": (502, "Не удалось проверить ответ службы входа."),
    "no_name": (502, "Служба входа не передала фамилию и имя."),
    "not_saved": (500, "Вход выполнен, но результат не удалось сохранить."),
}
GENERIC = (500, "Что-то пошло не так.")


def add_identification_routes(app: web.Application, service: IdentificationService,
                              on_identified: OnIdentified) -> None:
    """Add the start and callback routes; ``on_identified(citizen_ref, identified)`` is awaited
    after a verified login (bind the name to the citizen, tell them in the chat)."""

    async def start(request: web.Request) -> web.Response:
        try:
            url = await service.authorize_url(request.match_info["state"])
        except IdentificationError as e:
            return failure(e.code)
        raise web.HTTPFound(URL(url, encoded=True), headers=NO_STORE)  # as built, not re-quoted

    async def callback(request: web.Request) -> web.Response:
        query = request.query
        if "error" in query:  # the citizen cancelled, or the provider refused
            log.info("identification: provider answered with an error")
            return failure("cancelled")
        state, code = query.get("state", ""), query.get("code", "")
        if not state or not code:
            return failure("bad_request")
        try:
            identified = await service.finish(state, code)
        except IdentificationError as e:
            return failure(e.code)
        try:
            await on_identified(identified.citizen_ref, identified)
        except Exception as e:  # the type only: a message may hold personal data
            log.error("identification: on_identified failed (%s)", type(e).__name__)
            return failure("not_saved")
        return page(200, SUCCESS)

    app.router.add_get(START_PATH, start)
    app.router.add_get(CALLBACK_PATH, callback)


NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
HEADERS = {**NO_STORE, "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}


def failure(code: str) -> web.Response:
    status, text = FAILURES.get(code, GENERIC)
    return page(status, text, AGAIN, code=code)


def page(status: int, *lines: str, code: str | None = None) -> web.Response:
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    if code:
        body += f'<p class="code">Код: {html.escape(code)}</p>'
    doc = ('<!doctype html><html lang="ru"><head><meta charset="utf-8">'
           '<meta name="viewport" content="width=device-width, initial-scale=1">'
           '<title>Подтверждение личности</title><style>body{font:18px/1.5 sans-serif;'
           'max-width:32em;margin:3em auto;padding:0 1em}.code{color:#666;font-size:14px}</style>'
           f'</head><body>{body}</body></html>')
    return web.Response(status=status, text=doc, content_type="text/html", charset="utf-8", headers=HEADERS)


def identification_routes(web_app: web.Application, app) -> bool:
    """Mount identification on any aiohttp application, for the assistant `app` (bot.app.App):
    a verified login is bound to the citizen and told in their chat, in one transaction.
    Returns False (and adds nothing) when no provider is configured."""
    from services import verification

    service = getattr(app.engine.deps, "identification", None)
    if service is None:
        return False

    async def on_identified(citizen_ref: str, identified: Identified) -> None:
        async with app.db_gate, app.sessionmaker() as session, session.begin():
            await verification.bind(session, identified, profile=app.profile, now=app.engine.deps.clock())

    add_identification_routes(web_app, service, on_identified)
    return True
