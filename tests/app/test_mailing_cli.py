"""`python -m admin_cli mailing send --subject TEXT --body-file PATH --yes` (the public interface)
against a real in-process SMTP server: exactly the consenting citizens get the letter (R-4.1, R-4.2)."""
from __future__ import annotations

from admin_cli import mailing as cli
from admin_cli.__main__ import build_parser
from tests.conftest import make_settings
from tests.mailing_helpers import SECRET, citizen_with, smtp  # noqa: F401


def settings_for(app, tmp_path, port, **extra):
    return make_settings(app.settings.database_url, tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=str(port),
                         SMTP_SECURITY="none", SMTP_FROM="news@zhilnadzor.example", SECRET_KEY=SECRET,
                         PUBLIC_BASE_URL="https://bot.zhilnadzor.example", MAILING_RATE="500", **extra)


async def test_send_from_the_cli_reaches_exactly_the_consenting_citizens_R_4_1(app, smtp, tmp_path, capsys):
    inbox, port = smtp
    await citizen_with(app, "yes@example.ru")
    await citizen_with(app, "no@example.ru", withdrawn=True)
    body = tmp_path / "news.md"
    body.write_text("Приём граждан в декабре — **по записи**.", encoding="utf-8")
    args = build_parser().parse_args(["mailing", "send", "--subject", "Новости", "--body-file", str(body), "--yes"])
    assert await cli.run(args, settings_for(app, tmp_path, port), app.sessionmaker) == 0
    assert [m["To"] for m in inbox.messages] == ["yes@example.ru"]
    assert inbox.messages[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    out = capsys.readouterr().out
    assert "mailing #1" in out and "sent: 1" in out
    capsys.readouterr()
    args = build_parser().parse_args(["mailing", "show", "1"])
    assert await cli.run(args, settings_for(app, tmp_path, port), app.sessionmaker) == 0
    assert "sent" in capsys.readouterr().out
    args = build_parser().parse_args(["mailing", "send", "1"])  # resume: nothing left, nothing resent
    assert await cli.run(args, settings_for(app, tmp_path, port), app.sessionmaker) == 0
    assert len(inbox.messages) == 1


async def test_staged_mailing_is_sent_later_by_id_and_listed(app, smtp, tmp_path, capsys):
    inbox, port = smtp
    await citizen_with(app, "a@example.ru")
    body = tmp_path / "news.txt"
    body.write_text("Текст рассылки.", encoding="utf-8")
    s = settings_for(app, tmp_path, port)
    assert await cli.run(build_parser().parse_args(["mailing", "create", "--subject", "S", "--body-file", str(body)]),
                         s, app.sessionmaker) == 0
    assert not inbox.messages
    await citizen_with(app, "b@example.ru")  # consented after staging, before sending: recipients are decided then
    assert await cli.run(build_parser().parse_args(["mailing", "send", "1"]), s, app.sessionmaker) == 0
    assert sorted(m["To"] for m in inbox.messages) == ["a@example.ru", "b@example.ru"]
    assert await cli.run(build_parser().parse_args(["mailing", "list"]), s, app.sessionmaker) == 0
    assert "done" in capsys.readouterr().out


async def test_refuses_to_send_without_an_unsubscribe_link(app, tmp_path):
    import pytest

    body = tmp_path / "news.txt"
    body.write_text("Текст.", encoding="utf-8")
    args = build_parser().parse_args(["mailing", "send", "--subject", "S", "--body-file", str(body), "--yes"])
    with pytest.raises(SystemExit, match="PUBLIC_BASE_URL and SECRET_KEY"):
        await cli.run(args, make_settings(app.settings.database_url, tmp_path, SMTP_HOST="127.0.0.1"), app.sessionmaker)


async def test_admin_withdraws_a_consent_on_a_written_request(app, tmp_path, capsys):
    from services import citizens

    cid = await citizen_with(app, "a@example.ru")
    args = build_parser().parse_args(["mailing", "withdraw", "--citizen", str(cid)])
    assert await cli.run(args, make_settings(app.settings.database_url, tmp_path), app.sessionmaker) == 0
    async with app.sessionmaker() as s:
        assert await citizens.active_consent(s, cid, citizens.MAILING) is None
        [_, withdrawal] = await citizens.consent_history(s, cid)
    assert withdrawal.source == "admin"
