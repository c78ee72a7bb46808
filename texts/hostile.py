"""Refusals for hostile or odd input: files whose content is not what they claim, e-mail
addresses with several recipients, too many appeals, link codes (R-3.1, R-3.2)."""

FILE_TYPE_MISMATCH = ("Файл «{name}» не приложен: внутри не то, что обещает его название. "
                      "Пришлите, пожалуйста, фото или документ PDF, DOC, DOCX, ODT, RTF, TXT.")
EMAIL_SEVERAL = "Укажите, пожалуйста, один адрес электронной почты, без запятых и имён. Пример: ivanova@mail.ru"
APPEALS_PER_HOUR = ("Вы уже отправили {count} обращений за последний час. Новое можно будет отправить "
                    "немного позже. Черновик сохранён.")
APPEALS_PER_DAY = ("Вы уже отправили {count} обращений за сутки. Новое можно будет отправить завтра. "
                   "Черновик сохранён.")
NEW_APPEALS_GROUPED = "Новых обращений: {count}. Номера: {numbers}."
PAGE_NEXT = "Дальше"
PAGE_PREV = "Назад к списку"
