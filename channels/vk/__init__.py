"""The VK channel (vkbottle): Bots Long Poll or Callback API in, messages.send out.

Modules, one concern each: `updates` (VK events -> Inbound), `render` (Reply -> keyboard JSON and
text parts), `polling` (long poll with the ts in the database), `callback` (Callback API
endpoint), `sender` (messages.send, retries, VKDeliverer), `files` (attachments both ways),
`dispatch` (per-peer order), `handler` (one event through the engine), `channel` (VKChannel).
"""
from channels.vk.channel import VKChannel
from channels.vk.sender import VKDeliverer

__all__ = ["VKChannel", "VKDeliverer"]
