"""The Telegram channel (aiogram 3): long polling or webhook, replies, files, outbox delivery.

    channel = TelegramChannel(app)
    await channel.setup_commands()
    await channel.run()                    # polling, or webhook when TELEGRAM_WEBHOOK_URL is set
    deliverers = {"telegram": channel.deliverer}
    await channel.stop()

Modules: updates (Telegram -> Inbound), render (Reply -> text parts + inline keyboard),
sender (sending with retries; the outbox deliverer), files (downloads), ordering (per-chat
queues), handlers (router, errors), webhook (secret-checked aiohttp app), logs (token
redaction), channel (wiring and run modes).
"""
from channels.telegram.channel import COMMANDS, TelegramChannel
from channels.telegram.render import CAPABILITIES
from channels.telegram.sender import TelegramDeliverer
from channels.telegram.webhook import WebhookConfigError

__all__ = ["CAPABILITIES", "COMMANDS", "TelegramChannel", "TelegramDeliverer", "WebhookConfigError"]
