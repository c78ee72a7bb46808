"""Questions in free text (R-5.1, R-5.5, R-5.6, R-5.11) and the two questions after an answer
from the knowledge base (R-5.12)."""
from __future__ import annotations

from sqlalchemy import select

from storage.consult_models import UnansweredQuestion
from tests.conftest import Chat
from tests.consult_helpers import consultations


async def test_question_typed_at_the_main_menu_gets_its_answer_and_next_step_R_5_1(chat, app):
    await chat.command("start")
    text = await chat.say("течёт крыша, что делать")
    assert text.startswith("Протекает крыша") and "управляющ" in text
    assert "Подать обращение" in chat.labels and "Спасибо, ответ помог" in chat.labels
    assert "О чём ваше обращение" in await chat.press("Подать обращение")  # the next step within powers
    [c] = await consultations(app)
    assert (c.kind, c.entry_id, c.topic, c.channel, c.status) == ("faq", "roof_leak", "common_property", "telegram",
                                                                 "ended")


async def test_thanks_after_an_answer_asks_the_two_questions_R_5_12(chat, app):
    await chat.command("start")
    await chat.press("Задать вопрос")
    await chat.say("когда ответят на мое обращение? прошло уже 20 дней")
    assert await chat.press("Спасибо, ответ помог") == "Получен ли ответ на Ваш вопрос?"
    assert chat.labels == ["Да", "Нет"]
    assert await chat.press("Да") == "Оцените качество работы консультанта"
    assert chat.labels == ["Всё устроило", "Устроило частично", "Не устроило"]
    text = await chat.press("Всё устроило")
    assert "Спасибо за ответы" in text and "Что вы хотите сделать?" in text
    [c] = await consultations(app)
    assert (c.kind, c.answered, c.rating) == ("faq", True, 3) and c.rated_at is not None


async def test_leaving_an_answer_for_the_menu_asks_the_two_questions_too_R_5_12(chat, app):
    await chat.command("start")
    await chat.say("не убирают в подъезде")
    assert await chat.press("Главное меню") == "Получен ли ответ на Ваш вопрос?"
    await chat.press("Нет")
    await chat.press("Не устроило")
    [c] = await consultations(app)
    assert (c.answered, c.rating) == (False, 1)


async def test_vague_question_gets_a_clarifying_question_R_5_5(chat, app):
    await chat.command("start")
    await chat.press("Задать вопрос")
    text = await chat.say("помогите")
    assert text.startswith("Уточните, пожалуйста, о чём вопрос")
    assert await consultations(app) == []
    assert "Протекает крыша" in await chat.say("крыша протекает после дождя")


async def test_unsure_search_offers_candidates_as_buttons_R_5_5(chat, app):
    await chat.command("start")
    text = await chat.say("отопление")
    assert text.startswith("Выберите, что ближе к вашему вопросу")
    entries = [lbl for lbl in chat.labels if lbl not in ("Нет подходящего", "Главное меню")]
    assert 2 <= len(entries) <= 3
    answer = await chat.press(entries[0])
    assert answer.startswith(entries[0])
    [c] = await consultations(app)
    assert c.kind == "faq" and c.entry_id is not None


async def test_outside_powers_names_the_body_to_go_to_R_5_11(chat, app):
    await chat.command("start")
    text = await chat.say("шумят соседи по ночам")
    assert "Этот вопрос не решает служба" in text and "Куда обратиться:" in text and "участков" in text
    assert "Подать обращение" not in chat.labels


async def test_unanswered_question_is_kept_without_personal_data_R_5_6(chat, app):
    await chat.command("start")
    text = await chat.say("Меня зовут Иван Петров, расписание автобусов до дачи? мой телефон 89171234567")
    assert text.startswith("Готового ответа на этот вопрос нет")
    assert {"Связаться со специалистом", "Заказать обратный звонок", "Подать обращение"} <= set(chat.labels)
    async with app.sessionmaker() as s:
        [row] = (await s.execute(select(UnansweredQuestion))).scalars()
    assert "автобусов" in row.text and "Петров" not in row.text and "89171234567" not in row.text
    assert row.channel == "telegram"


async def test_none_of_the_candidates_is_kept_as_unanswered_R_5_6(chat, app):
    await chat.command("start")
    await chat.say("отопление")
    assert "Готового ответа" in await chat.press("Нет подходящего")
    async with app.sessionmaker() as s:
        [row] = (await s.execute(select(UnansweredQuestion))).scalars()
    assert row.text == "отопление"


async def test_main_menu_keeps_its_buttons_and_adds_the_consultation_line(app):
    citizen = Chat(app, "1001", "vk")
    await citizen.command("start")
    assert citizen.labels[:6] == ["Подать обращение", "Мои обращения", "Записаться на приём", "Мои записи",
                                  "Справка и контакты", "Настройки"]
    assert citizen.labels[6:] == ["Задать вопрос", "Связаться со специалистом"]
    assert "Телефон консультационной линии" in await citizen.say("5")  # a typed number is still a button
