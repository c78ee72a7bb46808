"""The channel's HTTP session (channels/telegram/session.py): calls go as JSON, uploads as
multipart, against the strict fake Bot API; what the citizen sees is the same either way."""
from __future__ import annotations

from channels.telegram.channel import make_bot
from channels.telegram.render import PayloadCodec
from channels.telegram.sender import ReplySender
from core.events import Button, OutFile, Reply
from tests.channels.telegram.test_telegram_harness import fake  # noqa: F401  (fixture)

SCREEN = "Здравствуйте! Служба жилищного надзора Астраханской области. «Кавычки», ё, № 5 — и эмодзи 🏠.\n\nВыберите:"
ROWS = [[Button("Подать обращение", "menu:appeal")], [Button("Мои обращения", "menu:mine"),
                                                      Button("Настройки & прочее", "menu:settings")]]


async def test_screens_edits_and_files_arrive_intact(fake):  # noqa: F811
    chat = 4242
    fake.add_chat(chat)
    bot = make_bot(fake.token, fake.base_url)
    sender = ReplySender(bot, PayloadCodec())
    try:
        first = await sender.send(chat, Reply(SCREEN, ROWS))
        shown = fake.sent_messages(chat)[-1]
        assert shown.message_id == first and shown.text == SCREEN
        assert [[b["text"] for b in row] for row in shown.reply_markup["inline_keyboard"]] == [
            ["Подать обращение"], ["Мои обращения", "Настройки & прочее"]]
        assert shown.reply_markup["inline_keyboard"][1][1]["callback_data"] == "menu:settings"

        assert await sender.send(chat, Reply("Экран второй", [[Button("Назад", "nav:back")]]), edit_id=first) == first
        assert shown.edits == 1 and shown.text == "Экран второй"

        data = b"%PDF-1.4 \x00\xff binary"
        sent = await sender.send(chat, Reply("Квитанция", ROWS, files=(OutFile("квитанция.pdf", "application/pdf", data),)))
        document = fake.sent_messages(chat)[-1]
        assert document.message_id == sent and document.kind == "document"
        assert fake.files[document.message["document"]["file_id"]].data == data
        assert document.message["document"]["file_name"] == "квитанция.pdf"
        assert document.reply_markup["inline_keyboard"][0][0]["text"] == "Подать обращение"
    finally:
        await bot.session.close()
