"""In-process fake OpenID Connect provider for tests (aiohttp on 127.0.0.1).

59-FZ art. 4, 7 as amended by 547-FZ: an electronic appeal from an identified citizen; this
fake stands in for the agency's identity provider (an ESIA gateway or a broker)::

    async with FakeOidcProvider(clock=clock) as idp:
        idp.add_user("ivanov", sub="u-1", family_name="Иванов", given_name="Иван")
        redirect = await idp.login(start_link.url, "ivanov")   # the citizen "logs in"
        # redirect == "<redirect_uri>?code=...&state=..."

Strict where a relying party can go wrong: ``/authorize`` wants response_type=code, our
client_id, "openid" in scope, a nonce and a PKCE S256 challenge; ``/token`` checks client
authentication (the methods given), the code (one-time), redirect_uri and the PKCE verifier.
ID tokens are signed with an RSA key made at start (or an EC P-256 key: ``alg="ES256"``);
``rotate_keys()`` publishes a new signing key. Bad cases are asked for with ``quirks``.
"""
from __future__ import annotations

import base64
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote

from aiohttp import ClientSession, web
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core.util import create_half_hash
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OctKey, RSAKey

CLIENT_ID = "zhilnadzor-bot"
CLIENT_SECRET = "fake-client-secret"


@dataclass
class Quirks:
    """Ways to misbehave; each applies to every token issued while set."""
    wrong_key: bool = False          # sign with a stray key, under the published kid
    unknown_kid: bool = False        # sign with an unpublished key and kid
    alg: str | None = None           # "none": unsigned; "HS256": signed with the client secret
    expired: bool = False            # exp ten minutes ago
    audience: str | list[str] | None = None
    issuer: str | None = None
    nonce: str | None = None
    azp: str | None = None
    token_status: int | None = None  # the token endpoint answers this status instead
    userinfo_only: tuple[str, ...] = ()  # claims left out of the ID token (userinfo has them)
    discovery: dict[str, Any] | None = None  # fields to change in the discovery document


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str
    login: str


class FakeOidcProvider:
    def __init__(self, *, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET,
                 auth_methods: tuple[str, ...] = ("client_secret_basic", "client_secret_post"),
                 alg: str = "RS256", clock: Callable[[], datetime] | None = None) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.auth_methods, self.alg = auth_methods, alg
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.quirks = Quirks()
        self.users: dict[str, dict[str, Any]] = {}
        self.base_url = ""
        self.requests: dict[str, int] = {"discovery": 0, "jwks": 0, "authorize": 0, "token": 0, "userinfo": 0}
        self.auth_used: list[str] = []  # client authentication method of each good token request
        self.errors: list[str] = []     # why requests were refused, for test messages
        self._keys: list[RSAKey | ECKey] = []
        self._grants: dict[str, Grant] = {}
        self._access: dict[str, str] = {}  # access token -> login
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        self._keys = [self._new_key("k1")]
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self._discovery)
        app.router.add_get("/jwks", self._jwks)
        app.router.add_get("/authorize", self._authorize)
        app.router.add_post("/token", self._token)
        app.router.add_get("/userinfo", self._userinfo)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base_url = "http://127.0.0.1:%d" % self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOidcProvider:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def issuer(self) -> str:
        return self.base_url

    # ------------------------------------------------------------- test controls
    def add_user(self, login: str, **claims: Any) -> None:
        claims.setdefault("sub", "sub-" + login)
        self.users[login] = claims

    def rotate_keys(self, keep_old: bool = False) -> str:
        """Sign with a new key from now on; the JWKS shows it (and the old one if kept)."""
        kid = "k%d" % (int(self._keys[-1].kid[1:]) + 1)
        self._keys = [*self._keys, self._new_key(kid)] if keep_old else [self._new_key(kid)]
        return kid

    async def login(self, authorize_url: str, login: str) -> str:
        """The citizen logs in as ``login`` at ``authorize_url``; returns the redirect target."""
        async with ClientSession() as http:
            async with http.get(add_params_to_uri(authorize_url, [("login_as", login)]),
                                allow_redirects=False) as resp:
                if resp.status != 302:
                    raise AssertionError(f"authorize answered {resp.status}: {await resp.text()}")
                return resp.headers["Location"]

    # ------------------------------------------------------------- endpoints
    async def _discovery(self, request: web.Request) -> web.Response:
        self.requests["discovery"] += 1
        return web.json_response({**self._discovery_doc(), **(self.quirks.discovery or {})})

    def _discovery_doc(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.base_url + "/authorize",
            "token_endpoint": self.base_url + "/token",
            "userinfo_endpoint": self.base_url + "/userinfo",
            "jwks_uri": self.base_url + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [self.alg],
            "token_endpoint_auth_methods_supported": list(self.auth_methods),
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile"],
        }

    async def _jwks(self, request: web.Request) -> web.Response:
        self.requests["jwks"] += 1
        return web.json_response(KeySet(self._keys).as_dict())

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        self.requests["authorize"] += 1
        q = request.query
        problem = (
            "response_type" if q.get("response_type") != "code" else
            "client_id" if q.get("client_id") != self.client_id else
            "redirect_uri" if not q.get("redirect_uri", "").startswith(("http://", "https://")) else
            "scope" if "openid" not in q.get("scope", "").split() else
            "nonce" if not q.get("nonce") else
            "state" if not q.get("state") else
            "code_challenge" if q.get("code_challenge_method") != "S256" or len(q.get("code_challenge", "")) != 43
            else None
        )
        if problem:
            return self._refuse(400, "invalid_request", "authorize: " + problem)
        if "login_as" not in q:
            return web.Response(text="<form>Вход</form>", content_type="text/html")
        if q["login_as"] not in self.users:
            return self._refuse(400, "access_denied", "authorize: unknown user")
        code = secrets.token_urlsafe(24)
        self._grants[code] = Grant(q["client_id"], q["redirect_uri"], q["code_challenge"], q["nonce"], q["login_as"])
        raise web.HTTPFound(add_params_to_uri(q["redirect_uri"], [("code", code), ("state", q["state"])]))

    async def _token(self, request: web.Request) -> web.Response:
        self.requests["token"] += 1
        if self.quirks.token_status:
            return web.json_response({"error": "server_error"}, status=self.quirks.token_status)
        form = await request.post()
        method = self._client_auth(request, form)
        if method is None:
            return self._refuse(401, "invalid_client", "token: client authentication")
        grant = self._grants.pop(str(form.get("code", "")), None)
        problem = (
            "grant_type" if form.get("grant_type") != "authorization_code" else
            "code" if grant is None else
            "client" if grant.client_id != self.client_id else
            "redirect_uri" if form.get("redirect_uri") != grant.redirect_uri else
            "code_verifier" if create_s256_code_challenge(str(form.get("code_verifier", ""))) != grant.code_challenge
            else None
        )
        if problem:
            return self._refuse(400, "invalid_grant", "token: " + problem)
        self.auth_used.append(method)
        access_token = secrets.token_urlsafe(24)
        self._access[access_token] = grant.login
        return web.json_response({"access_token": access_token, "token_type": "Bearer", "expires_in": 300,
                                  "id_token": self.id_token(grant.login, grant.nonce, access_token)},
                                 headers={"Cache-Control": "no-store"})

    async def _userinfo(self, request: web.Request) -> web.Response:
        self.requests["userinfo"] += 1
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self._access:
            return self._refuse(401, "invalid_token", "userinfo: token")
        return web.json_response(self.users[self._access[token]])

    # ------------------------------------------------------------- tokens
    def id_token(self, login: str, nonce: str, access_token: str | None = None) -> str:
        quirks, now = self.quirks, int(self.clock().timestamp())
        issued = now - 3600 if quirks.expired else now
        user = {k: v for k, v in self.users[login].items() if k not in quirks.userinfo_only}
        claims: dict[str, Any] = {
            **user,
            "iss": quirks.issuer or self.issuer,
            "aud": quirks.audience or self.client_id,
            "iat": issued, "auth_time": issued,
            "exp": now - 600 if quirks.expired else now + 300,  # expired: ten minutes ago
            "nonce": quirks.nonce or nonce,
        }
        if quirks.azp:
            claims["azp"] = quirks.azp
        key = self._keys[-1]
        if access_token:
            claims["at_hash"] = create_half_hash(access_token, self.alg).decode()
        if quirks.alg == "none":
            head = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": key.kid}).encode()).rstrip(b"=")
            body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
            return (head + b"." + body + b".").decode()
        if quirks.alg == "HS256":
            secret = OctKey.import_key(self.client_secret.encode())
            return jwt.encode({"alg": "HS256", "kid": key.kid}, claims, secret, algorithms=["HS256"])
        if quirks.wrong_key:
            key = self._new_key(key.kid)
        elif quirks.unknown_kid:
            key = self._new_key("unpublished")
        return jwt.encode({"alg": self.alg, "kid": key.kid}, claims, key, algorithms=[self.alg])

    def _new_key(self, kid: str) -> RSAKey | ECKey:
        params = {"kid": kid, "use": "sig", "alg": self.alg}
        if self.alg == "ES256":
            return ECKey.generate_key("P-256", parameters=params)
        return RSAKey.generate_key(2048, parameters=params)

    # ------------------------------------------------------------- helpers
    def _client_auth(self, request: web.Request, form: Any) -> str | None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic ") and "client_secret_basic" in self.auth_methods:
            try:
                client_id, _, secret = base64.b64decode(header[6:]).decode("latin1").partition(":")
            except ValueError:
                return None
            if self._secret_ok(unquote(client_id), unquote(secret)):
                return "client_secret_basic"
            return None
        if "client_secret" in form and "client_secret_post" in self.auth_methods:
            if self._secret_ok(str(form.get("client_id", "")), str(form["client_secret"])):
                return "client_secret_post"
        return None

    def _secret_ok(self, client_id: str, secret: str) -> bool:
        return client_id == self.client_id and hmac.compare_digest(secret.encode(), self.client_secret.encode())

    def _refuse(self, status: int, error: str, why: str) -> web.Response:
        self.errors.append(why)
        return web.Response(status=status, text=json.dumps({"error": error}), content_type="application/json")

