"""Personal data under 152-FZ: «Мои данные» and the export (art. 14, 20), the purge of lapsed
data (art. 21 part 4-5), and appeals anonymised after the archive period keeping statistics."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from services import citizens, mailing, personal_data
from storage.consult_models import Consultation
from storage.models import Appeal, AppealEvent, Citizen, Consent, DialogState, Identity, Rating, StoredFile
from storage.personal_data_models import DataRequest
from tests.journey import ROOF_TEXT, submit_appeal

JPEG = b"\xff\xd8\xff\xe0" + b"jpegdata" * 20


async def rows(app, stmt):
    async with app.sessionmaker() as s:
        return list((await s.execute(stmt)).scalars())


async def purge(app):
    async with app.sessionmaker() as session, session.begin():
        done = await personal_data.purge(session, app.profile, app.engine.deps.clock())
    done.delete_files(app.engine.deps.files)
    return done.counts


async def test_my_data_shows_what_is_held_and_exports_json_and_summary_152_fz_art_14(chat, app):
    await submit_appeal(chat)
    await chat.command("start")
    await chat.press("Настройки")
    await chat.press("Подписаться на рассылку")
    await chat.press("Даю согласие")
    text = await chat.press("Мои данные")
    assert "ФИО: Иванова Мария Петровна" in text and "E-mail: ivanova@example.ru" in text
    assert "Каналы связи: telegram" in text and "рассылка на e-mail: дано 2026-03-03" in text
    assert "Обращений: 1." in text and "10 рабочих дней" in text
    text = await chat.press("Прислать мои данные файлом")
    assert "Запрос № 1 записан" in text
    json_file, summary_file = chat.last.files
    assert (json_file.name, json_file.mime) == ("my-data-1.json", "application/json")
    data = json.loads(json_file.data)
    assert data["operator"] == "Служба жилищного надзора Астраханской области"
    assert data["citizen"]["full_name"] == "Иванова Мария Петровна"
    assert [i["channel"] for i in data["identities"]] == ["telegram"]
    [appeal] = data["appeals"]
    assert appeal["number"] == "ЖН-2026-000001" and appeal["text"] == ROOF_TEXT
    assert [(c["kind"], c["text_version"]) for c in data["consents"]] == [("mailing", "m-2026-12")]
    assert {t["text"] for t in data["texts_shown"]} == {"privacy_notice", "mailing_consent"}
    assert "Иванова Мария Петровна" in summary_file.data.decode()
    [request] = await rows(app, select(DataRequest))
    received = request.received_at.astimezone(app.engine.deps.calendar.tz).date()
    assert request.due == app.engine.deps.calendar.add_working_days(received, 10) and request.done_at is not None


async def test_admin_export_for_a_written_request(app, chat, tmp_path, capsys):
    from admin_cli import personal_data as cli
    from admin_cli.__main__ import build_parser

    await submit_appeal(chat)
    args = build_parser().parse_args(["personal-data", "export", "--citizen", "1", "--out", str(tmp_path / "out")])
    assert await cli.run(args, app.settings, app.sessionmaker) == 0
    data = json.loads((tmp_path / "out" / "citizen-1-request-1.json").read_text())
    assert data["appeals"][0]["full_name"] == "Иванова Мария Петровна"
    [request] = await rows(app, select(DataRequest))
    assert request.source == "written"
    args = build_parser().parse_args(["personal-data", "requests"])
    assert await cli.run(args, app.settings, app.sessionmaker) == 0
    assert "written" in capsys.readouterr().out


async def test_unfinished_drafts_and_their_files_are_deleted_152_fz_art_21(chat, app, clock):
    """A submitted appeal's file stays; a draft never sent loses its file row and its bytes."""
    with time_machine.travel(clock.now, tick=False):  # row timestamps follow the wall clock
        await chat.command("start")
        await chat.press("Подать обращение")
        await chat.press("Содержание дома")
        await chat.press("Устранить нарушение")
        await chat.send_file("крыша.jpg", "image/jpeg", JPEG)
    [draft_file] = await rows(app, select(StoredFile))
    assert app.engine.deps.files.get(draft_file.sha256) == JPEG
    clock.now += timedelta(days=3)
    assert (await purge(app))["draft_files"] == 0  # not yet: drafts live 7 days
    clock.now += timedelta(days=5)
    counts = await purge(app)
    assert counts["draft_files"] == 1 and counts["drafts"] == 1
    assert await rows(app, select(StoredFile)) == []
    with pytest.raises(FileNotFoundError):
        app.engine.deps.files.get(draft_file.sha256)
    [state] = await rows(app, select(DialogState))
    assert state.step is None and state.data == {}


async def test_files_of_submitted_appeals_are_kept(chat, app, clock):
    await chat.command("start")
    await chat.press("Подать обращение")
    await chat.press("Содержание дома")
    await chat.press("Устранить нарушение")
    await chat.send_file("крыша.jpg", "image/jpeg", JPEG, caption=ROOF_TEXT)
    await chat.press("Далее")
    await chat.say("Иванова Мария Петровна")
    await chat.press("Электронная почта")
    await chat.say("ivanova@example.ru")
    await chat.press("Не нужно")
    await chat.press("Понятно, дальше")
    await chat.press("Отправить")
    clock.now += timedelta(days=30)
    assert (await purge(app))["draft_files"] == 0
    [kept] = await rows(app, select(StoredFile))
    assert kept.appeal_id is not None and app.engine.deps.files.get(kept.sha256) == JPEG


async def test_appeals_are_anonymised_after_the_archive_period_keeping_statistics(chat, app, clock):
    """59-FZ records are kept for the profile's archive period (5 years), then the person is
    removed; counts by topic and ratings stay."""
    from tests.conftest import Chat

    await submit_appeal(chat)
    other = Chat(app, "2002")
    await submit_appeal(other, name="Петров Пётр Петрович", email="petrov@example.ru")
    async with app.sessionmaker() as s, s.begin():
        s.add(Rating(citizen_id=1, appeal_id=1, channel="telegram", score=3, created_at=clock.now))
    clock.now += timedelta(days=365 * 4)
    assert (await purge(app))["appeals_anonymised"] == 0
    clock.now += timedelta(days=365 + 10)
    counts = await purge(app)
    assert counts["appeals_anonymised"] == 2 and counts["people_anonymised"] == 2
    appeals = await rows(app, select(Appeal))
    assert {(a.topic, a.status) for a in appeals} == {("common_property", "registered")} and len(appeals) == 2
    assert all(a.full_name == a.text == a.answer_address == "[обезличено]" for a in appeals)
    async with app.sessionmaker() as s:
        by_topic = dict((await s.execute(select(Appeal.topic, func.count()).group_by(Appeal.topic))).all())
        scores = list((await s.execute(select(Rating.score))).scalars())
    assert by_topic == {"common_property": 2} and scores == [3]
    people = await rows(app, select(Citizen))
    assert all(p.full_name is None and p.email is None for p in people)
    notes = [e.note for e in await rows(app, select(AppealEvent)) if e.note]
    assert all(n == "[обезличено]" for n in notes)
    assert (await purge(app))["appeals_anonymised"] == 0  # done once


async def test_mailing_address_is_removed_after_withdrawal_proof_kept_152_fz_art_21(app):
    async with app.sessionmaker() as s, s.begin():
        c = Citizen(email="a@example.ru")
        s.add(c)
        await s.flush()
        now = app.engine.deps.clock()
        await mailing.subscribe(s, c.id, "news@example.ru", "telegram", now)
        await mailing.unsubscribe(s, c.id, "unsubscribe", now)
        other = Citizen(email="b@example.ru")
        s.add(other)
        await s.flush()
        await mailing.subscribe(s, other.id, "still@example.ru", "vk", now)
    assert (await purge(app))["mailing_addresses"] == 1
    consents = await rows(app, select(Consent).order_by(Consent.id))
    assert [(c.withdrawal, c.address, c.text_version) for c in consents] == [
        (False, None, "m-2026-12"), (True, None, "m-2026-12"), (False, "still@example.ru", "m-2026-12")]


async def test_consultations_past_retention_lose_the_person_and_identities_of_people_who_left(app, chat, clock):
    with time_machine.travel(clock.now, tick=False):
        await chat.command("start")
    async with app.sessionmaker() as s, s.begin():
        s.add(Consultation(citizen_id=1, channel="telegram", kind="faq", topic="heating", status="ended",
                           started_at=clock.now, rating=3))
    await app.set_reachable("telegram", "1001", False, "bot blocked")
    clock.now += timedelta(days=40)
    counts = await purge(app)
    assert counts["identities_left"] == 1 and counts["consultations"] == 0
    assert await rows(app, select(Identity)) == []
    clock.now += timedelta(days=366)
    assert (await purge(app))["consultations"] == 1
    [kept] = await rows(app, select(Consultation))
    assert kept.citizen_id is None and (kept.topic, kept.rating) == ("heating", 3)


async def test_purge_dry_run_shows_what_would_go_and_changes_nothing(chat, app, clock, capsys):
    from admin_cli import personal_data as cli
    from admin_cli.__main__ import build_parser

    with time_machine.travel(clock.now, tick=False):  # row timestamps follow the wall clock
        await chat.command("start")
        await chat.press("Подать обращение")
        await chat.press("Содержание дома")
        await chat.press("Устранить нарушение")
        await chat.send_file("крыша.jpg", "image/jpeg", JPEG)
    clock.now += timedelta(days=8)
    with time_machine.travel(clock.now, tick=False):
        args = build_parser().parse_args(["personal-data", "purge", "--dry-run"])
        assert await cli.run(args, app.settings, app.sessionmaker) == 0
    out = capsys.readouterr().out
    assert "would go" in out and "draft files" in out
    [still] = await rows(app, select(StoredFile))
    assert app.engine.deps.files.get(still.sha256) == JPEG


async def test_withdrawal_in_settings_is_one_step_and_stops_mailing_at_once_R_4_1(chat, app):
    await submit_appeal(chat)
    await chat.command("start")
    await chat.press("Настройки")
    await chat.press("Подписаться на рассылку")
    await chat.press("Даю согласие")
    text = await chat.press("Отписаться от рассылки")
    assert "отписаны" in text
    async with app.sessionmaker() as s:
        assert await citizens.active_consent(s, 1, citizens.MAILING) is None


async def test_cancelled_draft_deletes_its_files_at_once_152_fz_art_21(chat, app):
    """«Черновик удалён»: the files of the draft go with it, not only at the next purge (and
    only after the citizen confirmed deleting the draft)."""
    await chat.command("start")
    await chat.press("Подать обращение")
    await chat.press("Содержание дома")
    await chat.press("Устранить нарушение")
    await chat.send_file("крыша.jpg", "image/jpeg", JPEG)
    [draft_file] = await rows(app, select(StoredFile))
    text = await chat.press("Отменить")
    assert "Черновик сохранён" in text  # cancelling keeps the draft; deleting asks first
    assert len(await rows(app, select(StoredFile))) == 1
    await chat.press("Удалить черновик")
    text = await chat.press("Да, удалить")
    assert "Черновик удалён" in text
    assert await rows(app, select(StoredFile)) == []
    with pytest.raises(FileNotFoundError):
        app.engine.deps.files.get(draft_file.sha256)


async def test_staff_see_data_requests_with_their_deadline_152_fz_art_20(chat, app):
    from tests.conftest import Chat
    from tests.outbox_helpers import add_staff

    await submit_appeal(chat)
    async with app.sessionmaker() as s, s.begin():  # a written request not yet answered
        made = await personal_data.export(s, 1, app.profile, app.engine.deps.calendar, "written",
                                          app.engine.deps.clock())
    await add_staff(app)
    staff = Chat(app, "9001")
    await staff.command("start")
    text = await staff.press("Запросы о персональных данных (1)")
    assert f"срок {made.due:%d.%m.%Y} — ждёт ответа" in text and "10 рабочих дней" in text
