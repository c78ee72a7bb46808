"""Settings from environment variables and `.env` (names are the public interface).

The program's own settings are here; each channel declares its settings block beside its
adapter (`channels/<name>/settings.py`, its own prefix), and `Settings.channel(name)` reads it
from the same sources. An empty value in `.env` means "not set"."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from core import channels

DEFAULT_PROFILE = Path(__file__).parent / "profiles" / "astrakhan.toml"
SETTINGS_CONFIG = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                     env_ignore_empty=True, populate_by_name=True)


def settings_error(e) -> str:
    """A pydantic ValidationError of settings as one line that names the variables."""
    parts = []
    for err in e.errors():
        name = ".".join(str(p) for p in err["loc"])
        secret = any(w in name.upper() for w in ("TOKEN", "SECRET", "PASSWORD"))
        shown = "" if secret or not name else f" (got {err.get('input')!r})"
        parts.append(f"{name}: {err['msg']}{shown}" if name else err["msg"])
    return "bad setting — " + "; ".join(parts)


class Settings(BaseSettings):
    # extra="allow": keyword arguments meant for a channel's block are kept for it.
    model_config = SettingsConfigDict(**{**SETTINGS_CONFIG, "extra": "allow"})

    database_url: str = Field("sqlite+aiosqlite:///./data/assistant.db", alias="DATABASE_URL")
    agency_profile: Path = Field(DEFAULT_PROFILE, alias="AGENCY_PROFILE")
    files_dir: Path = Field(Path("./data/files"), alias="FILES_DIR")
    max_file_mb: float = Field(20, alias="MAX_FILE_MB")
    allowed_file_types: str = Field(
        "image/jpeg,image/png,image/webp,image/heic,application/pdf,text/plain,"
        "application/msword,application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
        "application/vnd.oasis.opendocument.text,application/rtf",
        alias="ALLOWED_FILE_TYPES",
    )
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    log_format: Literal["text", "json"] = Field("text", alias="LOG_FORMAT")  # json: one object a line
    event_loop: Literal["auto", "uvloop", "asyncio"] = Field("auto", alias="EVENT_LOOP")  # bot/loop.py
    staff_chat_telegram: str | None = Field(None, alias="STAFF_CHAT_TELEGRAM")
    # Identification through an OpenID Connect provider (59-FZ art. 4, 7 as amended by 547-FZ);
    # off without OIDC_ISSUER and OIDC_CLIENT_ID. The provider returns to PUBLIC_BASE_URL/id/callback.
    oidc_issuer: str | None = Field(None, alias="OIDC_ISSUER")
    oidc_client_id: str | None = Field(None, alias="OIDC_CLIENT_ID")
    oidc_client_secret: SecretStr | None = Field(None, alias="OIDC_CLIENT_SECRET")
    oidc_scopes: str = Field("openid profile", alias="OIDC_SCOPES")
    # The assistant's web server (unsubscribe pages; later webhooks, health, metrics).
    http_host: str = Field("127.0.0.1", alias="HTTP_HOST")
    http_port: int | None = Field(None, alias="HTTP_PORT")
    public_base_url: str = Field("", alias="PUBLIC_BASE_URL")  # https://… as citizens reach it
    http_max_body_kb: int = Field(64, alias="HTTP_MAX_BODY_KB")
    http_read_timeout: float = Field(10, alias="HTTP_READ_TIMEOUT")
    secret_key: SecretStr | None = Field(None, alias="SECRET_KEY")  # signs unsubscribe links
    mailing_rate: float = Field(2.0, alias="MAILING_RATE", gt=0)  # letters a second (the SMTP server's limit)
    mailing_mailto: str | None = Field(None, alias="MAILING_UNSUBSCRIBE_MAILTO")
    # Running as several processes (README, "Running at scale"): `web` takes updates (webhooks)
    # and answers, `sender` delivers the outbox and runs the periodic jobs, `all` does both.
    role: Literal["all", "web", "sender"] = Field("all", alias="ROLE")
    redis_url: str | None = Field(None, alias="REDIS_URL")  # shared send budgets between processes
    chat_lock_pool: int = Field(8, alias="CHAT_LOCK_POOL", ge=1, le=1000)  # PostgreSQL connections for chat locks
    db_pool_size: int = Field(10, alias="DB_POOL_SIZE", ge=1, le=1000)  # PostgreSQL connections for the work

    _env_file: Any = PrivateAttr(".env")
    _blocks: dict = PrivateAttr(default_factory=dict)

    def __init__(self, **values: Any) -> None:
        env_file = values.get("_env_file", ".env")
        super().__init__(**values)
        self._env_file = env_file

    def channel(self, name: str) -> Any:
        """The channel's own settings block (None for a channel without settings)."""
        if name not in self._blocks:
            spec = channels.get(name)
            if spec is None or spec.settings is None:
                return None
            overrides = {k: v for k, v in (self.model_extra or {}).items() if k.isupper()}
            self._blocks[name] = spec.settings(_env_file=self._env_file, **overrides)
        return self._blocks[name]

    def configured(self) -> list[str]:
        """The registered channels that these settings turn on."""
        return [s.name for s in channels.registered() if s.build and s.configured(self.channel(s.name))]

    @property
    def allowed_mime(self) -> frozenset[str]:
        return frozenset(t.strip() for t in self.allowed_file_types.split(",") if t.strip())

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def messengers_configured(self) -> bool:
        return any(channels.is_messenger(name) for name in self.configured())
