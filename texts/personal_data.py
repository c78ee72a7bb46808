"""Texts of personal data handling (152-FZ): the privacy notice, «Мои данные», exports."""

PRIVACY_NOTICE_VERSION = "p-2026-12"
# 152-FZ art. 14, 18: the operator, the purpose and legal ground, the data, the actions, the
# retention, and how to ask for one's data or object. Appeals rest on 59-FZ, not on consent.
PRIVACY_NOTICE = (
    "Шаг 7 из 8. Как мы обращаемся с вашими данными.\n\n"
    "Оператор: {agency}.\n"
    "Зачем: рассмотреть обращение и ответить на него. Это обязанность службы по закону "
    "№ 59-ФЗ «О порядке рассмотрения обращений граждан», поэтому отдельное согласие не нужно.\n"
    "Какие данные: ФИО, адрес для ответа, текст обращения и файлы, переписка в боте.\n"
    "Что делаем: записываем, храним, передаём исполнителю внутри службы, а если вопрос не наш — "
    "в орган, который его решает (с уведомлением вам).\n"
    "Сколько храним: обращения и ответы — {archive_years} лет, затем обезличиваем. "
    "Неотправленные черновики удаляем через {draft_days} дней.\n"
    "Ваши права: узнать, какие данные у нас есть, и получить их — «Настройки» → «Мои данные»; "
    "уточнить или удалить лишнее — письменно или по телефону {phone}.{policy}"
)
PRIVACY_POLICY_LINE = "\nПолитика обработки персональных данных: {url}"
PRIVACY_OK = "Понятно, дальше"

MY_DATA_BUTTON = "Мои данные"
MY_DATA = (
    "Что у нас есть о вас.\n\n"
    "ФИО: {name}\nE-mail: {email}\nТелефон: {phone}\nПочтовый адрес: {postal}\n"
    "Каналы связи: {identities}\n"
    "Согласия: {consents}\n"
    "Обращений: {appeals}. Записей на приём: {visits}. Консультаций: {consultations}. Оценок: {ratings}.\n\n"
    "Можно получить всё это файлом (JSON и понятная сводка). Мы отвечаем на такой запрос "
    "не позже чем через 10 рабочих дней, обычно файл приходит сразу."
)
MY_DATA_EXPORT = "Прислать мои данные файлом"
MY_DATA_SENT = "Готово: файлы с вашими данными ниже. Запрос № {request} записан."
MY_DATA_NONE = "нет"
EXPORT_TITLE = "Ваши персональные данные в {agency}"
CONSENT_KINDS = {"mailing": "рассылка на e-mail", "personal_data": "обработка данных (прежний порядок)"}
CONSENT_ON = "{kind}: дано {at}"
CONSENT_OFF = "{kind}: отозвано {at}"

ANONYMISED = "[обезличено]"

STAFF_PD_BUTTON = "Запросы о персональных данных ({n})"
STAFF_PD_LIST = "Запросы о персональных данных (ответ — в течение 10 рабочих дней):\n\n{items}"
STAFF_PD_ITEM = "№ {id}, гражданин {citizen}: получен {received}, срок {due} — {state}"
STAFF_PD_OPEN = "ждёт ответа"
STAFF_PD_LATE = "срок прошёл"
STAFF_PD_DONE = "ответ дан {at}"
