"""Issue 10, items 4-6: hostile input never crashes the engine, on SQLite and PostgreSQL
(the `chat` fixture runs on both): ids beyond int32/int64, NUL and control characters in
texts, arguments and file names, an abuse fragment longer than its column, a file whose
content is not what it claims, an e-mail with several recipients (152-FZ art. 19, 59-FZ)."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import select, text

from storage.db import make_engine
from storage.models import Appeal, StoredFile
from tests.journey import submit_appeal


@pytest.mark.parametrize("payload", ["clar:99999999999999999999", "clar:2147483648", "rate:2147483648:1",
                                     "vrate:99999999999999999999:3", "sc:99999999999999999999", "clar:²",
                                     # found by bench/fuzz_engine: «²» passes str.isdigit, not int()
                                     "cq:²:a:1", "cq:1:a:²", "cq:99999999999999999999:a:1", "cq:2147483648:r:3",
                                     "wd:²", "wd:99999999999999999999", "lc:take:²", "lc:open:99999999999999999999"])
async def test_ids_out_of_range_in_a_notice_button_are_a_stale_button(chat, payload):
    await chat.command("start")
    text_ = await chat.press_payload(payload)
    assert "Что вы хотите сделать?" in text_


async def test_nul_in_the_appeal_text_and_name_still_registers(chat, app):
    final = await submit_appeal(chat, text="Протекает крыша\x00 над квартирой 12, дом 5 по улице Ленина,\x07 "
                                           "вторую неделю.", name="Иванова\x00 Мария Петровна")
    assert "зарегистрировано" in final
    async with app.sessionmaker() as s:
        appeal = (await s.execute(select(Appeal))).scalar_one()
    assert "\x00" not in appeal.text and "\x07" not in appeal.text and "\x00" not in appeal.full_name


@pytest.mark.parametrize("command", ["status", "link", "start"])
async def test_nul_in_a_command_argument_is_answered(chat, command):
    reply = await chat.command(command, "ЖН-2026\x00-000001\x1b[31m")
    assert reply


@pytest.mark.parametrize("argument", ["²", "2026-³", "ЖН-2026-٣"])
async def test_status_with_digits_that_are_no_number_is_answered(chat, argument):
    """Issue 10, items 4 and 10 (found by bench/fuzz_engine): `/status ²` raised ValueError
    (str.isdigit is true for «²», int() refuses it) for a citizen with appeals or without."""
    assert "не найдено" in await chat.command("status", argument)
    await submit_appeal(chat)
    assert "не найдено" in await chat.command("status", argument)


async def test_abuse_fragment_longer_than_its_column_still_registers(chat, app):
    """The screened appeal is registered (and screened out), its fragment cut to VARCHAR(200)."""
    final = await submit_appeal(chat, text="Управляющая компания " + "х" + "у" * 300 + "й" + " не чинит крышу.")
    assert "ЖН-" in final
    async with app.sessionmaker() as s:
        appeal = (await s.execute(select(Appeal))).scalar_one()
    assert appeal.abuse_fragment is None or len(appeal.abuse_fragment) <= 200


async def to_text_step(chat):
    await chat.command("start")
    await chat.press("Подать обращение")
    await chat.press("Содержание дома")
    await chat.press("Устранить нарушение")


async def test_an_exe_declared_as_pdf_is_refused_politely(chat, app):
    await to_text_step(chat)
    reply = await chat.send_file("update.pdf", "application/pdf", b"MZ\x90\x00\x03" + b"\x00" * 200)
    assert "не приложен" in reply
    reply = await chat.send_file("update.exe", "application/pdf", b"MZ\x90\x00\x03" + b"\x00" * 200)
    assert "не приложен" in reply
    async with app.sessionmaker() as s:
        assert (await s.execute(select(StoredFile))).scalars().all() == []


async def test_a_file_name_with_nul_and_path_is_cleaned(chat, app):
    await to_text_step(chat)
    reply = await chat.send_file("../../etc/\x00акт\x07.pdf", "application/pdf", b"%PDF-1.4 act")
    assert "приложен" in reply and "\x00" not in reply
    async with app.sessionmaker() as s:
        [stored] = (await s.execute(select(StoredFile))).scalars().all()
    assert "\x00" not in stored.file_name and "/" not in stored.file_name and ".." not in stored.file_name


@pytest.mark.parametrize("address", ["victim@example.ru,attacker@example.ru", "victim@example.ru;x@y.ru",
                                     "Boss <victim@example.ru>"])
async def test_an_email_with_several_recipients_is_refused(chat, address):
    await to_text_step(chat)
    await chat.say("Протекает крыша над квартирой 12, дом 5 по улице Ленина, вторую неделю.")
    await chat.press("Далее")
    await chat.say("Иванова Мария Петровна")
    await chat.press("Электронная почта")
    reply = await chat.say(address)
    assert "один адрес" in reply or "только адрес" in reply  # refused, with what to write instead


async def test_sql_parameters_never_reach_the_logs(db_url, caplog):
    """152-FZ art. 19: an engine error shows no citizen data (hide_parameters)."""
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            with pytest.raises(Exception) as error:
                await conn.execute(text("SELECT * FROM no_such_table WHERE name = :name"),
                                   {"name": "Иванова Мария Петровна"})
    finally:
        await engine.dispose()
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").error("engine error: %s", error.value)
    assert "Иванова" not in str(error.value) and "Иванова" not in caplog.text
