"""Settings from environment variables and `.env` (names are the public interface)."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PROFILE = Path(__file__).parent / "profiles" / "astrakhan.toml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

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

    telegram_bot_token: SecretStr | None = Field(None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_url: str = Field("https://api.telegram.org", alias="TELEGRAM_API_URL")
    telegram_webhook_url: str | None = Field(None, alias="TELEGRAM_WEBHOOK_URL")
    telegram_webhook_path: str = Field("/telegram/webhook", alias="TELEGRAM_WEBHOOK_PATH")
    telegram_webhook_host: str = Field("0.0.0.0", alias="TELEGRAM_WEBHOOK_HOST")
    telegram_webhook_port: int = Field(8080, alias="TELEGRAM_WEBHOOK_PORT")
    telegram_webhook_secret: SecretStr | None = Field(None, alias="TELEGRAM_WEBHOOK_SECRET")

    vk_group_token: SecretStr | None = Field(None, alias="VK_GROUP_TOKEN")
    vk_group_id: int | None = Field(None, alias="VK_GROUP_ID")
    vk_api_url: str = Field("https://api.vk.com/method/", alias="VK_API_URL")
    vk_callback_path: str = Field("/vk/callback", alias="VK_CALLBACK_PATH")
    vk_callback_host: str = Field("0.0.0.0", alias="VK_CALLBACK_HOST")
    vk_callback_port: int = Field(8081, alias="VK_CALLBACK_PORT")
    vk_callback_secret: SecretStr | None = Field(None, alias="VK_CALLBACK_SECRET")
    vk_confirmation_code: str | None = Field(None, alias="VK_CONFIRMATION_CODE")

    smtp_host: str | None = Field(None, alias="SMTP_HOST")
    smtp_port: int = Field(587, alias="SMTP_PORT")
    smtp_user: str | None = Field(None, alias="SMTP_USER")
    smtp_password: SecretStr | None = Field(None, alias="SMTP_PASSWORD")
    smtp_security: str = Field("starttls", alias="SMTP_SECURITY", pattern="^(starttls|tls|none)$")
    smtp_from: str = Field("assistant@localhost", alias="SMTP_FROM")
    smtp_timeout: float = Field(30, alias="SMTP_TIMEOUT")

    staff_chat_telegram: str | None = Field(None, alias="STAFF_CHAT_TELEGRAM")

    @property
    def allowed_mime(self) -> frozenset[str]:
        return frozenset(t.strip() for t in self.allowed_file_types.split(",") if t.strip())

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def messengers_configured(self) -> bool:
        return bool(self.telegram_bot_token or self.vk_group_token)
