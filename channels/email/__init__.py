"""The e-mail channel: SMTP (aiosmtplib). The 59-FZ answer address and duplicates of notices."""
from core.channels import ChannelSpec, Limit, register
from core.events import Capabilities

from channels.email.deliverer import EmailDeliverer, build_message
from channels.email.settings import EmailSettings


class EmailAdapter:
    """E-mail only sends: nothing to receive."""

    def __init__(self, settings: EmailSettings) -> None:
        self.deliverer = EmailDeliverer(settings)

    async def serve(self, stop) -> None:
        await stop.wait()


SPEC = register(ChannelSpec(
    name="email", title="Электронная почта", to_phrase="на электронную почту", short_phrase="на e-mail",
    messenger=False, foreign=False, capabilities=Capabilities(max_text=100_000, buttons=False, files=True),
    limit=Limit(per_second=5.0), user_id_pattern=r"[^@\s,;<>]{1,64}@[^@\s,;<>]{1,190}", order=90,
    settings=EmailSettings, configured=lambda s: bool(s and s.smtp_host),
    build=lambda host, settings: EmailAdapter(settings), staff=False,
))

__all__ = ["EmailDeliverer", "EmailSettings", "SPEC", "build_message"]
