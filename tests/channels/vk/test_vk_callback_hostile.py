"""Issue 10, item 9: the VK Callback API endpoint against hostile requests: the secret before
any parsing, a size limit, one log line for an aborted request."""
from __future__ import annotations

import asyncio
import logging

import aiohttp

from tests.channels.vk.test_vk_channel import SECRET, callback, fake, vk_app, vk_extra  # noqa: F401


async def test_deeply_nested_body_without_the_secret_is_refused_before_parsing(callback, caplog):  # noqa: F811
    async with aiohttp.ClientSession() as s, s.post(callback.url, data=b"[" * 100_000) as resp:
        assert resp.status == 403
    assert "RecursionError" not in caplog.text and "Traceback" not in caplog.text


async def test_deeply_nested_body_with_the_secret_is_a_bad_request(callback, caplog):  # noqa: F811
    body = b'{"secret": "' + SECRET.encode() + b'", "x": ' + b"[" * 100_000
    async with aiohttp.ClientSession() as s, s.post(callback.url, data=body) as resp:
        assert resp.status == 400
    assert "Traceback" not in caplog.text


async def test_a_body_over_the_limit_is_refused(callback):  # noqa: F811
    async with aiohttp.ClientSession() as s, s.post(callback.url, data=b"x" * (2 << 20)) as resp:
        assert resp.status == 413


async def test_an_aborted_request_is_one_log_line(callback, caplog):  # noqa: F811
    """A client that promises a body and goes away: no traceback."""
    host, port = callback.url.split("//")[1].split("/")[0].split(":")
    with caplog.at_level(logging.WARNING):
        reader, writer = await asyncio.open_connection(host, int(port))
        path = "/" + callback.url.split("/", 3)[3]
        writer.write(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n{{\"secret\"".encode())
        await writer.drain()
        writer.close()
        await asyncio.sleep(0.3)
    assert "Traceback" not in caplog.text
    assert "Error handling request" not in caplog.text
