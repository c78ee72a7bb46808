"""The hot path (issue 18): a known citizen's ordinary step is served from the process's copy of
their state and written in one short transaction. It must never be wrong: a write by another
worker, a staff record added from the CLI or a channel marked unreachable makes the copy stale,
and the step is then handled from the database. Durability per event stays (a restart resumes)."""
from __future__ import annotations

from sqlalchemy import select, update

from admin_cli.__main__ import build_parser
from admin_cli.__main__ import run as admin_run
from bot.app import build_app
from core.events import Inbound
from services import personal_data, verification
from services.identification import Identified
from storage.models import Appeal, Citizen, Identity
from storage.personal_data_models import TextShown
from tests.conftest import Chat, make_settings
from tests.journey import submit_appeal
import texts as T


async def test_a_known_citizens_menu_steps_take_the_hot_path_and_survive_a_restart(db_url, tmp_path, clock):
    settings = make_settings(db_url, tmp_path)
    app = await build_app(settings, clock=clock)
    try:
        chat = Chat(app)
        await chat.command("start")  # first contact: the ordinary way, then cached
        ordinary = app.engine.heavy_count
        help_screen = await chat.press("Справка и контакты")
        await chat.press("Как подать обращение?")
        assert app.engine.heavy_count == ordinary and app.engine.light_count == 2
    finally:
        await app.close()
    restarted = await build_app(settings, clock=clock)  # nothing cached: the state is on disk
    try:
        chat.app = restarted
        assert await chat.press("Назад") == help_screen
    finally:
        await restarted.close()


async def test_a_step_another_worker_made_is_not_overwritten_by_a_stale_copy(db_url, tmp_path, clock):
    """Two workers (two Apps on one database): A caches the help screen, B takes the citizen back to
    the main menu; a press of the help screen's button reaching A is out of date, as it is."""
    a = await build_app(make_settings(db_url, tmp_path), clock=clock)
    b = await build_app(make_settings(db_url, tmp_path), clock=clock, upgrade=False)
    try:
        on_a, on_b = Chat(a), Chat(b)
        await on_a.command("start")
        await on_a.press("Справка и контакты")
        await on_b.command("start")
        text = await on_a.press("Как подать обращение?")
        assert "Эта кнопка устарела" in text and "Что вы хотите сделать?" in text
        assert "Подать обращение" in on_a.labels  # the main menu, where B left them
    finally:
        await a.close()
        await b.close()


async def test_a_citizen_made_staff_from_the_cli_gets_staff_mode_at_once(app, chat):
    await chat.command("start")
    await chat.press("Справка и контакты")  # cached as a citizen
    args = build_parser().parse_args(["staff", "add", "--name", "Петрова А. А.", "--telegram-id", chat.user_id])
    assert await admin_run(args, app.settings) == 0  # its own engine, as the CLI process would
    assert "Режим сотрудника: Петрова А. А." in await chat.command("start")


async def test_a_citizen_marked_unreachable_is_reachable_again_when_they_write(app, chat):
    await chat.command("start")
    await chat.press("Справка и контакты")
    assert await app.set_reachable("telegram", chat.user_id, False, "bot blocked")
    await chat.press("Как подать обращение?")
    async with app.sessionmaker() as s:
        identity = (await s.execute(select(Identity).where(Identity.external_id == chat.user_id))).scalar_one()
    assert identity.reachable and identity.unreachable_reason is None


async def test_a_hot_step_redelivered_before_it_was_shown_gets_the_same_replies(app, chat):
    """The replies are kept on the inbox row in the step's one write (services/inbox.py): a crash
    between the commit and the send shows them after the restart, once."""
    await chat.command("start")
    pressed = Inbound("telegram", chat.user_id, button=chat.payload("Справка и контакты"))
    assert await app.keep("telegram", "701", chat.user_id, "{}")
    first = await app.engine.handle(pressed, update_key="701")
    assert app.engine.light_count == 1
    again = await app.engine.handle(pressed, update_key="701")
    assert again is not None and [r.text for r in again] == [r.text for r in first]
    await app.finish("telegram", "701")
    assert await app.engine.handle(pressed, update_key="701") is None  # finished: handled once


async def to_email_step(chat) -> None:
    await chat.command("start")
    await chat.press("Подать обращение")
    await chat.press("Содержание дома")
    await chat.press("Устранить нарушение")
    await chat.say("Во дворе дома 9 не вывозят мусор третью неделю.")
    await chat.press("Далее")
    await chat.say("Иванова Мария Петровна")
    await chat.press("Электронная почта")


async def test_identified_on_the_web_page_meanwhile_the_answer_address_follows_the_law_at_once(app, chat, clock):
    """59-FZ art. 7 p. 3 (547-FZ): an identified citizen's answer e-mail is in .ru/.рф/.su. Whether
    they are identified is cached with their state, so the e-mail step takes the hot path; the
    identity page's write (the web role, another process) makes that stale, even when the
    verified name is the one already on file."""
    await submit_appeal(chat)  # a message; their name and e-mail are kept on file
    await submit_appeal(chat, text="Во дворе дома 9 не вывозят мусор третью неделю.")  # «not identified» cached
    await to_email_step(chat)
    light = app.engine.light_count
    text = await chat.say("ivanova@gmail.com")  # a message may be answered at any valid address
    assert "дублировать" in text.lower() and app.engine.light_count == light + 1
    await chat.press("Назад")
    async with app.sessionmaker() as s, s.begin():
        await verification.bind(s, Identified(
            subject="esia-7", full_name="Иванова Мария Петровна", assurance_level="trusted", raw_claims={},
            citizen_ref=f"1:telegram:{chat.user_id}"), profile=app.profile, now=clock())
    text = await chat.say("ivanova@gmail.com")
    assert "российской зоне — .ru, .рф или .su" in text


async def test_the_privacy_notice_seen_is_remembered_per_person_not_per_step(app, clock):
    """152-FZ art. 18: the notice is shown once per person and version. That they saw it is
    cached with their state; a person who has not seen it is still shown it, and nobody's
    «seen» is taken for another's."""
    first, second = Chat(app, "5001", "telegram"), Chat(app, "5002", "telegram")
    await submit_appeal(first)
    assert "Понятно, дальше" not in (await to_extra(first))  # seen: straight to the summary
    assert "Понятно, дальше" in (await to_extra(second))
    async with app.sessionmaker() as s:
        shown = (await s.execute(select(TextShown.citizen_id))).scalars().all()
    assert len(shown) == 1


async def to_extra(chat) -> str:
    await to_email_step(chat)
    await chat.say("ivanova@example.ru")
    await chat.press("Да, дублировать сюда")
    return chat.labels


async def test_the_privacy_notice_acknowledged_on_the_hot_path_is_recorded_with_the_step(db_url, tmp_path, clock):
    """152-FZ art. 18: which version of the notice a person saw is recorded. «Понятно, дальше» is
    an ordinary step: its record goes in the step's one write, and the citizen's version moves
    on, as on the ordinary path, so a copy cached for their other channels learns it too. The
    record survives a restart: the notice is not shown again."""
    settings = make_settings(db_url, tmp_path)
    app = await build_app(settings, clock=clock)
    try:
        chat = Chat(app, "5003", "telegram")
        assert "Понятно, дальше" in await to_extra(chat)
        async with app.sessionmaker() as s:
            before = (await s.execute(select(Citizen.version))).scalar_one()
        ordinary = app.engine.heavy_count
        assert "Проверьте обращение" in await chat.press("Понятно, дальше")
        assert app.engine.heavy_count == ordinary  # the hot path
        async with app.sessionmaker() as s:
            shown = (await s.execute(select(TextShown.text, TextShown.version, TextShown.channel))).all()
            after = (await s.execute(select(Citizen.version))).scalar_one()
        assert shown == [(personal_data.PRIVACY_NOTICE, T.PRIVACY_NOTICE_VERSION, "telegram")]
        assert after == before + 1
        await chat.press("Отправить")
        assert "Понятно, дальше" not in await to_extra(chat)  # known from the cache
    finally:
        await app.close()
    restarted = await build_app(settings, clock=clock)
    try:
        chat.app = restarted
        await chat.command("menu")
        assert "Понятно, дальше" not in await to_extra(chat)  # known from the database
    finally:
        await restarted.close()


async def test_my_appeals_on_the_hot_path_show_the_status_of_now(app, chat):
    """«Мои обращения» is read fresh on every visit (a staff member answers without touching the
    citizen's row), with one plain read instead of the ordinary way."""
    await submit_appeal(chat)
    await chat.command("menu")
    light = app.engine.light_count
    await chat.press("Мои обращения")
    assert app.engine.light_count == light + 1
    [(number, status)] = [label.split(" · ") for label in chat.labels if " · " in label]
    assert status == T.STATUS_TITLES["registered"]
    async with app.sessionmaker() as s, s.begin():  # as the staff process would
        await s.execute(update(Appeal).where(Appeal.number == number).values(status="answered"))
    await chat.press("Главное меню")
    await chat.press("Мои обращения")
    assert f"{number} · {T.STATUS_TITLES['answered']}" in chat.labels
    assert app.engine.light_count == light + 3
