"""The VK channel (vkbottle): Bots Long Poll or Callback API in, messages.send out.

Modules, one concern each: `updates` (VK events -> Inbound), `render` (Reply -> keyboard JSON and
text parts), `polling` (long poll with the ts kept by the host), `callback` (Callback API
endpoint), `sender` (messages.send, retries, VKDeliverer), `files` (attachments both ways),
`dispatch` (per-peer order), `handler` (one event through the engine), `channel` (VKChannel),
`settings` (VK_*). vkbottle is imported only when the channel is built.
"""
from core.channels import ChannelSpec, Limit, register
from core.events import Capabilities

from channels.vk.settings import VKSettings


def _build(host, settings):
    from channels.vk.channel import VKChannel

    return VKChannel(host, settings)


SPEC = register(ChannelSpec(
    name="vk", title="ВКонтакте", to_phrase="во ВКонтакте", messenger=True, foreign=False,
    capabilities=Capabilities(max_text=4000, buttons=True, edit=False, max_button_label=40,
                              max_payload_bytes=255, files=True),
    limit=Limit(per_second=19.5), user_id_pattern=r"[1-9][0-9]{0,11}", order=20, settings=VKSettings,
    configured=lambda s: bool(s and s.vk_group_token), build=_build,
))


def __getattr__(name):  # the adapter's classes, imported on first use
    if name == "VKChannel":
        from channels.vk.channel import VKChannel
        return VKChannel
    if name == "VKDeliverer":
        from channels.vk.sender import VKDeliverer
        return VKDeliverer
    raise AttributeError(name)
