"""The Telegram channel (aiogram 3): long polling or webhook, replies, files, outbox delivery.

    channel = TelegramChannel(host)        # host: core.ports.Host
    await channel.serve(stop)              # polling, or webhook when TELEGRAM_WEBHOOK_URL is set
    deliverers = {"telegram": channel.deliverer}

Modules: updates (Telegram -> Inbound), render (Reply -> text parts + inline keyboard),
sender (sending with retries; the outbox deliverer), files (downloads), core.ordering (per-chat
queues), handlers (router, errors), webhook (secret-checked aiohttp app), logs (token
redaction), channel (wiring and run modes), settings (TELEGRAM_*).
aiogram is imported only when the channel is built.
"""
from core.channels import ChannelSpec, Limit, register
from core.events import Capabilities

from channels.telegram.settings import TelegramSettings

CAPABILITIES = Capabilities(max_text=4096, buttons=True, edit=True, max_button_label=64,
                            max_payload_bytes=64, files=True)


def _build(host, settings):
    from channels.telegram.channel import TelegramChannel

    return TelegramChannel(host, settings)


SPEC = register(ChannelSpec(
    name="telegram", title="Telegram", to_phrase="в Telegram", messenger=True, foreign=True,
    capabilities=CAPABILITIES, limit=Limit(per_second=29.5, per_address_interval=1.05),
    user_id_pattern=r"[1-9][0-9]{0,19}", order=10, settings=TelegramSettings,
    configured=lambda s: bool(s and s.telegram_bot_token), build=_build,
))


def __getattr__(name):  # the adapter's classes, imported on first use (aiogram is heavy)
    if name in ("TelegramChannel", "COMMANDS"):
        from channels.telegram import channel
        return getattr(channel, name)
    if name == "TelegramDeliverer":
        from channels.telegram.sender import TelegramDeliverer
        return TelegramDeliverer
    if name == "WebhookConfigError":
        from channels.telegram.webhook import WebhookConfigError
        return WebhookConfigError
    raise AttributeError(name)
