"""The MAX channel's settings (prefix MAX_)."""
from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class MaxSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      env_ignore_empty=True, populate_by_name=True)

    max_bot_token: SecretStr | None = Field(None, alias="MAX_BOT_TOKEN")
    max_api_url: str = Field("https://platform-api2.max.ru", alias="MAX_API_URL")
    max_webhook_url: str | None = Field(None, alias="MAX_WEBHOOK_URL")
    max_webhook_path: str = Field("/max/webhook", alias="MAX_WEBHOOK_PATH")
    max_webhook_host: str = Field("0.0.0.0", alias="MAX_WEBHOOK_HOST")
    max_webhook_port: int = Field(8082, alias="MAX_WEBHOOK_PORT")
    max_webhook_secret: SecretStr | None = Field(None, alias="MAX_WEBHOOK_SECRET")
