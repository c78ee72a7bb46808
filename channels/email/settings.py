"""The e-mail channel's settings (prefix SMTP_)."""
from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "SMTP_"


class EmailSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      env_ignore_empty=True, populate_by_name=True)

    smtp_host: str | None = Field(None, alias="SMTP_HOST")
    smtp_port: int = Field(587, alias="SMTP_PORT")
    smtp_user: str | None = Field(None, alias="SMTP_USER")
    smtp_password: SecretStr | None = Field(None, alias="SMTP_PASSWORD")
    smtp_security: str = Field("starttls", alias="SMTP_SECURITY", pattern="^(starttls|tls|none)$")
    smtp_from: str = Field("assistant@localhost", alias="SMTP_FROM")
    smtp_timeout: float = Field(30, alias="SMTP_TIMEOUT")
    # Optional DKIM signing (dkimpy): a PEM private key, its selector, the signing domain.
    smtp_dkim_key_file: str | None = Field(None, alias="SMTP_DKIM_KEY_FILE")
    smtp_dkim_selector: str = Field("mail", alias="SMTP_DKIM_SELECTOR")
    smtp_dkim_domain: str | None = Field(None, alias="SMTP_DKIM_DOMAIN")
