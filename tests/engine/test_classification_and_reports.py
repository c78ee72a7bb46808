"""Staff correct topic and need, recorded in the history; the need is suggested from the text (R-3.3);
a supervisor reads the summary and gets the workbook in the bot; an operator does not."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from storage.models import Appeal, AppealEvent
from tests.conftest import Chat
from tests.journey import ROOF_TEXT, submit_appeal
from tests.outbox_helpers import add_staff


@pytest.fixture
async def staff_chat(app):
    await add_staff(app, name="Петрова А. А.", telegram_id="9001")
    return Chat(app, "9001", "telegram")


async def open_card(staff_chat):
    await staff_chat.command("start")
    await staff_chat.press("Новые")
    return await staff_chat.press("ЖН-2026-000001")


async def test_need_is_suggested_from_the_text_like_the_topic_R_3_3(chat):
    await chat.command("start")
    await chat.press("Подать обращение")
    text = await chat.say(ROOF_TEXT)
    assert "Похоже, подходит тема «Содержание дома»" in text
    text = await chat.press("Содержание дома")
    assert "Похоже, подходит «Пожаловаться на УК или ТСЖ»" in text  # "не реагирует"
    assert chat.labels[0] == "Пожаловаться на УК или ТСЖ"  # offered first; the citizen decides
    await chat.press("Устранить нарушение")
    assert "Шаг 3" in chat.text or "Далее" in chat.labels


async def test_no_suggestion_when_the_text_names_no_need(chat):
    await chat.command("start")
    await chat.press("Подать обращение")
    text = await chat.press("Содержание дома")
    assert "Похоже" not in text and chat.labels[0] == "Устранить нарушение"


async def test_staff_correct_topic_and_need_recorded_status_kept_R_3_3(chat, app, staff_chat):
    """R-3.3: the classification is corrected by staff; the history says who, when, from what to
    what; the status does not change and the citizen gets no notice."""
    await submit_appeal(chat)
    await open_card(staff_chat)
    text = await staff_chat.press("Исправить тему и потребность")
    assert "Сейчас тема: Содержание дома" in text and "сейчас: Содержание дома" in staff_chat.labels
    await staff_chat.press("Отопление и горячая вода")
    text = staff_chat.text
    assert "Сейчас потребность: Устранить нарушение" in text
    assert staff_chat.labels[0] == "Пожаловаться на УК или ТСЖ"  # suggested from the text
    text = await staff_chat.press("Пересчитать плату")
    assert "Тема: Отопление и горячая вода" in text and "Потребность: Пересчитать плату" in text
    text = await staff_chat.press("Подтвердить")
    assert "Готово: тема и потребность исправлены" in text
    assert "Тема: Отопление и горячая вода" in text and "Что нужно: Пересчитать плату" in text
    assert "topic common_property → heating; need fix_violation → recalculation" in text
    async with app.sessionmaker() as s:
        appeal = (await s.execute(select(Appeal))).scalar_one()
        ev = (await s.execute(select(AppealEvent).where(AppealEvent.action == "reclassify"))).scalar_one()
    assert (appeal.topic, appeal.need, appeal.status) == ("heating", "recalculation", "registered")
    assert (ev.actor, ev.status_from, ev.status_to) == ("staff", "registered", None)


async def test_reclassify_to_the_same_is_refused(chat, app, staff_chat):
    await submit_appeal(chat)
    await open_card(staff_chat)
    await staff_chat.press("Исправить тему и потребность")
    await staff_chat.press("сейчас: Содержание дома")
    await staff_chat.press("сейчас: Устранить нарушение")
    text = await staff_chat.press("Подтвердить")
    assert "Выберите другую тему или потребность" in text
    async with app.sessionmaker() as s:
        assert (await s.execute(select(AppealEvent).where(AppealEvent.action == "reclassify"))).first() is None


async def test_supervisor_gets_the_summary_and_the_workbook(chat, app):
    """This week (Mon 02.03 to Tue 03.03, the test clock) and last month (February) on one screen;
    the XLSX file on request, a sheet per report."""
    from openpyxl import load_workbook

    await add_staff(app, name="Орлова В. В.", role="supervisor", telegram_id="9100")
    await submit_appeal(chat)
    boss = Chat(app, "9100", "telegram")
    await boss.command("start")
    text = await boss.press("Отчёты")
    week, month = text.split("Прошлый месяц")
    assert "Эта неделя: 02.03.2026 — 03.03.2026" in week and "Обращений поступило: 1" in week
    assert "01.02.2026 — 28.02.2026" in month and "Обращений поступило: 0" in month
    assert "Иванова" not in text  # no personal data
    await boss.press("Выгрузка XLSX")
    files = boss.last.files
    assert [f.name for f in files] == ["отчёт-2026-02.xlsx"]
    book = load_workbook(io.BytesIO(files[0].data))
    assert book.sheetnames == ["Удовлетворённость", "Сроки ответа", "Нагрузка", "Каналы"]


async def test_an_operator_has_no_reports(chat, app, staff_chat):
    await staff_chat.command("start")
    assert "Отчёты" not in staff_chat.labels
    text = await staff_chat.press_payload("st:reports")
    assert "Обращений поступило" not in text
