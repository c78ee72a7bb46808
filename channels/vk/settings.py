"""The VK channel's settings (prefix VK_)."""
from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class VKSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      env_ignore_empty=True, populate_by_name=True)

    vk_group_token: SecretStr | None = Field(None, alias="VK_GROUP_TOKEN")
    vk_group_id: int | None = Field(None, alias="VK_GROUP_ID")
    vk_api_url: str = Field("https://api.vk.com/method/", alias="VK_API_URL")
    vk_callback_path: str = Field("/vk/callback", alias="VK_CALLBACK_PATH")
    vk_callback_host: str = Field("0.0.0.0", alias="VK_CALLBACK_HOST")
    vk_callback_port: int = Field(8081, alias="VK_CALLBACK_PORT")
    vk_callback_secret: SecretStr | None = Field(None, alias="VK_CALLBACK_SECRET")
    vk_confirmation_code: str | None = Field(None, alias="VK_CONFIRMATION_CODE")
