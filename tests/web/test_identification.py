"""Citizen identification through OpenID Connect, against an in-process fake provider.

59-FZ art. 4, 7 as amended by 547-FZ: an electronic appeal from an identified citizen. The
citizen gets a one-time link in the chat, logs in at the provider, and only a verified ID
token binds a name (and the assurance level) to them; anything else is refused.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from services.identification import (
    Attempt, IdentificationError, IdentificationService, Identified, MemoryAttemptStore, OidcConfig,
    assurance_of, full_name_of,
)
from tests.fakes.oidc_provider import CLIENT_ID, CLIENT_SECRET, FakeOidcProvider
from web.identification import add_identification_routes

REDIRECT = "https://bot.example.ru/id/callback"
IVANOV = dict(sub="esia-1000001", family_name="Иванов", given_name="Иван", middle_name="Петрович",
              acr="urn:esia:loa:substantial")
PD = ("esia-1000001", "Иванов", "Иван", "Петрович")  # must never reach a log or a page


def config_for(idp: FakeOidcProvider, **extra) -> OidcConfig:
    return OidcConfig(issuer=idp.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                      redirect_url=REDIRECT, **extra)


@pytest.fixture
async def idp(clock):
    async with FakeOidcProvider(clock=clock) as fake:
        fake.add_user("ivanov", **IVANOV)
        yield fake


@pytest.fixture
async def service(idp, clock):
    svc = IdentificationService(config_for(idp), clock=clock)
    yield svc
    await svc.close()


class Bot:
    """What the routes are wired to: records on_identified calls."""

    def __init__(self) -> None:
        self.identified: list[tuple[str, Identified]] = []
        self.fail = False

    async def on_identified(self, citizen_ref: str, identified: Identified) -> None:
        if self.fail:
            raise RuntimeError("database is down; name Иванов")
        self.identified.append((citizen_ref, identified))


async def routes_client(service: IdentificationService, bot: Bot) -> TestClient:
    app = web.Application()
    add_identification_routes(app, service, bot.on_identified)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


@pytest.fixture
async def bot():
    return Bot()


@pytest.fixture
async def client(service, bot):
    c = await routes_client(service, bot)
    yield c
    await c.close()


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def login(idp: FakeOidcProvider, service: IdentificationService, citizen_ref: str = "tg:42",
                user: str = "ivanov") -> dict[str, str]:
    """Start a link and log in at the provider; returns the callback query (state, code)."""
    link = await service.start(citizen_ref)
    location = await idp.login(link.url, user)
    assert location.startswith(REDIRECT + "?")
    return query_of(location)


async def callback(client: TestClient, query: dict[str, str]) -> tuple[int, str]:
    resp = await client.get("/id/callback", params=query)
    return resp.status, await resp.text()


# --------------------------------------------------------------------------- happy path
async def test_happy_path_through_routes(idp, service, client, bot, caplog):
    caplog.set_level(logging.DEBUG)
    link = await service.start("tg:42")
    assert link.expires_at - service.clock() == timedelta(minutes=15)
    q = query_of(link.url)
    assert q["code_challenge_method"] == "S256" and q["scope"] == "openid profile"
    assert q["state"] == link.state and q["nonce"] and q["redirect_uri"] == REDIRECT

    # the short link on the bot's own address leads to the provider, and can be opened twice
    for _ in range(2):
        resp = await client.get(f"/id/start/{link.state}", allow_redirects=False)
        assert resp.status == 302 and resp.headers["Location"] == link.url

    status, page = await callback(client, query_of(await idp.login(link.url, "ivanov")))
    assert status == 200, page
    assert "Личность подтверждена. Вернитесь в чат." in page
    [(ref, who)] = bot.identified
    assert ref == "tg:42" == who.citizen_ref
    assert who.subject == "esia-1000001"
    assert who.full_name == "Иванов Иван Петрович"
    assert who.assurance_level == "urn:esia:loa:substantial"
    assert who.raw_claims["nonce"] == q["nonce"]
    assert idp.auth_used == ["client_secret_basic"]  # the fake checked the PKCE verifier too
    for leak in PD:
        assert leak not in page and leak not in caplog.text and leak not in repr(who)


async def test_es256_and_esia_trusted_flag(clock):
    async with FakeOidcProvider(clock=clock, alg="ES256") as idp:
        idp.add_user("petrova", sub="e-2", name="Петрова  Анна Сергеевна", trusted=True)
        service = IdentificationService(config_for(idp), clock=clock)
        try:
            q = await login(idp, service, user="petrova")
            who = await service.finish(q["state"], q["code"])
        finally:
            await service.close()
    assert who.full_name == "Петрова Анна Сергеевна"
    assert who.assurance_level == "trusted"


async def test_client_secret_post_when_discovery_says_so(clock):
    async with FakeOidcProvider(clock=clock, auth_methods=("client_secret_post",)) as idp:
        idp.add_user("ivanov", **IVANOV)
        service = IdentificationService(config_for(idp), clock=clock)
        try:
            q = await login(idp, service)
            await service.finish(q["state"], q["code"])
        finally:
            await service.close()
    assert idp.auth_used == ["client_secret_post"]


async def test_name_from_userinfo_when_the_id_token_has_none(idp, service):
    idp.quirks.userinfo_only = ("family_name", "given_name", "middle_name")
    q = await login(idp, service)
    who = await service.finish(q["state"], q["code"])
    assert who.full_name == "Иванов Иван Петрович"
    assert idp.requests["userinfo"] == 1


async def test_no_name_at_all_is_refused(idp, service):
    idp.add_user("anon", sub="e-3")
    q = await login(idp, service, user="anon")
    with pytest.raises(IdentificationError) as e:
        await service.finish(q["state"], q["code"])
    assert e.value.code == "no_name"


# --------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("quirks, code", [
    (dict(wrong_key=True), "bad_signature"),
    (dict(alg="none"), "bad_signature"),
    (dict(alg="HS256"), "bad_signature"),
    (dict(expired=True), "bad_claims"),
    (dict(audience="someone-else"), "bad_claims"),
    (dict(audience="someone-else", azp=CLIENT_ID), "bad_claims"),  # aud itself is checked
    (dict(audience=["someone-else", "another"]), "bad_claims"),
    (dict(issuer="https://evil.example"), "bad_claims"),
    (dict(azp="someone-else"), "bad_claims"),
    (dict(nonce="not-the-attempts-nonce"), "nonce_mismatch"),
    (dict(unknown_kid=True), "unknown_key"),
    (dict(token_status=500), "token_exchange_failed"),
])
async def test_bad_tokens_are_refused(idp, service, client, bot, caplog, quirks, code):
    q = await login(idp, service)
    for name, value in quirks.items():
        setattr(idp.quirks, name, value)
    status, page = await callback(client, q)
    assert status == 502, page
    assert f"Код: {code}" in page and "попробуйте ещё раз из чата" in page
    assert bot.identified == []
    assert f"identification refused: {code}" in caplog.text
    for leak in PD:
        assert leak not in caplog.text


async def test_replayed_state_is_refused(idp, service, client, bot):
    q = await login(idp, service)
    assert (await callback(client, q))[0] == 200
    status, page = await callback(client, q)
    assert status == 400 and "Код: replayed" in page and "попробуйте ещё раз из чата" in page
    assert len(bot.identified) == 1


async def test_expired_attempt_is_refused(idp, service, client, bot, clock):
    q = await login(idp, service)
    clock.now += timedelta(minutes=15, seconds=1)
    status, page = await callback(client, q)
    assert status == 400 and "Код: expired" in page
    assert idp.requests["token"] == 0 and bot.identified == []
    resp = await client.get(f"/id/start/{q['state']}", allow_redirects=False)
    assert resp.status == 400  # taken by the callback: gone


async def test_expired_short_link(idp, service, client, clock):
    link = await service.start("tg:42")
    clock.now += timedelta(minutes=16)
    resp = await client.get(f"/id/start/{link.state}", allow_redirects=False)
    assert resp.status == 400 and "Код: expired" in await resp.text()


async def test_unknown_state_is_refused(idp, service, client, bot):
    await login(idp, service)
    status, page = await callback(client, {"state": "forged-state", "code": "whatever"})
    assert status == 400 and "Код: unknown_state" in page
    assert idp.requests["token"] == 0 and bot.identified == []


async def test_citizen_cancelled_or_incomplete_callback(service, client):
    status, page = await callback(client, {"error": "access_denied", "state": "x"})
    assert status == 400 and "Вход не завершён" in page
    status, page = await callback(client, {"state": "x"})
    assert status == 400 and "Код: bad_request" in page


async def test_code_is_one_time_at_the_provider(idp, service):
    q = await login(idp, service)
    await service.finish(q["state"], q["code"])
    again = await service.start("tg:42")
    with pytest.raises(IdentificationError) as e:  # an old code under a fresh state
        await service.finish(again.state, q["code"])
    assert e.value.code == "token_exchange_failed" and idp.errors == ["token: code"]


async def test_on_identified_failure_is_told_without_details(idp, service, client, bot, caplog):
    bot.fail = True
    status, page = await callback(client, await login(idp, service))
    assert status == 500 and "Код: not_saved" in page
    assert "RuntimeError" in caplog.text and "Иванов" not in caplog.text


async def test_disabled_when_not_configured(clock):
    service = IdentificationService(OidcConfig(issuer=None, client_id=None), clock=clock)
    assert not service.enabled
    with pytest.raises(IdentificationError) as e:
        await service.start("tg:42")
    assert e.value.code == "disabled"
    client = await routes_client(service, Bot())
    try:
        status, page = await callback(client, {"state": "s", "code": "c"})
    finally:
        await client.close()
    assert status == 503 and "Код: disabled" in page


# --------------------------------------------------------------------------- keys
async def test_jwks_rotation_refetches_once(idp, service):
    q = await login(idp, service)
    await service.finish(q["state"], q["code"])
    assert idp.requests["jwks"] == 1
    q = await login(idp, service)
    await service.finish(q["state"], q["code"])
    assert idp.requests["jwks"] == 1  # cached
    assert idp.requests["discovery"] == 1

    idp.rotate_keys()  # the old key is gone, a new kid signs
    q = await login(idp, service)
    who = await service.finish(q["state"], q["code"])
    assert who.subject == "esia-1000001"
    assert idp.requests["jwks"] == 2


async def test_unknown_kid_refetches_only_once(idp, service):
    idp.quirks.unknown_kid = True
    q = await login(idp, service)
    with pytest.raises(IdentificationError) as e:
        await service.finish(q["state"], q["code"])
    assert e.value.code == "unknown_key"
    assert idp.requests["jwks"] == 2  # first fetch, one refetch, no more


async def test_provider_down(clock):
    async with FakeOidcProvider(clock=clock) as idp:
        config = config_for(idp)
    service = IdentificationService(config, clock=clock)  # the provider has stopped
    try:
        with pytest.raises(IdentificationError) as e:
            await service.start("tg:42")
    finally:
        await service.close()
    assert e.value.code == "provider_unavailable"


@pytest.mark.parametrize("change", [
    {"issuer": "https://other-idp.example.ru"},          # not the configured issuer
    {"token_endpoint": "http://idp.example.ru/token"},   # plain http off loopback
    {"jwks_uri": None},
])
async def test_bad_discovery_is_refused(idp, service, change):
    idp.quirks.discovery = change
    with pytest.raises(IdentificationError) as e:
        await service.start("tg:42")
    assert e.value.code == "provider_unavailable"


# --------------------------------------------------------------------------- parts
def test_config_from_env():
    env = {"OIDC_ISSUER": "https://idp.example.ru/realms/gov", "OIDC_CLIENT_ID": "bot",
           "OIDC_CLIENT_SECRET": "top-secret-value", "OIDC_SCOPES": "openid  profile email"}
    config = OidcConfig.from_env(env, "https://bot.example.ru/")
    assert config.enabled and config.scopes == ("openid", "profile", "email")
    assert config.redirect_url == "https://bot.example.ru/id/callback"
    assert config.client_secret == "top-secret-value" and "top-secret" not in repr(config)
    assert OidcConfig.from_env({"OIDC_CLIENT_ID": "bot"}, "https://x").enabled is False
    assert OidcConfig.from_env({"OIDC_ISSUER": "https://i"}, "https://x").enabled is False
    assert OidcConfig.from_env({"OIDC_ISSUER": "https://i", "OIDC_CLIENT_ID": "b"}, "https://x").scopes == (
        "openid", "profile")


async def test_memory_store_take_is_one_time(clock):
    store = MemoryAttemptStore(clock)
    attempt = Attempt("tg:1", "n", "v" * 64, clock() + timedelta(minutes=15), "https://idp/authorize")
    await store.put("s", attempt)
    assert await store.take("s") == attempt
    assert await store.take("s") is None
    assert create_s256_code_challenge("v" * 64) != "v" * 64  # S256, not plain


def test_names_and_assurance():
    assert full_name_of({"family_name": "Иванов", "given_name": "Иван"}) == "Иванов Иван"
    assert full_name_of({"name": " Иван  Иванов ", "family_name": "X"}) == "Иван Иванов"
    assert full_name_of({"sub": "1"}) is None
    assert assurance_of({"acr": "2", "trusted": False}) == "2"
    assert assurance_of({"trusted": "false"}) == "not_trusted"
    assert assurance_of({"trusted": True}) == "trusted"
    assert assurance_of({}) is None
