"""Which RetryLater reasons count as the platform's rate limit (issue 17 item 4: 429s per
channel), in the words the adapters use (channels/*/sender.py, channels/email/deliverer.py)."""
from __future__ import annotations

import pytest

from services.metrics import Metrics, is_rate_limit


@pytest.mark.parametrize("reason", [
    "telegram: flood limit, retry after 3 s",             # aiogram's TelegramRetryAfter
    "max: 429 too.many.requests Too many requests",       # MAX's HTTP 429
    "messages.send: VK error 6: Too many requests per second",
    "messages.send: VK error 9: Flood control",
])
def test_rate_limits_are_counted(reason):
    metrics = Metrics()
    metrics.retry_later("x", reason)
    assert is_rate_limit(reason)
    assert metrics.registry.get_sample_value("assistant_rate_limited_total", {"channel": "x"}) == 1


@pytest.mark.parametrize("reason", [
    "SMTP is not configured", "telegram: TelegramServerError: Internal Server Error", "max: 502  Bad Gateway",
    "messages.send: VK error 10: Internal server error", "upload: timeout",
])
def test_other_temporary_failures_are_not(reason):
    assert not is_rate_limit(reason)
