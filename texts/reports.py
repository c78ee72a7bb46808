"""The Russian text catalogue: classification by staff, reports and the supervisor's summary."""
# The need suggested from the text
NEED_SUGGESTED = "Похоже, подходит «{need}». Выберите её или другую кнопкой ниже."

# Staff: correcting topic and need
STAFF_RECLASSIFY = "Исправить тему и потребность"
STAFF_ASK_TOPIC = "Сейчас тема: {current}. Выберите верную тему."
STAFF_ASK_NEED = "Сейчас потребность: {current}. Выберите, чего хочет заявитель."
STAFF_CURRENT = "сейчас: "
STAFF_NEW_TOPIC = "Тема: {title}"
STAFF_NEW_NEED = "Потребность: {title}"

# Reports
REPORT_TITLES = {
    "satisfaction": "Удовлетворённость",
    "deadlines": "Сроки ответа",
    "workload": "Нагрузка",
    "channels": "Каналы",
}
REPORT_PERIOD = "{first:%d.%m.%Y} — {last:%d.%m.%Y}"
REPORT_BY = {"channel": "Канал", "topic": "Тема", "need": "Потребность", "staff": "Сотрудник", "kind": "Вид",
             "day": "День"}
REPORT_KINDS = {"appeal": "Обращение", "consultation": "Консультация", "visit": "Приём", "callback": "Обратный звонок"}
REPORT_CHANNELS = {"post": "Почта (письма)", "email": "Электронная почта"}
REPORT_TOTAL = "Всего"
REPORT_NONE = "не указано"
REPORT_COLUMNS = {
    "rated": "Оценок", "satisfied": "Удовлетворены", "partly": "Частично", "not_satisfied": "Не удовлетворены",
    "satisfied_share": "Доля удовл., %", "partly_share": "Доля частично, %", "not_satisfied_share": "Доля не удовл., %",
    "asked": "Опрошено", "response_rate": "Ответили на опрос, %", "answered_yes": "Ответ получен: да",
    "answered_no": "Ответ получен: нет",
    "closed": "Закрыто", "on_time": "В срок", "late": "С опозданием", "overdue_now": "Просрочено сейчас",
    "extended": "Продлено", "redirected": "Переадресовано", "redirected_in_time": "Переадр. в 7 дней",
    "redirected_late": "Переадр. позже 7 дней", "median_days": "Медиана, раб. дней", "p90_days": "90-й процентиль, раб. дней",
    "appeals": "Обращения", "consultations": "Консультации", "callbacks": "Обратные звонки", "visits": "Приёмы",
    "no_shows": "Неявки", "transfers": "Передачи",
    "notices": "Уведомлений", "sent": "Доставлено", "dead": "Не доставлено", "pending": "В очереди",
    "letters": "Письма почтой", "fallbacks": "Ушли другим каналом", "unreachable": "Недоступных адресатов",
}

# The supervisor's summary in the bot
STAFF_REPORTS = "Отчёты"
STAFF_REPORTS_ONLY = "Отчёты доступны только руководителю."
STAFF_REPORT_XLSX = "Выгрузка XLSX за прошлый месяц"
STAFF_REPORT_SUMMARY = (
    "{title}: {period}.\n"
    "Обращений поступило: {appeals}, закрыто: {closed}, в срок: {on_time}, с опозданием: {late}, "
    "просрочено сейчас: {overdue_now}.\n"
    "Время ответа: медиана {median} раб. дн., 90% — до {p90} раб. дн.\n"
    "Консультаций: {consultations}, обратных звонков: {callbacks}, приёмов: {visits}, неявок: {no_shows}.\n"
    "Оценки: удовлетворены {satisfied}, частично {partly}, не удовлетворены {not_satisfied} "
    "(ответили на опрос {response_rate}%).\n"
    "Не доставлено уведомлений: {dead}."
)
STAFF_REPORT_WEEK = "Эта неделя"
STAFF_REPORT_MONTH = "Прошлый месяц"
STAFF_REPORT_FILE = "Отчёт за {period} во вложении."

# Charts
CHART_SATISFACTION = "Оценки обращений, консультаций и приёмов, {period}"
CHART_DEADLINES = "Сроки ответа на обращения, {period}"
CHART_WORKLOAD = "Поступило за день, {period}"
CHART_CHANNELS = "Уведомления по каналам, {period}"
CHART_COUNT = "Количество"
CHART_DAY = "День"
