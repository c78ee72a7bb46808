"""The assistant's one aiohttp application: one-click unsubscribe (RFC 8058), liveness
(/health), readiness (/ready) and metrics (/metrics, Prometheus text format).

Other endpoints (webhooks, metrics, identification) are added to the same application by the
composition root. Bodies are limited in size, reading one has a time limit, and a request the
client aborts costs one log line, not a traceback."""
from __future__ import annotations

import asyncio
import html
import logging

from aiohttp import web

import texts as T
from services.health import Readiness
from services.mailing import Unsubscriber
from services.metrics import CONTENT_TYPE, Metrics

log = logging.getLogger(__name__)

UNSUBSCRIBE_PATH = "/u/{token}"
ONE_CLICK = ("List-Unsubscribe", "One-Click")  # RFC 8058 section 3.1: the body of the POST
UNSUBSCRIBER = web.AppKey("unsubscriber", Unsubscriber)
READ_TIMEOUT = web.AppKey("read_timeout", float)
READINESS = web.AppKey("readiness", Readiness)
METRICS = web.AppKey("metrics", Metrics)


def page(title: str, body: str, status: int = 200) -> web.Response:
    text = (f"<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<meta name=\"robots\" content=\"noindex\"><title>{html.escape(title)}</title></head>"
            f"<body style=\"font-family:sans-serif;max-width:36em;margin:2em auto;padding:0 1em\">"
            f"<h1>{html.escape(title)}</h1>{body}</body></html>")
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


async def unsubscribe_page(request: web.Request) -> web.Response:
    """GET: a confirmation page with a button. Nothing is withdrawn on GET: mail scanners and
    link previews follow links (RFC 8058 section 1)."""
    unsub = request.app[UNSUBSCRIBER]
    if not unsub.valid(request.match_info["token"]):
        return page(T.UNSUB_TITLE, f"<p>{T.UNSUB_BAD_LINK}</p>", 404)
    agency = html.escape(unsub.profile.agency.name)
    form = (f"<p>{T.UNSUB_ASK.format(agency=agency)}</p><form method=\"post\">"
            f"<input type=\"hidden\" name=\"{ONE_CLICK[0]}\" value=\"{ONE_CLICK[1]}\">"
            f"<button type=\"submit\" style=\"font-size:1.2em;padding:.4em 1.2em\">{T.UNSUB_BUTTON}</button></form>")
    return page(T.UNSUB_TITLE, form)


async def unsubscribe_post(request: web.Request) -> web.Response:
    """POST with List-Unsubscribe=One-Click (from the mail client, or the page's button):
    the consent is withdrawn at once, with no further step, and the answer is 200 (R-4.1)."""
    unsub = request.app[UNSUBSCRIBER]
    token = request.match_info["token"]
    if not unsub.valid(token):
        return page(T.UNSUB_TITLE, f"<p>{T.UNSUB_BAD_LINK}</p>", 404)
    try:
        form = await asyncio.wait_for(request.post(), request.app[READ_TIMEOUT])
    except asyncio.TimeoutError:
        log.info("unsubscribe: the body did not arrive in time")
        return web.Response(status=408, text="timeout")
    if form.get(ONE_CLICK[0]) != ONE_CLICK[1]:
        return page(T.UNSUB_TITLE, f"<p>{T.UNSUB_BAD_REQUEST}</p>", 400)
    done = await unsub.withdraw(token)
    if done is None:
        return page(T.UNSUB_TITLE, f"<p>{T.UNSUB_BAD_LINK}</p>", 404)
    return page(T.UNSUB_TITLE, f"<p>{T.UNSUB_DONE if done else T.UNSUB_ALREADY}</p>")


async def health(request: web.Request) -> web.Response:
    """Liveness: the process answers. Nothing else is checked, so a database outage does not
    get the process restarted."""
    return web.Response(text="ok")


async def ready(request: web.Request) -> web.Response:
    """Readiness: 200 when the database answers at the head migration and every channel serves;
    503 with a JSON body that names what is not ready."""
    ok, report = await request.app[READINESS].check()
    return web.json_response(report, status=200 if ok else 503, headers={"Cache-Control": "no-store"})


async def metrics(request: web.Request) -> web.Response:
    body = await request.app[METRICS].scrape()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"})


@web.middleware
async def quiet_aborts(request: web.Request, handler):
    """A client that goes away mid-request: one line in the log."""
    try:
        return await handler(request)
    except (ConnectionResetError, asyncio.IncompleteReadError) as e:
        log.info("%s %s: request aborted by the client (%s)", request.method, request.path, type(e).__name__)
        raise web.HTTPBadRequest() from None
    except web.HTTPException:
        raise
    except Exception as e:
        if type(e).__name__ in ("ClientPayloadError", "PayloadError", "ClientConnectionResetError"):
            log.info("%s %s: request aborted by the client (%s)", request.method, request.path, type(e).__name__)
            raise web.HTTPBadRequest() from None
        raise


def make_app(*, unsubscriber: Unsubscriber | None, max_body: int = 64 * 1024, read_timeout: float = 10.0,
             readiness: Readiness | None = None, metrics_of: Metrics | None = None) -> web.Application:
    app = web.Application(client_max_size=max_body, middlewares=[quiet_aborts])
    app[READ_TIMEOUT] = read_timeout
    app.router.add_get("/health", health)
    if readiness is not None:
        app[READINESS] = readiness
        app.router.add_get("/ready", ready)
    if metrics_of is not None:
        app[METRICS] = metrics_of
        app.router.add_get("/metrics", metrics)
    if unsubscriber is not None:
        app[UNSUBSCRIBER] = unsubscriber
        app.router.add_get(UNSUBSCRIBE_PATH, unsubscribe_page)
        app.router.add_post(UNSUBSCRIBE_PATH, unsubscribe_post)
    return app


async def serve(app: web.Application, host: str, port: int, stop: asyncio.Event,
                started: asyncio.Event | None = None) -> None:
    """Serve until `stop` is set."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, keepalive_timeout=15, shutdown_timeout=5)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("web server on %s:%s", host, port)
    if started is not None:
        started.set()
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
