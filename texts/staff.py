"""The Russian text catalogue: staff."""
# Staff mode
STAFF_MENU = (
    "Режим сотрудника: {name} ({role}).\nОчередь обращений:\n"
    "новые — {new}, мои — {mine}, просроченные — {overdue}, срок в ближайшие 3 дня — {soon}.\n"
    "Письма на отправку почтой — {letters}, недоставленные уведомления — {failed}."
)
ROLE_TITLES = {"operator": "специалист", "supervisor": "руководитель"}
STAFF_Q_NEW = "Новые ({n})"
STAFF_Q_MINE = "Мои ({n})"
STAFF_Q_OVERDUE = "Просроченные ({n})"
STAFF_Q_SOON = "Срок скоро ({n})"
STAFF_Q_FLAGGED = "Отмечены проверкой ({n})"
STAFF_LETTERS = "Письма на отправку ({n})"
STAFF_FAILED = "Недоставленные ({n})"
STAFF_CITIZEN_VIEW = "Вид гражданина"
STAFF_MODE = "Режим сотрудника"
STAFF_QUEUE_EMPTY = "В этой очереди пусто."
STAFF_QUEUE = "{title}. Выберите обращение:"
STAFF_QUEUE_TITLES = {"new": "Новые", "mine": "Мои", "overdue": "Просроченные", "soon": "Срок скоро",
                      "flagged": "Отсеяны проверкой"}
STAFF_ITEM = "{number} · до {deadline}"
STAFF_CARD = (
    "{number} — {status}\nТема: {topic}\nЧто нужно: {need}\nСрок ответа: до {deadline}{extended}\n"
    "Переадресовать можно до {redirect_by} (7 дней).\nИсполнитель: {assignee}\n\n"
    "Заявитель: {name}\nОтвет: {answer}\nКонтакты: {contacts}\nКаналы: {channels}\n"
    "{abuse}{failures}\nТекст:\n{text}\n\nФайлы: {files}\n\nИстория:\n{history}"
)
STAFF_CARD_ABUSE = "Проверка текста: {why} («{fragment}»).\n"
STAFF_CARD_FAILURES = "Не доставлено: {items}\n"
STAFF_NOBODY = "не назначен"
STAFF_NONE = "нет"
STAFF_EXTENDED = " (продлён)"
STAFF_TAKE = "Взять в работу"
STAFF_ANSWER = "Ответить"
STAFF_ASK = "Уточнить у заявителя"
STAFF_REDIRECT = "Переадресовать"
STAFF_REFUSE = "Отказать"
STAFF_NOT_CONSIDER = "Не рассматривать"
STAFF_OVERRIDE = "Отменить решение проверки"
STAFF_EXTEND = "Продлить срок"
STAFF_TRANSFER = "Передать коллеге"
STAFF_REOPEN = "Вернуть в работу"
STAFF_FILES = "Показать файлы"
STAFF_ASK_ANSWER = "Напишите ответ заявителю по существу. Можно выбрать заготовку."
STAFF_ASK_QUESTION = "Напишите вопрос заявителю. Он придёт по выбранным им каналам."
STAFF_ASK_AGENCY = "Куда переадресовать обращение?"
STAFF_ASK_REDIRECT_REASON = "Коротко объясните заявителю, почему вопрос решает {agency}."
STAFF_ASK_REFUSAL = "Выберите основание отказа. Заявитель получит его простыми словами."
STAFF_ASK_REFUSAL_EXTRA = "Основание: {title}.\nДобавьте пояснение текстом или нажмите «Без пояснения»."
STAFF_NO_EXTRA = "Без пояснения"
STAFF_ASK_ABUSE = "Почему обращение не рассматривается по существу?"
STAFF_ASK_DAYS = "На сколько дней продлить срок? Продлить можно один раз, не больше чем на 30 дней."
STAFF_ASK_EXTEND_REASON = "Напишите причину продления: её получит заявитель."
STAFF_ASK_COLLEAGUE = "Кому передать обращение?"
STAFF_ASK_TRANSFER_NOTE = "Добавьте записку коллеге или нажмите «Без записки»."
STAFF_NO_NOTE = "Без записки"
STAFF_NO_COLLEAGUES = "Других сотрудников нет."
STAFF_CONFIRM = "Проверьте и подтвердите.\n\nОбращение {number}: {action}?\n{details}"
STAFF_CONFIRM_TITLES = {
    "take": "взять в работу", "answer": "отправить ответ", "ask": "задать уточняющий вопрос",
    "redirect": "переадресовать", "refuse": "отказать", "not_consider": "не рассматривать по существу",
    "override": "отменить решение проверки", "extend": "продлить срок", "transfer": "передать коллеге",
    "reopen": "вернуть в работу",
}
STAFF_CONFIRM_ADD = "Если написать сообщение сейчас, оно добавится к тексту."
STAFF_CONFIRM_OK = "Подтвердить"
STAFF_DONE = "Готово: {action}."
STAFF_ACTION_TITLES = {
    "take": "взято в работу", "answer": "ответ отправлен", "ask": "вопрос отправлен",
    "redirect": "переадресовано", "refuse": "отказ отправлен", "not_consider": "не рассматривается",
    "override": "решение проверки отменено", "extend": "срок продлён", "transfer": "передано коллеге",
    "reopen": "возвращено в работу", "reclassify": "тема и потребность исправлены",
}
STAFF_ONLY = "Этот раздел доступен только сотрудникам службы."
STAFF_LETTERS_LIST = "Письма, которые нужно отправить почтой:\n\n{items}"
STAFF_LETTER_ITEM = "{number}: {address}\n{text}"
STAFF_LETTER_SENT = "Отметить отправленными"
STAFF_FAILED_LIST = "Недоставленные уведомления:\n\n{items}"
STAFF_FAILED_ITEM = "{number} · {channel}: {error}"
STAFF_TEXT_TOO_LONG = "Слишком длинный текст: не больше {limit} знаков."
STAFF_HISTORY_ACTOR = {"citizen": "заявитель", "staff": "сотрудник", "system": "система"}


# Staff: today's and tomorrow's visits
STAFF_VISITS = "Приём сегодня и завтра"
STAFF_VISITS_TEXT = "Приём.\n\nСегодня:\n{today}\n\nЗавтра:\n{tomorrow}"
STAFF_VISITS_NONE = "записей нет"
STAFF_VISIT_LINE = "{time} · {desk} · {name}, {phone} · {topic} · {status}"
STAFF_VISIT_NO_NAME = "ФИО не указано"
STAFF_VISIT_NO_PHONE = "телефон не указан"
STAFF_VISIT_STATUS = {"booked": "записан на приём", "attended": "явка", "no_show": "неявка"}
STAFF_VISIT_ATTENDED = "{time} явка"
STAFF_VISIT_NO_SHOW = "{time} неявка"
STAFF_VISIT_MARKED = "Отмечено: {time} — {status}."
STAFF_VISIT_CANT_MARK = "Отметить нельзя: приём ещё не начался или запись отменена."

# Why the state machine refused a move (services/lifecycle.IllegalMove codes).
MOVE_REFUSED = {
    "status": "Так нельзя: обращение {number} сейчас в статусе «{status_title}».",
    "supervisor": "Это может сделать только руководитель.",
    "override": "Отменять можно только решение автоматической проверки текста.",
    "extended": "Срок этого обращения уже продлевали: продлить можно только один раз.",
    "extend_days": "Укажите срок продления от 1 до 30 дней и причину.",
    "colleague": "Выберите сотрудника, которому передать обращение.",
    "transfers": "Передать нельзя: обращение уже передавали {n} раза, больше не разрешено (п. 5.8 Порядка).",
    "text": "Нужен текст: его получит гражданин.",
    "agency": "Укажите, в какое ведомство передаётся обращение.",
    "classification": "Выберите другую тему или потребность из списка.",
}


# The history on the staff card, in words (the newcomer issue, item 22).
STAFF_HISTORY_ACTIONS = {
    "registered": "зарегистрировано", "screened": "отмечено проверкой текста", "take": "взято в работу",
    "ask": "задан уточняющий вопрос", "clarified": "гражданин ответил", "answer": "дан ответ",
    "refuse": "отказ", "redirect": "переадресовано", "not_consider": "оставлено без ответа по существу",
    "override": "решение проверки отменено", "reopen": "возвращено в работу", "extend": "срок продлён",
    "transfer": "передано коллеге", "withdraw": "отозвано гражданином", "reclassify": "тема и потребность исправлены",
    "court": "возвращено: обжалуется решение суда", "repeat": "повторное обращение", "stop": "переписка прекращена",
    "confirm_screen": "решение: без ответа по существу",
}
