"""The MAX channel (maxapi as a plain HTTP client): long polling or webhook, replies, files,
outbox delivery.

    channel = MaxChannel(host)             # host: core.ports.Host
    await channel.serve(stop)              # polling, or webhook when MAX_WEBHOOK_URL is set
    deliverers = {"max": channel.deliverer}

Modules, one concern each: `client` (the maxapi Bot, errors sorted), `updates` (MAX updates ->
Inbound), `render` (Reply -> text parts and inline keyboard within MAX's limits), `sender`
(sending, editing in place, callback answers; MaxDeliverer), `files` (downloads with the limits,
uploads), `core.ordering` (per-user order, shared), `handler` (one update through the engine), `polling`
(GET /updates with the marker kept by the host), `webhook` (secret-checked endpoint),
`channel` (MaxChannel), `settings` (MAX_*). maxapi is imported only when the channel is built.
"""
from core.channels import ChannelSpec, Limit, register
from core.events import Capabilities

from channels.max.settings import MaxSettings

# NewMessageBody.text maxLength 4000 (maxapi itself refuses 4000, so parts stop at 3999);
# Button.text maxLength 128; CallbackButton.payload maxLength 1024 (tests/data/specs/max).
CAPABILITIES = Capabilities(max_text=3999, buttons=True, edit=True, max_button_label=128,
                            max_payload_bytes=1024, files=True)


def _build(host, settings):
    from channels.max.channel import MaxChannel

    return MaxChannel(host, settings)


SPEC = register(ChannelSpec(
    name="max", title="MAX", to_phrase="в MAX", messenger=True, foreign=False,
    capabilities=CAPABILITIES, limit=Limit(per_second=29.5), user_id_pattern=r"[1-9][0-9]{0,19}",
    order=30, settings=MaxSettings, configured=lambda s: bool(s and s.max_bot_token), build=_build,
))


def __getattr__(name):  # the adapter's classes, imported on first use
    if name == "MaxChannel":
        from channels.max.channel import MaxChannel
        return MaxChannel
    if name == "MaxDeliverer":
        from channels.max.sender import MaxDeliverer
        return MaxDeliverer
    if name == "WebhookConfigError":
        from channels.max.webhook import WebhookConfigError
        return WebhookConfigError
    raise AttributeError(name)
