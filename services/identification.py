"""Citizen identification through an OpenID Connect provider (relying party side).

59-FZ art. 4, 7 as amended by 547-FZ: an electronic appeal from an identified citizen.
Since 30.03.2025 an electronic appeal must come through a system that identifies and
authenticates the citizen; here the citizen logs in at the agency's identity provider (an
ESIA gateway or an identity broker speaking OIDC) and the verified name is bound to them.

Flow: ``start(citizen_ref)`` makes a one-time link (state, nonce, PKCE S256) that the bot
sends to the citizen; the provider redirects back with ``state`` and ``code``;
``finish(state, code)`` exchanges the code and verifies the ID token. Failures raise
``IdentificationError(code)``. Logs carry codes only, never personal data.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

import aiohttp
from authlib.common.security import generate_token, is_secure_transport
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError, ClaimError, InvalidKeyIdError, InvalidKeyTypeError, JoseError, UnsupportedAlgorithmError,
)
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

log = logging.getLogger(__name__)

CALLBACK_PATH = "/id/callback"
ATTEMPT_TTL = timedelta(minutes=15)
METADATA_TTL = timedelta(hours=1)  # discovery and JWKS are refetched after this
LEEWAY_SECONDS = 60  # clock skew allowed on exp/iat/nbf
ALGORITHMS = ["RS256", "ES256"]
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=10)

ERROR_CODES = (
    "disabled",               # OIDC is not configured
    "unknown_state",          # no such login attempt
    "replayed",               # the attempt was already used
    "expired",                # the attempt is older than 15 minutes
    "provider_unavailable",   # discovery, JWKS or userinfo could not be fetched or is malformed
    "token_exchange_failed",  # the token endpoint refused or failed, or gave no ID token
    "bad_token",              # the ID token is not a well-formed JWS
    "unknown_key",            # the token's kid is not in the JWKS, even after a refetch
    "bad_signature",          # signature does not verify, or an algorithm or key type we do not accept
    "bad_claims",             # iss, aud, exp, iat, nbf, azp, sub or at_hash are wrong
    "nonce_mismatch",         # the nonce is not the attempt's
    "no_name",                # the provider gave no name
)


class IdentificationError(Exception):
    """A refused or failed identification; ``code`` is one of ERROR_CODES."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class OidcConfig:
    issuer: str | None
    client_id: str | None
    client_secret: str | None = field(default=None, repr=False)
    scopes: tuple[str, ...] = ("openid", "profile")
    redirect_url: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.issuer and self.client_id)

    @classmethod
    def from_env(cls, env: Mapping[str, str], public_base_url: str) -> OidcConfig:
        """From OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_SCOPES (space-separated)."""
        scopes = tuple((env.get("OIDC_SCOPES") or "openid profile").split())
        if "openid" not in scopes:
            scopes = ("openid", *scopes)
        return cls(
            issuer=(env.get("OIDC_ISSUER") or "").strip() or None,
            client_id=(env.get("OIDC_CLIENT_ID") or "").strip() or None,
            client_secret=env.get("OIDC_CLIENT_SECRET") or None,
            scopes=scopes,
            redirect_url=public_base_url.rstrip("/") + CALLBACK_PATH,
        )


@dataclass(frozen=True)
class Attempt:
    """One login attempt, kept by state until the callback (or expiry)."""
    citizen_ref: str
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)
    expires_at: datetime
    authorize_url: str = field(repr=False)


@dataclass(frozen=True)
class StartLink:
    url: str  # the provider's authorization URL to send to the citizen
    state: str
    expires_at: datetime


@dataclass(frozen=True)
class Identified:
    subject: str = field(repr=False)
    full_name: str = field(repr=False)
    assurance_level: str | None
    raw_claims: Mapping[str, Any] = field(repr=False)
    citizen_ref: str = field(repr=False)  # whom the login attempt was for


class AttemptStore(Protocol):
    async def put(self, state: str, attempt: Attempt) -> None: ...

    async def take(self, state: str) -> Attempt | None:
        """Return the attempt and forget it: a second take of the same state gives None."""


class MemoryAttemptStore:
    """In-process store (tests, single process). Forgets attempts after they expire."""

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.clock = clock
        self._attempts: dict[str, Attempt] = {}

    async def put(self, state: str, attempt: Attempt) -> None:
        now = self.clock()
        for old in [s for s, a in self._attempts.items() if a.expires_at + ATTEMPT_TTL < now]:
            del self._attempts[old]
        self._attempts[state] = attempt

    async def take(self, state: str) -> Attempt | None:
        return self._attempts.pop(state, None)


def full_name_of(claims: Mapping[str, Any]) -> str | None:
    """``name``, or family + given + middle name (Russian order)."""
    name = claims.get("name")
    if isinstance(name, str) and name.strip():
        return " ".join(name.split())
    parts = [claims.get(k) for k in ("family_name", "given_name", "middle_name")]
    return " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip()) or None


def assurance_of(claims: Mapping[str, Any]) -> str | None:
    """``acr`` as given, else an ESIA-like ``trusted`` flag as "trusted" / "not_trusted"."""
    acr = claims.get("acr")
    if isinstance(acr, str) and acr:
        return acr
    if "trusted" in claims:
        trusted = claims["trusted"]
        if isinstance(trusted, str):
            trusted = trusted.strip().lower() == "true"
        return "trusted" if trusted is True else "not_trusted"
    return None


class IdentificationService:
    def __init__(self, config: OidcConfig, store: AttemptStore | None = None, *,
                 clock: Callable[[], datetime] = utc_now, session: aiohttp.ClientSession | None = None) -> None:
        self.config, self.clock = config, clock
        self.store = store if store is not None else MemoryAttemptStore(clock)
        self._session, self._own_session = session, session is None
        self._lock = asyncio.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at: datetime | None = None
        self._jwks: KeySet | None = None
        self._jwks_at: datetime | None = None
        # States this process has taken, only to tell "replayed" from "unknown_state";
        # the store's one-time take is what refuses a replay.
        self._taken: dict[str, datetime] = {}

    @property
    def enabled(self) -> bool:
        return self.config.enabled

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
        self._session = None

    # ---------------------------------------------------------------- flow
    async def start(self, citizen_ref: str) -> StartLink:
        if not self.enabled:
            raise self._fail("disabled")
        metadata = await self.metadata()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        url = prepare_grant_uri(
            metadata["authorization_endpoint"], self.config.client_id, "code",
            redirect_uri=self.config.redirect_url, scope=list(self.config.scopes), state=state,
            nonce=nonce, code_challenge=create_s256_code_challenge(verifier), code_challenge_method="S256",
        )
        expires_at = self.clock() + ATTEMPT_TTL
        await self.store.put(state, Attempt(citizen_ref, nonce, verifier, expires_at, url))
        log.info("identification started")
        return StartLink(url=url, state=state, expires_at=expires_at)

    async def authorize_url(self, state: str) -> str:
        """The provider URL of a pending attempt, for a short link; the attempt stays pending."""
        if not self.enabled:
            raise self._fail("disabled")
        attempt = await self.store.take(state)
        if attempt is None:
            raise self._fail("replayed" if state in self._taken else "unknown_state")
        if attempt.expires_at <= self.clock():
            raise self._fail("expired")
        await self.store.put(state, attempt)
        return attempt.authorize_url

    async def finish(self, state: str, code: str) -> Identified:
        """Verify the provider's callback; the result names the attempt's citizen_ref."""
        if not self.enabled:
            raise self._fail("disabled")
        attempt = await self._take(state)
        tokens = await self._exchange(code, attempt)
        claims = await self._verify(tokens["id_token"], attempt.nonce, tokens.get("access_token"))
        if full_name_of(claims) is None and tokens.get("access_token"):
            claims = {**await self._userinfo(tokens["access_token"], claims["sub"]), **claims}
        name = full_name_of(claims)
        if name is None:
            raise self._fail("no_name")
        log.info("identification finished")
        return Identified(claims["sub"], name, assurance_of(claims), claims, attempt.citizen_ref)

    async def _take(self, state: str) -> Attempt:
        now = self.clock()
        for old in [s for s, t in self._taken.items() if t <= now]:
            del self._taken[old]
        attempt = await self.store.take(state) if state else None
        if attempt is None:
            raise self._fail("replayed" if state in self._taken else "unknown_state")
        self._taken[state] = attempt.expires_at + ATTEMPT_TTL
        if attempt.expires_at <= now:
            raise self._fail("expired")
        return attempt

    # ------------------------------------------------------------ provider
    async def metadata(self) -> dict[str, Any]:
        """Discovery document, cached for METADATA_TTL."""
        now = self.clock()
        if self._metadata is not None and self._metadata_at and now - self._metadata_at < METADATA_TTL:
            return self._metadata
        async with self._lock:
            if self._metadata is None or not self._metadata_at or now - self._metadata_at >= METADATA_TTL:
                issuer = (self.config.issuer or "").rstrip("/")
                doc = await self._get_json(issuer + "/.well-known/openid-configuration")
                needed = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
                if any(not isinstance(doc.get(k), str) for k in needed) or doc["issuer"].rstrip("/") != issuer:
                    raise self._fail("provider_unavailable")
                urls = [doc[k] for k in needed] + [doc.get("userinfo_endpoint") or "https://-"]
                if not all(is_secure_transport(u) for u in urls):  # https, or http on loopback
                    raise self._fail("provider_unavailable")
                self._metadata, self._metadata_at = doc, now
        return self._metadata

    async def key_set(self, refresh: bool = False) -> KeySet:
        """JWKS, cached for METADATA_TTL; ``refresh`` refetches (a rotated key)."""
        now = self.clock()
        fresh = self._jwks is not None and self._jwks_at and now - self._jwks_at < METADATA_TTL
        if fresh and not refresh:
            return self._jwks
        metadata = await self.metadata()
        async with self._lock:
            try:
                keys = KeySet.import_key_set(await self._get_json(metadata["jwks_uri"]))
            except (JoseError, KeyError, TypeError, ValueError):
                raise self._fail("provider_unavailable") from None
            self._jwks, self._jwks_at = keys, now
        return keys

    async def _exchange(self, code: str, attempt: Attempt) -> dict[str, Any]:
        metadata = await self.metadata()
        if not code:
            raise self._fail("token_exchange_failed")
        body = prepare_token_request("authorization_code", code=code, redirect_uri=self.config.redirect_url,
                                     code_verifier=attempt.code_verifier)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        method = self._auth_method(metadata)
        _, headers, body = ClientAuth(self.config.client_id, self.config.client_secret, method).prepare(
            "POST", metadata["token_endpoint"], headers, body)
        try:
            async with self._http().post(metadata["token_endpoint"], data=body, headers=headers) as resp:
                if resp.status != 200:
                    raise self._fail("token_exchange_failed")
                tokens = await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            raise self._fail("token_exchange_failed") from None
        if not isinstance(tokens, dict) or not isinstance(tokens.get("id_token"), str):
            raise self._fail("token_exchange_failed")
        return tokens

    def _auth_method(self, metadata: Mapping[str, Any]) -> str:
        if not self.config.client_secret:
            return "none"
        supported = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if "client_secret_basic" in supported or "client_secret_post" not in supported:
            return "client_secret_basic"
        return "client_secret_post"

    async def _verify(self, id_token: str, nonce: str, access_token: str | None) -> dict[str, Any]:
        registry = JWSRegistry(algorithms=ALGORITHMS, strict_check_header=False)
        try:
            try:
                token = jwt.decode(id_token, await self.key_set(), registry=registry)
            except InvalidKeyIdError:
                token = jwt.decode(id_token, await self.key_set(refresh=True), registry=registry)
        except InvalidKeyIdError:
            raise self._fail("unknown_key") from None
        except (BadSignatureError, UnsupportedAlgorithmError, InvalidKeyTypeError):  # incl. "none", HS256
            raise self._fail("bad_signature") from None
        except (JoseError, ValueError):  # malformed
            raise self._fail("bad_token") from None
        metadata = await self.metadata()
        options = {"iss": {"essential": True, "value": metadata["issuer"]},
                   "aud": {"essential": True, "value": self.config.client_id}}
        params = {"nonce": nonce, "client_id": self.config.client_id}
        if access_token:
            params["access_token"] = access_token
        claims = CodeIDToken(token.claims, token.header, options, params)
        try:
            claims.validate(now=int(self.clock().timestamp()), leeway=LEEWAY_SECONDS)
        except ClaimError as e:
            raise self._fail("nonce_mismatch" if e.claim == "nonce" else "bad_claims") from None
        except (JoseError, TypeError, KeyError):
            raise self._fail("bad_claims") from None
        return dict(token.claims)

    async def _userinfo(self, access_token: str, subject: str) -> dict[str, Any]:
        """Claims from userinfo when the ID token has no name; ``sub`` must match."""
        endpoint = (await self.metadata()).get("userinfo_endpoint")
        if not isinstance(endpoint, str):
            return {}
        info = await self._get_json(endpoint, {"Authorization": f"Bearer {access_token}"})
        if info.get("sub") != subject:
            raise self._fail("bad_claims")
        return info

    # ---------------------------------------------------------------- http
    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session, self._own_session = aiohttp.ClientSession(timeout=HTTP_TIMEOUT), True
        return self._session

    async def _get_json(self, url: str, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
        try:
            async with self._http().get(url, headers=headers) as resp:
                if resp.status != 200:
                    raise self._fail("provider_unavailable")
                doc = await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            raise self._fail("provider_unavailable") from None
        if not isinstance(doc, dict):
            raise self._fail("provider_unavailable")
        return doc

    @staticmethod
    def _fail(code: str) -> IdentificationError:
        log.warning("identification refused: %s", code)
        return IdentificationError(code)
