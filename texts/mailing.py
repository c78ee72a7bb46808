"""Texts of mailings and the mailing consent (R-4.1, R-4.2)."""

# The consent text and its version: a new wording gets a new version, and each consent row
# keeps the version the person was shown (152-FZ art. 9).
MAILING_CONSENT_VERSION = "m-2026-12"
MAILING_CONSENT_TEXT = (
    "Рассылка новостей службы на e-mail — по вашему желанию. Для неё нужно ваше согласие: "
    "мы будем хранить ваш адрес e-mail и отправлять на него новости {agency}. "
    "Согласие можно отозвать в любой момент здесь, ссылкой «Отписаться» в любом письме "
    "или письменным заявлением. После отзыва писем не будет, адрес удалим в течение 30 дней."
)
MAILING_CONSENT_ASK = "{consent}\n\nОтправлять рассылку на {email}?"
MAILING_CONSENT_YES = "Даю согласие"
MAILING_OTHER_EMAIL = "Другой адрес"
MAILING_ASK_EMAIL = "{consent}\n\nНапишите адрес e-mail для рассылки. Мы пришлём на него код."
MAILING_BAD_EMAIL = "Это не похоже на адрес e-mail. Напишите адрес вида name@example.ru."
MAILING_CODE_SENT = "Мы отправили код на {email}. Напишите его сюда. Код действует 24 часа."
MAILING_BAD_CODE = "Код не подходит. Проверьте письмо и напишите код ещё раз."
MAILING_CODE_EXPIRED = "Код устарел или попыток было слишком много. Начните заново в настройках."

MAILING_NOTICES = {
    "mailing.confirm_email": {
        "subject": "Код подтверждения адреса",
        "text": "Код для подписки на рассылку {agency}: {code}\n\n"
                "Если вы не подписывались, просто не отвечайте на это письмо.",
    },
}

# The letter's footer (plain text and HTML) and the unsubscribe pages.
MAILING_FOOTER = (
    "Вы получили это письмо, потому что согласились на рассылку новостей {agency}.\n"
    "Отписаться: {url}"
)
MAILING_FOOTER_HTML = (
    "<hr><p style=\"color:#555;font-size:90%\">Вы получили это письмо, потому что согласились "
    "на рассылку новостей {agency}. <a href=\"{url}\">Отписаться</a></p>"
)
UNSUB_TITLE = "Отписка от рассылки"
UNSUB_ASK = "Отписаться от рассылки новостей {agency}? Писем больше не будет."
UNSUB_BUTTON = "Отписаться"
UNSUB_DONE = "Вы отписаны. Согласие на рассылку отозвано, писем больше не будет."
UNSUB_ALREADY = "Вы уже отписаны. Писем больше не будет."
UNSUB_BAD_LINK = "Ссылка недействительна. Отписаться можно в настройках бота."
UNSUB_BAD_REQUEST = "Запрос не распознан."
MAILING_CODE_ASK = "Напишите код из письма."
