"""The deployment files (issue 17 item 6): docker-compose.yml, deploy/nginx.conf and the
Dockerfile. Docker is not run here; the files are checked against the code they start: the
packages copied, the migration command, the roles, the webhook paths and ports, and the
HEALTHCHECK command run against a real web server."""
from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from admin_cli.__main__ import build_parser
from channels.max.settings import MaxSettings
from channels.telegram.settings import TelegramSettings
from channels.vk.settings import VKSettings
from web.server import make_app, serve

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    yaml = pytest.importorskip("yaml")  # PyYAML, a dev dependency
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def test_the_image_copies_every_package_and_runs_as_a_user():
    """Issue 17 item 6: every package pyproject installs is copied (web/ was missing), the
    process is not root, and a HEALTHCHECK asks /health."""
    text = dockerfile()
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = set(re.findall(r"^COPY (\w+) \./\1$", text, re.M))
    assert {p.rstrip("*") for p in include} <= copied
    assert re.search(r"^USER (?!root)\w+", text, re.M)
    assert "HEALTHCHECK" in text and "/health" in text


def healthcheck_command() -> list[str]:
    cmd = re.search(r"HEALTHCHECK [^\n]*\\\n\s*CMD (\[.*\])", dockerfile()).group(1)
    return json.loads(cmd)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_the_healthcheck_command_passes_on_a_live_server_and_fails_without_one():
    """Issue 17 item 6: the image's HEALTHCHECK (python's urllib, no curl in the slim image)
    exits 0 while /health answers and non-zero when nothing listens."""
    cmd = healthcheck_command()
    assert cmd[0] == "python"
    port = free_port()
    env = {**os.environ, "HTTP_PORT": str(port)}

    def run() -> int:
        return subprocess.run([sys.executable, *cmd[1:]], env=env, capture_output=True, timeout=20).returncode

    assert await asyncio.to_thread(run) != 0
    stop, up = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(make_app(unsubscriber=None), "127.0.0.1", port, stop, up))
    try:
        await asyncio.wait_for(up.wait(), 10)
        assert await asyncio.to_thread(run) == 0
    finally:
        stop.set()
        await task


def test_compose_runs_the_migration_once_before_the_workers_and_the_sender():
    """Issue 17 item 6: PostgreSQL, Redis, a one-shot `admin_cli db upgrade`, N web workers and
    one sender, the workers started only after the migration succeeded."""
    services = compose()["services"]
    assert {"postgres", "redis", "migrate", "web", "sender", "proxy"} <= services.keys()
    migrate = services["migrate"]
    assert migrate["command"][:3] == ["python", "-m", "admin_cli"]
    args = build_parser().parse_args(migrate["command"][3:])  # a command the CLI has
    assert (args.area, args.action) == ("db", "upgrade")
    assert migrate["restart"] == "no"
    for name in ("web", "sender"):
        service = services[name]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgresql+asyncpg://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert service["volumes"] == services["migrate"]["volumes"]  # the citizens' files, shared
    assert services["web"]["environment"]["ROLE"] == "web" and services["web"]["deploy"]["replicas"] >= 2
    assert services["sender"]["environment"]["ROLE"] == "sender"
    assert services["sender"].get("deploy", {}).get("replicas", 1) == 1  # one sender role
    assert services["proxy"]["depends_on"]["web"]["condition"] == "service_healthy"
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in services["proxy"]["volumes"]


def test_the_proxy_sends_each_webhook_to_the_port_its_channel_listens_on():
    """Issue 17 item 6: the nginx paths and upstream ports are the channels' own defaults, and
    the web server's port is the one compose sets."""
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    upstreams = dict(re.findall(r"upstream (\w+)\s*\{\s*server web:(\d+);", conf))
    routes = dict(re.findall(r"location = (\S+)\s*\{\s*proxy_pass http://(\w+);", conf))
    tg, vk, mx = TelegramSettings(_env_file=None), VKSettings(_env_file=None), MaxSettings(_env_file=None)
    assert int(upstreams[routes[tg.telegram_webhook_path]]) == tg.telegram_webhook_port
    assert int(upstreams[routes[vk.vk_callback_path]]) == vk.vk_callback_port
    assert int(upstreams[routes[mx.max_webhook_path]]) == mx.max_webhook_port
    assert int(upstreams["site"]) == int(compose()["services"]["web"]["environment"]["HTTP_PORT"])
    assert re.search(r"location / \{\s*proxy_pass http://site;", conf)
    assert re.search(r"location = /metrics\s*\{\s*return 404;", conf)  # not for the public
