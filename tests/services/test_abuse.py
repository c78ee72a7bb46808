"""Tests for the R-3.4 abuse screen (services/abuse.py) — 59-FZ art. 11 p. 3.

R-3.4: "Messages with insults, obscene language, or threats to staff's life and
health are not considered on the merits" (59-FZ art. 11 p. 3: «нецензурные либо
оскорбительные выражения, угрозы жизни, здоровью и имуществу должностного лица»).
The screen flags such an appeal for an official to decide.

Two labelled corpora (label<TAB>category<TAB>sentence):
- tests/data/abuse_corpus.tsv: the corpus the screen was first written against;
- tests/data/abuse_heldout.tsv: sentences written later, before the lemma-based screen,
  with a fourth column splitting them into ``dev`` (may be looked at while tuning) and
  ``test`` (never tuned on: only its scores are printed, its errors only when it fails).
Scores, the screen's latency and its import cost go to pytest's terminal summary.
"""
from __future__ import annotations

import dataclasses
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from services import abuse
from services.abuse import FRAGMENT_MAX, Verdict, screen

DATA = Path(__file__).resolve().parents[1] / "data"
CORPUS = DATA / "abuse_corpus.tsv"
HELDOUT = DATA / "abuse_heldout.tsv"
CATEGORIES = {"obscene", "insult", "threat"}
# (precision, recall) the screen must keep
OLD_TARGET = (0.98, 0.95)
HELDOUT_TEST_TARGET = (0.95, 0.90)
LATENCY_MS = 2.0  # for a 1,000-character appeal


def _corpus() -> list[tuple[str, str, str]]:
    rows = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            label, category, sentence = line.split("\t")
            rows.append((label, category, sentence))
    return rows


def _heldout(split: str | None = None) -> list[tuple[str, str, str]]:
    rows = []
    for line in HELDOUT.read_text(encoding="utf-8").splitlines():
        if line.strip():
            label, category, sentence, part = line.split("\t")
            if split in (None, part):
                rows.append((label, category, sentence))
    return rows


_SUMMARY: dict[str, list[str]] = {}  # section -> lines, in the order the tests ran


class _Summary:
    """Puts the scores into pytest's terminal summary (visible even with -q)."""

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_sep("-", "R-3.4 abuse screen (59-FZ art. 11 p. 3)")
        for lines in _SUMMARY.values():
            for line in lines:
                terminalreporter.write_line(line)


def _report(pytestconfig, key: str, lines: list[str]) -> None:
    _SUMMARY[key] = lines
    if not pytestconfig.pluginmanager.has_plugin("r34-abuse-summary"):
        pytestconfig.pluginmanager.register(_Summary(), "r34-abuse-summary")


@dataclasses.dataclass
class _Score:
    name: str
    tp: int = 0
    fp: int = 0
    fn: int = 0
    clean: int = 0
    found: Counter = dataclasses.field(default_factory=Counter)  # label category -> flagged
    total: Counter = dataclasses.field(default_factory=Counter)  # label category -> sentences
    said: Counter = dataclasses.field(default_factory=Counter)  # verdict category -> flags
    said_right: Counter = dataclasses.field(default_factory=Counter)  # ... of them on abusive sentences
    same_category: int = 0  # flagged abusive sentences given their labelled category
    misses: list = dataclasses.field(default_factory=list)
    false_alarms: list = dataclasses.field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    def lines(self, errors: bool) -> list[str]:
        by_cat = ", ".join(
            f"{c} R={self.found[c]}/{self.total[c]}={self.found[c] / self.total[c]:.3f}"
            f" P={self.said_right[c]}/{self.said[c]}={self.said_right[c] / self.said[c] if self.said[c] else 0:.3f}"
            for c in sorted(self.total))
        out = [f"{self.name}: precision={self.precision:.3f} recall={self.recall:.3f} on {self.tp + self.fn + self.clean}"
               f" sentences ({self.tp + self.fn} abusive, {self.clean} clean; tp={self.tp} fp={self.fp} fn={self.fn})",
               f"  by category: {by_cat}; flagged with the labelled category {self.same_category}/{self.tp}"]
        return out + (self.misses + self.false_alarms if errors else [])


def _score(name: str, rows) -> _Score:
    s = _Score(name)
    for label, category, sentence in rows:
        verdict = screen(sentence)
        if verdict.flagged:
            s.said[verdict.category] += 1
        if label == "abusive":
            s.total[category] += 1
            if verdict.flagged:
                s.tp += 1
                s.found[category] += 1
                s.said_right[verdict.category] += 1
                s.same_category += verdict.category == category
            else:
                s.fn += 1
                s.misses.append(f"  missed [{category}]: {sentence}")
        else:
            s.clean += 1
            if verdict.flagged:
                s.fp += 1
                s.false_alarms.append(f"  false positive [{verdict.category}: {verdict.fragment!r}]: {sentence}")
    return s


def test_r34_corpus_is_well_formed():
    """R-3.4 / 59-FZ art. 11 p. 3 corpus: valid labels, no duplicates, at least 170 sentences per class."""
    rows = _corpus()
    for label, category, _ in rows:
        assert (label, category in CATEGORIES) in {("abusive", True), ("clean", False)}
        assert label == "abusive" or category == "-"
    sentences = [s for _, _, s in rows]
    assert len(sentences) == len(set(sentences)), "duplicate sentences in the corpus"
    counts = Counter(label for label, _, _ in rows)
    assert counts["abusive"] >= 170 and counts["clean"] >= 170
    assert {c for _, c, _ in rows} >= CATEGORIES


def test_r34_heldout_corpus_is_well_formed():
    """R-3.4 / 59-FZ art. 11 p. 3 held-out corpus: at least 400 new sentences, about half abusive,
    none taken from the old corpus, every category in both the dev and the test half."""
    rows = _heldout()
    assert len(rows) >= 400
    for label, category, _ in rows:
        assert (label, category in CATEGORIES) in {("abusive", True), ("clean", False)}
        assert label == "abusive" or category == "-"
    sentences = [s for _, _, s in rows]
    assert len(sentences) == len(set(sentences)), "duplicate sentences in the held-out corpus"
    assert not set(sentences) & {s for _, _, s in _corpus()}, "held-out sentences taken from the old corpus"
    counts = Counter(label for label, _, _ in rows)
    assert counts["abusive"] >= 180 and counts["clean"] >= 180
    parts = {line.rsplit("\t", 1)[1] for line in HELDOUT.read_text(encoding="utf-8").splitlines() if line}
    assert parts == {"dev", "test"}
    for part in parts:
        assert {c for _, c, _ in _heldout(part)} >= CATEGORIES


def test_r34_corpus_precision_and_recall(pytestconfig):
    """R-3.4 (59-FZ art. 11 p. 3): the screen keeps precision >= 0.98 and recall >= 0.95 on the old corpus."""
    s = _score("old corpus", _corpus())
    _report(pytestconfig, "1 old", s.lines(errors=True))
    assert s.recall >= OLD_TARGET[1], "\n".join(s.misses)
    assert s.precision >= OLD_TARGET[0], "\n".join(s.false_alarms)


def test_r34_heldout_precision_and_recall(pytestconfig):
    """R-3.4 (59-FZ art. 11 p. 3): on the held-out test half, never tuned on, recall >= 0.90
    at precision >= 0.95; the dev half (tuned on) is reported with its errors."""
    dev, test = _score("held-out dev", _heldout("dev")), _score("held-out test", _heldout("test"))
    _report(pytestconfig, "2 held-out", dev.lines(errors=True) + test.lines(errors=False))
    assert test.recall >= HELDOUT_TEST_TARGET[1], "\n".join(test.misses)
    assert test.precision >= HELDOUT_TEST_TARGET[0], "\n".join(test.false_alarms)


def _appeal(seed: int, length: int = 1000) -> str:
    """A 1,000-character appeal made of corpus sentences, clean and abusive."""
    rng = random.Random(seed)
    pool = [s for _, _, s in _corpus()]
    text = ""
    while len(text) < length:
        text += rng.choice(pool) + " "
    return text[:length]


def test_r34_screen_is_fast(pytestconfig):
    """R-3.4: a 1,000-character appeal is screened in under 2 ms (median over 30 appeals of the
    best of 5 runs, words seen before); with per-word caches emptied first it is reported too."""
    screen("прогрев")  # loads the dictionaries once
    appeals = [_appeal(seed) for seed in range(30)]

    def best(text: str, cold: bool) -> float:
        times = []
        for _ in range(5):
            if cold:
                abuse.cache_clear()
            else:
                screen(text)
            start = time.perf_counter()
            screen(text)
            times.append(time.perf_counter() - start)
        return min(times)

    warm = statistics.median(best(a, False) for a in appeals) * 1000
    cold = statistics.median(best(a, True) for a in appeals) * 1000
    _report(pytestconfig, "3 latency", [
        f"latency for a 1,000-char appeal: {warm:.2f} ms (median of best-of-5; target < {LATENCY_MS:.0f} ms),"
        f" {cold:.2f} ms with per-word caches emptied"])
    assert warm < LATENCY_MS


def test_r34_import_is_cheap_and_pymorphy3_loads_on_first_use(pytestconfig):
    """R-3.4: importing the screen does not load pymorphy3; the first screen() call does."""
    code = ("import sys, time; t = time.perf_counter(); import services.abuse as a; t1 = time.perf_counter();"
            " loaded = 'pymorphy3' in sys.modules; a.screen('тест'); t2 = time.perf_counter();"
            " print(t1 - t, t2 - t1, loaded, 'pymorphy3' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2]).stdout.split()
    imported, first_call, loaded_on_import, loaded_after = float(out[0]), float(out[1]), out[2], out[3]
    _report(pytestconfig, "4 import", [
        f"import services.abuse: {imported * 1000:.0f} ms without pymorphy3; first screen() call loads"
        f" pymorphy3 and the forms index: {first_call * 1000:.0f} ms"])
    assert loaded_on_import == "False" and loaded_after == "True"
    assert imported < 0.5


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
    """R-3.4 (59-FZ art. 11 p. 3): everyday words that contain a «bad» substring are not flagged."""
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
    """R-3.4 (59-FZ art. 11 p. 3): angry-but-polite or merely unlucky complaints are considered on the merits."""
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
    """R-3.4 (59-FZ art. 11 p. 3): masks, look-alike letters, separators and repeats do not hide abuse."""
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
    """R-3.4 (59-FZ art. 11 p. 3): staff see exactly which words made the message abusive."""
    verdict = screen(text)
    assert verdict.flagged and verdict.fragment == fragment, verdict
    assert verdict.fragment in text


def test_r34_verdict_shape():
    """R-3.4 / 59-FZ art. 11 p. 3 verdict: frozen dataclass; clean and empty texts have no category or fragment."""
    assert screen("") == screen("   ") == screen("Течёт крыша, прошу помочь.") == Verdict(False, None, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        screen("Сука, опять").flagged = False  # type: ignore[misc]


@pytest.mark.parametrize("sentence", [
    "Я сам прибью эту полку, если мастер не придёт.",           # a thing, not a person
    "Старые бумаги я сожгу на даче, это не к вам вопрос.",
    "Вы ещё пожалеете, что не ответили: я подаю жалобу в прокуратуру.",  # lawful pressure
    "Я до вас доберусь через суд.",
    "Найду на них управу через суд.",
    "Соседка назвала меня тупой курицей, прошу разобраться.",   # reported insult
    "Сосед кричит, что всех нас перестреляет, вызовите полицию.",  # reported threat
    "Я знаю, где у вас приёмная, но там закрыто.",
    "Тупая пила у рабочих, они полдня пилили одну доску.",      # a thing described
    "Ёшкин кот, опять нет света в подъезде.",                   # interjection
    "Мы тут все замёрзнем и сдохнем, если не дадут тепло.",     # about ourselves
    "Голову ломаю над вашей квитанцией.",
])
def test_r34_lemma_rules_keep_lawful_and_literal_sentences_clean(sentence):
    """R-3.4 (59-FZ art. 11 p. 3): legal threats (суд, прокуратура), things as objects, reported
    words and idioms are not threats or insults."""
    assert not screen(sentence).flagged, screen(sentence)


@pytest.mark.parametrize("text, category", [
    ("Вы там все ослы упёртые.", "insult"),            # aimed animal word + вы
    ("Клоуны вы, а не специалисты.", "insult"),
    ("Ублюдочные чинуши.", "insult"),                   # adjective made from an insult
    ("Дебилоиды, кто так делает?", "insult"),           # unknown word with an insult stem
    ("Я вас найду, не сомневайтесь.", "threat"),
    ("Ты у меня ещё попляшешь, председатель.", "threat"),
    ("Вешать таких, как вы, надо.", "threat"),          # call to kill
    ("Подожгу машину вашего начальника.", "threat"),    # property of staff
    ("Доберусь до вашего мастера — мало не покажется.", "threat"),
    ("Приеду с битой и поговорим.", "threat"),          # a weapon one will bring
    ("Я знаю, в каком подъезде вы живёте.", "threat"),
    ("Сдохните все в своей конторе.", "threat"),
])
def test_r34_lemma_rules_flag_new_wording(text, category):
    """R-3.4 (59-FZ art. 11 p. 3): insults and threats are matched by lemma and context, not by fixed words."""
    verdict = screen(text)
    assert verdict.flagged and verdict.category == category, verdict


@pytest.mark.parametrize("text, category", [
    ("х\x00у\x00й", "obscene"),                          # NUL as a separator
    ("\x00Сука\x7f, опять нет воды", "obscene"),
    ("Дебил\u200bы, ответьте", "insult"),                 # zero-width space inside a word
    ("и\u0301диоты в приёмной", "insult"),                # stress mark
    ("У\ud800бью вашего мастера", "threat"),              # lone surrogate
    ("\x00" * 500, None),
    ("\x1b[31mКрыша течёт\x1b[0m\r\n\tпомогите", None),
])
def test_r34_control_characters_do_not_crash_or_leak_into_the_fragment(text, category):
    """R-3.4 (59-FZ art. 11 p. 3): NUL and other control characters neither crash the screen
    nor reach the stored fragment."""
    verdict = screen(text)
    assert verdict.category == category, verdict
    if verdict.fragment is not None:
        assert not any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 or 0xD800 <= ord(ch) < 0xE000
                       for ch in verdict.fragment)


@pytest.mark.parametrize("text", [
    "Вы " + "х у й " * 200 + "— вот что я думаю.",
    "Ответ: " + "п и з д е ц " * 150,
    "Вам " + "не жить " * 3 + "а" * 10_000,
    "Идиоты! " * 5_000,
])
def test_r34_fragment_fits_the_column(text):
    """R-3.4 (59-FZ art. 11 p. 3): the fragment is stored in VARCHAR(200): never longer, cut at a word."""
    verdict = screen(text)
    assert verdict.flagged and verdict.fragment
    assert len(verdict.fragment) <= FRAGMENT_MAX
    if verdict.fragment.endswith("…"):
        kept = verdict.fragment[:-1]
        assert kept in text and text[text.index(kept) + len(kept)] in " \t\n"
