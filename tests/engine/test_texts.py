"""The texts citizens read: plain, short, polite, never a placeholder, meaning never in emoji
alone (R-3.1, R-3.2, R-5.4, R-6.6, R-6.7), and the other-agencies advice (R-5.11)."""
from __future__ import annotations

import re

import pytest

import texts as T

# Bureaucratic turns that a plain-language text avoids.
LEGALESE = ("в соответствии с", "настоящим", "вышеуказанн", "нижеследующ", "данное обращение", "в целях",
            "осуществлени", "на основании изложенного", "в рамках", "уведомляем", "сообщаем, что")
RUDE_OR_FLAT = ("!!!", "обязаны", "немедленно", "вы должны", "ошибка ввода", "неверный ввод", "error")
MAX_WORDS = 35  # per sentence


def catalogue() -> list[tuple[str, str]]:
    found = []
    for name, value in vars(T).items():
        if name.startswith("_"):
            continue
        if isinstance(value, str):
            found.append((name, value))
        elif isinstance(value, dict):
            found += [(f"{name}[{k}]", v) for k, v in value.items() if isinstance(v, str)]
    return found


TEXTS = catalogue()


def test_catalogue_is_large_enough_to_mean_something():
    assert len(TEXTS) > 150


@pytest.mark.parametrize("name,text", TEXTS, ids=[n for n, _ in TEXTS])
def test_texts_are_plain_short_and_polite_R_3_1_R_3_2_R_5_4_R_6_6(name, text):
    low = re.sub(r"\{[a-z_]+\}", "", text).casefold()  # placeholders are not words
    assert not any(w in low for w in LEGALESE), f"{name}: legalese"
    assert not any(w in low for w in RUDE_OR_FLAT), f"{name}: curt or rude"
    for sentence in re.split(r"(?<=[.!?])\s+|\n", text):
        words = [w for w in sentence.split() if not w.startswith("{")]
        assert len(words) <= MAX_WORDS, f"{name}: a sentence of {len(words)} words"
    assert "ЗАПОЛНИТЬ" not in text


@pytest.mark.parametrize("name,text", TEXTS, ids=[n for n, _ in TEXTS])
def test_meaning_is_in_words_not_in_emoji_R_6_7(name, text):
    """Screen readers read words; a text is never only symbols or pictographs."""
    letters = [c for c in text if c.isalpha()]
    assert letters, f"{name}: no words"
    pictographs = [c for c in text if ord(c) > 0x2600 and not c.isalpha() and c not in "«»—–…№•→"]
    assert not pictographs, f"{name}: {pictographs}"


async def test_other_agencies_are_suggested_without_unfilled_contacts_R_5_11(chat, app):
    await chat.command("start")
    await chat.press("Справка и контакты")
    text = await chat.press("Вопрос не к нам?")
    assert "Роспотребнадзор" in text and "качество питьевой воды" in text
    assert "ЗАПОЛНИТЬ" not in text and text.count("по телефону +7 (8512) 24-50-22") == 1  # said once


async def test_help_tells_hours_and_when_the_service_opens_R_5_2_R_5_3(chat, app, clock):
    from datetime import datetime, timezone

    await chat.command("start")
    text = await chat.press("Справка и контакты")
    assert "по будням 08:30–12:00 и 13:00–17:30" in text and "Сейчас служба работает." in text
    clock.now = datetime(2026, 3, 6, 15, 0, tzinfo=timezone.utc)  # Friday 19:00 local
    await chat.command("start")
    text = await chat.press("Справка и контакты")
    assert "снова на связи 10.03.2026 в 08:30 по астраханскому времени" in text  # Monday 9 March is the holiday moved from the 8th


PROMISES_TO_ACT_FOR_THE_CITIZEN = ("заполним за вас", "заполним заявление", "договоримся", "за вас обратимся",
                                   "сами свяжемся с управляющей", "от вашего имени")


@pytest.mark.parametrize("name,text", TEXTS, ids=[n for n, _ in TEXTS])
def test_no_text_promises_to_act_for_the_citizen_R_5_10(name, text):
    """R-5.10: staff do not fill in forms or negotiate with third parties for the client."""
    assert not any(p in text.casefold() for p in PROMISES_TO_ACT_FOR_THE_CITIZEN), name
