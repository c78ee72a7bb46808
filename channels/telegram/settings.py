"""The Telegram channel's settings (prefix TELEGRAM_)."""
from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class TelegramSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      env_ignore_empty=True, populate_by_name=True)

    telegram_bot_token: SecretStr | None = Field(None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_url: str = Field("https://api.telegram.org", alias="TELEGRAM_API_URL")
    telegram_webhook_url: str | None = Field(None, alias="TELEGRAM_WEBHOOK_URL")
    telegram_webhook_path: str = Field("/telegram/webhook", alias="TELEGRAM_WEBHOOK_PATH")
    telegram_webhook_host: str = Field("0.0.0.0", alias="TELEGRAM_WEBHOOK_HOST")
    telegram_webhook_port: int = Field(8080, alias="TELEGRAM_WEBHOOK_PORT")
    telegram_webhook_secret: SecretStr | None = Field(None, alias="TELEGRAM_WEBHOOK_SECRET")
    # Telegram's simultaneous deliveries to the webhook. 1: one update at a time, so the order
    # they are stored in is Telegram's (each is answered 200 as soon as it is stored).
    telegram_webhook_max_connections: int = Field(1, alias="TELEGRAM_WEBHOOK_MAX_CONNECTIONS", ge=1, le=100)
