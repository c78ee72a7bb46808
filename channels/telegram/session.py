"""aiogram's HTTP session, made cheaper for a bot that sends Russian screens with keyboards.

- A JSON body for every call that carries no file: aiogram sends a form, which aiohttp
  percent-encodes byte by byte in Python (urllib's quote), and a screen with its keyboard is
  about a kilobyte of two-byte characters; that encoding was the largest single cost of
  sending a reply (issue 18's profiles). The Bot API takes the same parameters as JSON;
  uploads stay multipart.
- The keyboard Telegram echoes back in a sent message is not parsed: the channel only reads
  the message id, and twelve buttons are two thirds of the cost of reading the answer.
"""
from __future__ import annotations

import json
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import TelegramMethod
from aiohttp import FormData, JsonPayload


def _loads_without_keyboard(content: str) -> Any:
    data = json.loads(content)
    result = data.get("result") if isinstance(data, dict) else None
    if isinstance(result, dict):
        result.pop("reply_markup", None)  # the message we sent: its keyboard is ours
    return data


class JsonSession(AiohttpSession):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.json_loads = _loads_without_keyboard

    def build_form_data(self, bot: Bot, method: TelegramMethod) -> FormData | JsonPayload:
        files: dict = {}
        body = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is None or prepared == "":  # what the form leaves out too
                continue
            body[key] = prepared
        if files:  # an upload: aiogram's multipart form, files and all
            return super().build_form_data(bot, method)
        return JsonPayload(body, dumps=self.json_dumps)
