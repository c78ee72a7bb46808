"""The Russian text catalogue: notices."""
from texts.hostile import NEW_APPEALS_GROUPED
# Status notices. {number} is the registration number.
NOTICE_SUBJECT = "Обращение {number}: {status}"
NOTICE_REGISTERED = "Обращение {number} зарегистрировано. Ответ подготовим не позднее {deadline}."
NOTICE_IN_WORK = "Обращение {number} взято в работу. Ответ подготовим не позднее {deadline}."
NOTICE_CLARIFICATION = (
    "По обращению {number} специалисту нужно уточнение:\n\n{question}\n\n"
    "Нажмите «Ответить на вопрос» и напишите ответ. Можно приложить фото или документы."
)
NOTICE_CLARIFIED = "Спасибо, ваш ответ приложен к обращению {number}. Специалист продолжает работу."
NOTICE_REDIRECTED = (
    "Обращение {number} передано в {agency}: этот вопрос решает это ведомство. {reason}\n"
    "Дальше вам ответят оттуда."
)
NOTICE_ANSWERED = "Ответ на обращение {number}:\n\n{text}"
NOTICE_ANSWERED_SHORT = "По обращению {number} готов ответ. Полный текст отправлен {where}."
NOTICE_REFUSED = "По обращению {number} принято решение: отказ.\n\nПочему: {reason}"
NOTICE_NOT_CONSIDERED = (
    "Обращение {number} оставлено без ответа по существу: в нём есть {why}.\n\n"
    "Так решил сотрудник службы по статье 11 закона № 59-ФЗ. Закон даёт право обращаться, "
    "но не разрешает злоупотреблять этим правом: оскорблять, угрожать, писать нецензурно. "
    "Вы можете подать новое обращение без таких выражений, и мы его рассмотрим."
)
NOTICE_OVERRIDDEN = "Обращение {number} принято к рассмотрению. Ответ подготовим не позднее {deadline}."
NOTICE_EXTENDED = "Срок ответа на обращение {number} продлён до {deadline}. Причина: {reason}"
NOTICE_REOPENED = "Обращение {number} снова в работе. Ответ подготовим не позднее {deadline}."
SURVEY = "Пожалуйста, оцените, как мы поработали: {url}"
SURVEY_IN_BOT = "Пожалуйста, оцените, как мы поработали: кнопкой под этим сообщением или в разделе «Мои обращения» чат-бота."
RATE_PROMPT = "Оцените, как мы поработали:"
RATE_GOOD = "Всё устраивает"
RATE_PARTLY = "Частично устраивает"
RATE_BAD = "Не устраивает"
RATED = "Спасибо за оценку! Она поможет нам работать лучше."
RATE_UNKNOWN = "Эту оценку не получилось сохранить: обращение не найдено среди ваших."
ANSWER_CLARIFICATION = "Ответить на вопрос"
CLARIFY_ASK = "Напишите ответ на вопрос специалиста по обращению {number}. Можно приложить файлы."
CLARIFY_NOT_NEEDED = "По обращению {number} сейчас уточнений не нужно."
ILLEGAL_TRANSITION = "Так нельзя: обращение {number} сейчас в статусе «{status}»."
STAFF_NEW_APPEAL = (
    "Новое обращение {number}.\nТема: {topic}\nЧто нужно: {need}\nСрок ответа: до {deadline}.{flag}"
)
STAFF_NEW_FLAGGED = "\nАвтоматическая проверка отметила: {why}. Гражданину ничего не сообщено: решите в карточке."
STAFF_OPEN_CARD = "Открыть карточку"
STAFF_TRANSFERRED = "{colleague} передал(а) вам обращение {number}.{note}"
STAFF_CLARIFIED = "По обращению {number} гражданин ответил на уточняющий вопрос."

# Each notice kind's template (services/notices.py holds the kinds: lane, routing, buttons).
# "brief": the variant for messengers when the profile keeps answer texts out of them.
NOTICE_TRANSFERRED = ("Обращение {number} передано другому специалисту службы, который лучше знает эту тему. "
                      "Срок ответа прежний: до {deadline}.")

NOTICES = {
    "appeal.registered": {"text": NOTICE_REGISTERED, "subject": NOTICE_SUBJECT},
    "appeal.in_work": {"text": NOTICE_IN_WORK, "subject": NOTICE_SUBJECT},
    "appeal.clarification": {"text": NOTICE_CLARIFICATION, "subject": NOTICE_SUBJECT},
    "appeal.answered": {"text": NOTICE_ANSWERED, "subject": NOTICE_SUBJECT, "brief": NOTICE_ANSWERED_SHORT},
    "appeal.refused": {"text": NOTICE_REFUSED, "subject": NOTICE_SUBJECT},
    "appeal.redirected": {"text": NOTICE_REDIRECTED, "subject": NOTICE_SUBJECT},
    "appeal.not_considered": {"text": NOTICE_NOT_CONSIDERED, "subject": NOTICE_SUBJECT},
    "appeal.overridden": {"text": NOTICE_OVERRIDDEN, "subject": NOTICE_SUBJECT},
    "appeal.extended": {"text": NOTICE_EXTENDED, "subject": NOTICE_SUBJECT},
    "appeal.transferred": {"text": NOTICE_TRANSFERRED, "subject": NOTICE_SUBJECT},
    "appeal.reopened": {"text": NOTICE_REOPENED, "subject": NOTICE_SUBJECT},
    "staff.new_appeal": {"text": STAFF_NEW_APPEAL},
    "staff.new_appeals": {"text": NEW_APPEALS_GROUPED},
    "staff.transferred": {"text": STAFF_TRANSFERRED},
}

# A paper letter with the answer (R-2.2: the answer by post).
LETTER = "{addressee}\n{address}\n\n{date}\n\n{body}\n\n{survey}\n\n{agency}"
LETTER_SURVEY = "Оценить, как мы поработали, можно по ссылке: {url}"
LETTER_SURVEY_PHONE = "Оценить, как мы поработали, можно по телефону {phone}."
