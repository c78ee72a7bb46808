"""Refusals for hostile or odd input: files whose content is not what they claim, e-mail
addresses with several recipients, too many appeals, link codes (R-3.1, R-3.2)."""

FILE_TYPE_MISMATCH = ("Файл «{name}» не приложен: внутри не то, что обещает его название. "
                      "Пришлите, пожалуйста, фото или документ PDF, DOC, DOCX, ODT, RTF, TXT.")
EMAIL_SEVERAL = "Укажите, пожалуйста, один адрес электронной почты, без запятых и имён. Пример: ivanova@mail.ru"
APPEALS_PER_HOUR = ("Обращений за последний час отправлено: {count}, больше за час не принимается. Это "
                    "обращение можно будет отправить {when}. Черновик сохранён.")
APPEALS_PER_DAY = ("Обращений за последние сутки отправлено: {count}, больше за сутки не принимается. Это "
                   "обращение можно будет отправить {when}. Черновик сохранён.")
NEW_APPEALS_GROUPED = "Новых обращений: {count}. Номера: {numbers}."
NEW_APPEALS_MORE = " и ещё {n}"
STAFF_OPEN_NEW_QUEUE = "Открыть новые обращения"
PAGE_NEXT = "Дальше"
PAGE_PREV = "Предыдущие"
PAGE_OF = "Страница {page} из {pages}."

# Linking: the person whose records would move confirms first.
LINK_CONFIRM = (
    "Связать этот чат ({here}) с мессенджером, где показан код ({there})?\n"
    "Станут общими ваши обращения: {appeals}, записи на приём: {visits}, и настройки. "
    "Их увидит тот, кто получил код. Связывайте, только если код показал бот вам самим, в вашем "
    "другом мессенджере. Если код прислал кто-то другой, нажмите «Отмена»."
)
LINK_YES = "Связать"
LINK_NO = "Отмена"
LINK_CANCELLED = "Хорошо, ничего не связано."
LINK_GONE = "Этот код больше не действует: он истёк, уже использован или заменён новым. Получите новый код."
LINK_TOO_MANY = ("Слишком много неподходящих кодов подряд. Попробовать снова можно {when}. "
                 "Новый код можно получить в другом мессенджере: «Настройки» → «Связать мессенджеры».")
WHEN_TODAY = "сегодня в {time} {zone}"
WHEN_TOMORROW = "завтра в {time} {zone}"
WHEN_DAY = "{date} в {time} {zone}"
STAFF_COLLEAGUE_GONE = "Этого сотрудника уже нет в списке. Выберите, пожалуйста, другого."
