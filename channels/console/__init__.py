"""The console channel: the same engine in a terminal (`./run.sh shell`)."""
from core.channels import ChannelSpec, register
from core.events import Capabilities

from channels.console.chat import ConsoleDeliverer, Screen, parse, render, run_console

SPEC = register(ChannelSpec(
    name="console", title="консоль", to_phrase="в этот чат", messenger=True, foreign=False,
    capabilities=Capabilities(max_text=100_000, buttons=True, edit=False, max_button_label=200,
                              max_payload_bytes=255, files=True),
    order=40,
))

__all__ = ["ConsoleDeliverer", "SPEC", "Screen", "parse", "render", "run_console"]
