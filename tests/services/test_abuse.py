"""Tests for the R-3.4 abuse screen (services/abuse.py).

R-3.4: "Messages with insults, obscene language, or threats to staff's life and
health are not considered on the merits."  The labelled corpus lives in
tests/data/abuse_corpus.tsv (label<TAB>category<TAB>sentence).
"""
from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pytest

from services.abuse import Verdict, screen

CORPUS = Path(__file__).resolve().parents[1] / "data" / "abuse_corpus.tsv"
CATEGORIES = {"obscene", "insult", "threat"}


def _corpus() -> list[tuple[str, str, str]]:
    rows = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            label, category, sentence = line.split("\t")
            rows.append((label, category, sentence))
    return rows


class _Summary:
    """Puts the corpus scores into pytest's terminal summary (visible even with -q)."""

    def __init__(self, lines: list[str]):
        self.lines = lines

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_sep("-", "R-3.4 abuse screen")
        for line in self.lines:
            terminalreporter.write_line(line)


def test_r34_corpus_is_well_formed():
    """R-3.4 corpus: valid labels, no duplicates, at least 170 sentences per class."""
    rows = _corpus()
    for label, category, _ in rows:
        assert (label, category in CATEGORIES) in {("abusive", True), ("clean", False)}
        assert label == "abusive" or category == "-"
    sentences = [s for _, _, s in rows]
    assert len(sentences) == len(set(sentences)), "duplicate sentences in the corpus"
    counts = Counter(label for label, _, _ in rows)
    assert counts["abusive"] >= 170 and counts["clean"] >= 170
    assert {c for _, c, _ in rows} >= CATEGORIES


def test_r34_corpus_precision_and_recall(capsys, pytestconfig):
    """R-3.4: the screen keeps precision >= 0.98 and recall >= 0.95 on the whole corpus."""
    rows = _corpus()
    tp = fp = fn = 0
    per_category: Counter = Counter()
    misses, false_alarms = [], []
    for label, category, sentence in rows:
        verdict = screen(sentence)
        if label == "abusive" and verdict.flagged:
            tp += 1
            per_category[category] += 1
        elif label == "abusive":
            fn += 1
            misses.append(f"  missed [{category}]: {sentence}")
        elif verdict.flagged:
            fp += 1
            false_alarms.append(f"  false positive [{verdict.category}: {verdict.fragment!r}]: {sentence}")
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    totals = Counter(c for label, c, _ in rows if label == "abusive")
    lines = [
        f"abuse screen: precision={precision:.3f} recall={recall:.3f} on {len(rows)} sentences "
        f"({tp + fn} abusive, {len(rows) - tp - fn} clean; tp={tp} fp={fp} fn={fn})",
        "recall by category: " + ", ".join(f"{c}={per_category[c]}/{totals[c]}" for c in sorted(totals)),
        *misses,
        *false_alarms,
    ]
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    if not pytestconfig.pluginmanager.has_plugin("r34-abuse-summary"):
        pytestconfig.pluginmanager.register(_Summary(lines), "r34-abuse-summary")
    assert recall >= 0.95, "\n".join(misses)
    assert precision >= 0.98, "\n".join(false_alarms)


# Words that naive substring filters flag; under they must stay clean.
CLASSIC_FALSE_POSITIVES = [
    "употреблять", "оскорблять", "рубля", "страхуй", "хлебать", "команда", "психиатр", "скипидар",
    "ребята", "корабль", "сабля", "тебя", "колебаться", "требовать", "подстрахуйте", "хуторской",
    "оглобля", "рубль", "мандат", "командир", "мандарин", "сукно", "сучок", "бляха", "ипотека",
    "психолог", "убыток", "убывание", "убийство", "пожар",
    # more of the same kind
    "хуже", "хулиган", "застрахуйте", "мудрый", "скотч", "козырёк", "процедура", "недоумение",
    "дебиторская", "поддонки", "педикулёз", "сучья", "сук", "себе", "небо", "оскорбление",
    "употребление", "корабля", "тупик", "уродливый", "ничтожная", "сучком", "Хуснутдинова",
]


@pytest.mark.parametrize("word", CLASSIC_FALSE_POSITIVES)
def test_r34_classic_false_positive_word_is_clean(word):
    """R-3.4: everyday words that contain a «bad» substring are not flagged."""
    assert screen(word) == Verdict(False, None, None)
    assert not screen(word.upper()).flagged
    assert not screen(f"Прошу разобраться: в обращении упомянуто слово «{word}».").flagged


@pytest.mark.parametrize("sentence", [
    "В нашем доме произошло убийство соседа, а в подъезде нет света.",
    "В котельной взорвался котёл, дом без тепла.",
    "После пожара управляющая компания не восстановила проводку.",
    "Сосулька упадёт и убьёт ребёнка, уберите её.",
    "Я чуть не убилась на лестнице, там нет освещения.",
    "Рабочие прибили доску криво.",
    "Обещают капремонт к 2040 году, моя мама до него не доживёт.",
    "Я так себе голову разобью на вашем крыльце.",
    "Это безобразие, сколько можно терпеть?",
    "Управляющая компания ничего не делает, жалуюсь в прокуратуру.",
    "Вы ответите за это перед законом.",
    "В подвале завелись блохи и прочие паразиты, нужна дезинсекция.",
    "Козлы для рабочих стоят в подъезде уже месяц.",
    "Прошу связаться с инспектором Козловым.",
    "Мастер из УК обозвал мою маму дурой, прошу принять меры.",
    "Сосед держит скотину прямо во дворе многоквартирного дома.",
    "Kомандa УК (Latin letters) приехала через неделю, тариф 30 рублей.",
    "Мой e-mail: huzina.t@yandex.ru, квартира 3б, дом 6.",
    "Ну что... опять без воды.",
])
def test_r34_clean_housing_sentence_is_not_flagged(sentence):
    """R-3.4: angry-but-polite or merely unlucky complaints are considered on the merits."""
    assert not screen(sentence).flagged, screen(sentence)


@pytest.mark.parametrize("text, category", [
    ("Когда почините эту х**ню?", "obscene"),            # mask
    ("Это полный п@здец, а не ремонт.", "obscene"),       # @ as mask
    ("Бл**ь, опять нет воды.", "obscene"),
    ("Е#ать вас всех с вашими проверками.", "obscene"),
    ("Е..ть, когда починят лифт?", "obscene"),             # dots as mask
    ("А не пошли бы вы на х*й?", "obscene"),
    ("Хyйня, а не управляющая компания.", "obscene"),     # Latin y
    ("Eбaный домофон не работает.", "obscene"),           # Latin E, a
    ("Пи3дец, опять нет отопления.", "obscene"),          # digit 3
    ("6лядская управляйка.", "obscene"),                   # digit 6
    ("Сколько можно, blyat, ждать слесаря?", "obscene"),  # transliteration
    ("Вы х у й на нас положили.", "obscene"),             # spaces
    ("Х.у.й.н.я с начислениями.", "obscene"),             # dots
    ("Бля-я-ядь, опять прорвало трубу.", "obscene"),       # hyphens
    ("Бляяядь, опять потоп.", "obscene"),                 # repeated letters
    ("Съебались рабочие через час.", "obscene"),          # prefix съ-
    ("Распиздяи из УК не вывезли мусор.", "obscene"),
    ("Д е б и л ы, когда приедет комиссия?", "insult"),
    ("Дeбилы, ответьте на жалобу.", "insult"),             # Latin e
    ("Тупые бездельники сидят в инспекции.", "insult"),
    ("Свиньи вы, а не служба.", "insult"),
    ("Козлы из управляющей компании подняли тариф.", "insult"),
    ("у б ь ю, если опять отключите свет.", "threat"),
    ("Yбью всех, кто в этом виноват.", "threat"),          # Latin Y
    ("Я вас зарежу.", "threat"),
    ("Сожгу ваш офис.", "threat"),
    ("Вам не жить.", "threat"),
    ("Голову оторву вашему инспектору.", "threat"),
])
def test_r34_disguised_abuse_is_flagged_with_category(text, category):
    """R-3.4: masks, look-alike letters, separators and repeats do not hide abuse."""
    verdict = screen(text)
    assert verdict.flagged and verdict.category == category, verdict


@pytest.mark.parametrize("text, fragment", [
    ("Крыша течёт, а вам похуй на жильцов.", "похуй"),
    ("Вы х у й на нас положили.", "х у й"),
    ("Сколько можно, бл*ть, ждать?", "бл*ть"),
    ("Ваш инспектор — придурок, ничего не понял.", "придурок"),
    ("Если не почините отопление, я вас всех убью.", "убью"),
    ("Голову оторву вашему инспектору.", "Голову оторву"),
    ("Ещё раз отписка — вам не жить.", "вам не жить"),
    # the most serious finding is reported: a threat outranks мат and insults
    ("Дебилы, бля, я вас урою.", "урою"),
])
def test_r34_fragment_points_at_offending_words(text, fragment):
    """R-3.4: staff see exactly which words made the message abusive."""
    verdict = screen(text)
    assert verdict.flagged and verdict.fragment == fragment, verdict
    assert verdict.fragment in text


def test_r34_verdict_shape():
    """R-3.4 verdict: frozen dataclass; clean and empty texts have no category or fragment."""
    assert screen("") == screen("   ") == screen("Течёт крыша, прошу помочь.") == Verdict(False, None, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        screen("Сука, опять").flagged = False  # type: ignore[misc]
