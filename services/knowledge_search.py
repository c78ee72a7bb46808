"""Question search over the knowledge base (R-5.1, R-5.5, R-5.6, R-5.11).

Words are reduced to lemmas (pymorphy3), colloquial words and abbreviations to plain ones, and words
the base does not know to the nearest known word (rapidfuzz), so typos still find their entry.
Entries are ranked by BM25 (bm25s) over their title and question variants, blended with BM25 over
the whole entry and a fuzzy similarity of the question to the variants.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import bm25s
import numpy as np
import pymorphy3
from rapidfuzz import fuzz, process

from services.knowledge import Entry, KnowledgeBase

_WORD = re.compile(r"[а-яёa-z0-9]+")

# Function words say nothing about the topic; question words that do are kept.
_SKIP_POS = {"PREP", "CONJ", "PRCL", "INTJ", "NPRO", "NUMR"}
_KEEP = {"куда", "когда", "сколько", "почему", "где", "кто", "нет", "без"}
_STOP = {"как", "что", "это", "быть", "мочь", "который", "такой", "тот", "этот", "свой", "мой", "наш", "ваш",
         "весь", "пожалуйста", "здравствовать", "здравствуйте", "привет", "добрый", "уважаемый", "спасибо",
         "подсказать", "скажите", "сказать", "ли", "вообще", "очень", "уже", "еще", "просто", "вот",
         "служба", "жилищный", "надзор"}  # the agency's own name says nothing about the question

# Words that say only that a question exists: alone they need a clarifying question.
VAGUE = {"вопрос", "помочь", "помогите", "помощь", "проблема", "жкх", "дом", "квартира", "жилье", "консультация",
         "информация", "узнать", "хотеть", "нужно", "надо", "можно", "обратиться", "день", "вечер", "утро",
         "ситуация", "дело", "случай", "тема", "есть", "один", "подскажите", "срочно",
         "ты", "вы", "я", "мы", "алло", "спросить", "интересовать", "нужный", "касаться", "сайт"}

# With only these besides, a question is still too general to answer: «куда жаловаться на УК?».
GENERAL = VAGUE | {"кто", "где", "когда", "куда", "сколько", "почему", "нет", "без", "делать", "сделать",
                   "большой", "хорошо", "понятно", "ясно", "компания", "управляющий"}

# Words common to many questions: they count, but less than the words that carry the topic.
WEAK = VAGUE | {"кто", "где", "когда", "куда", "сколько", "почему", "нет", "без", "ответ", "горячий", "холодный",
                "вода", "компания", "управляющий", "жаловаться", "делать", "сделать", "написать", "должный",
                "получить", "прийти", "хороший", "плохо", "сейчас", "год", "месяц", "неделя", "обращение"}

# Colloquial words and abbreviations, as the plain lemmas the base is written in.
SYNONYMS = {
    "ук": "управляющий компания", "управляйка": "управляющий компания", "управляшка": "управляющий компания",
    "управлять": "управляющий", "упраляющий": "управляющий", "кампания": "компания",
    "капремонт": "капитальный ремонт", "капиталка": "капитальный ремонт", "спецсчет": "специальный счет",
    # the agency's own name says nothing about the question
    "жилнадзор": "", "жилинспекция": "", "гжи": "", "госжилинспекция": "", "инспекция": "",
    "гвс": "горячий вода", "хвс": "холодный вода", "коммуналка": "коммунальный услуга",
    "жку": "коммунальный услуга", "квартплата": "плата", "платежка": "квитанция",
    "аварийка": "аварийный диспетчерский", "фотка": "фото", "фотография": "фото", "радиатор": "батарея",
    "телега": "телеграм", "тг": "телеграм", "вк": "вконтакте", "вконтакт": "вконтакте", "подьезд": "подъезд",
    "водомер": "счетчик", "электроэнергия": "электричество", "электросеть": "электричество",
    "заява": "обращение", "жалоба": "обращение", "заявление": "обращение", "пожаловаться": "жаловаться",
    "течь": "протекать", "протечка": "протекать", "кровля": "крыша",
}


@dataclass(frozen=True)
class Match:
    entry_id: str
    score: float


@dataclass(frozen=True)
class Decision:
    kind: Literal["answer", "choose", "vague", "none"]
    matches: list[Match] = field(default_factory=list)


class Lemmatizer:
    """Text to lemmas, with a cache: the same words come again and again."""

    def __init__(self) -> None:
        self._morph = pymorphy3.MorphAnalyzer()
        self.lemma = lru_cache(maxsize=50_000)(self._lemma)

    def _lemma(self, word: str) -> tuple[str, ...]:
        if word.isdigit():
            return ()
        parse = self._morph.parse(word)[0]
        lemma = parse.normal_form.replace("ё", "е")
        if lemma in _KEEP or word in _KEEP:
            return (lemma,)
        if parse.tag.POS in _SKIP_POS or "Apro" in parse.tag or lemma in _STOP or word in _STOP:
            return ()
        plain = SYNONYMS.get(lemma, SYNONYMS.get(word))
        return (lemma,) if plain is None else tuple(plain.split())

    def known(self, word: str) -> bool:
        return self._morph.word_is_known(word)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("ё", "е"))


class Searcher:
    """Built once at start-up from a KnowledgeBase; `search` and `decide` are then cheap."""

    # blend weights and decision thresholds, tuned on the dev split only
    W_VARIANT, W_ENTRY, W_FUZZY = 0.6, 0.15, 0.2
    ANSWER_MIN, ANSWER_GAP, NONE_BELOW, CHOOSE_SHARE = 0.45, 0.12, 0.3, 0.6
    FUZZY_CUTOFF = 80
    STRONG = 2

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.lemmas = Lemmatizer()
        self.ids = [e.id for e in kb.entries]
        variant_docs: list[list[str]] = []
        self.variant_entry: list[int] = []
        self.variant_text: list[str] = []
        entry_docs: list[list[str]] = []
        forms: dict[str, str] = {}
        for i, entry in enumerate(kb.entries):
            whole: list[str] = []
            for text in [entry.title, *entry.questions]:
                doc = self._doc(text, forms)
                variant_docs.append(doc)
                self.variant_entry.append(i)
                self.variant_text.append(" ".join(doc))
                whole += doc
            entry_docs.append(whole + self._doc(self._body(entry), forms))
        self.variants = self._index([with_stems(d) for d in variant_docs])
        self.whole = self._index([with_stems(d) for d in entry_docs])
        self.vocab = sorted({w for d in entry_docs for w in d})
        self.vocab_set = set(self.vocab)
        self.forms = forms
        self.form_list = sorted(forms)
        self.form_sounds = [sound(f) for f in self.form_list]
        self.variant_entry_arr = np.array(self.variant_entry)
        self.entry_lemmas = [set(with_stems(d)) for d in entry_docs]
        n = len(entry_docs)
        df = Counter(w for s in self.entry_lemmas for w in s)
        self.weight = {w: float(np.log(1 + n / df[w])) for w in self.vocab}
        self.rarest = float(np.log(1 + n))

    @staticmethod
    def _body(entry: Entry) -> str:
        return f"{entry.answer} {entry.refer_to}"

    @staticmethod
    def _index(docs: list[list[str]]) -> bm25s.BM25:
        index = bm25s.BM25()
        index.index([d or [""] for d in docs], show_progress=False)
        return index

    def _doc(self, text: str, forms: dict[str, str]) -> list[str]:
        out: list[str] = []
        for w in words(text):
            lemmas = self.lemmas.lemma(w)
            if len(lemmas) == 1:
                forms.setdefault(w, lemmas[0])
            out += lemmas
        return out

    # -- query side ----------------------------------------------------------------------------

    def _closest(self, word: str, lemma: str) -> str | None:
        """A known lemma for a word the base does not contain (typos), or None."""
        if len(word) < 4:
            return None
        cutoff = self.FUZZY_CUTOFF if len(word) >= 5 else 85
        best = (0.0, None)
        hit = process.extractOne(lemma, self.vocab, scorer=fuzz.ratio, score_cutoff=cutoff)
        if hit:
            best = (hit[1], hit[0])
        # the surface word against the base's words as they sound: «атапление» is «отопление»
        hit = process.extractOne(sound(word), self.form_sounds, scorer=fuzz.ratio, score_cutoff=cutoff)
        if hit and hit[1] > best[0]:
            best = (hit[1], self.forms[self.form_list[hit[2]]])
        return best[1]

    def query_lemmas(self, text: str) -> tuple[list[str], list[str]]:
        """(lemmas mapped into the base's vocabulary, lemmas it does not know)."""
        known: list[str] = []
        unknown: list[str] = []
        for w in words(text):
            for lemma in self.lemmas.lemma(w):
                if lemma in self.vocab_set:
                    known.append(lemma)
                    continue
                # only words outside the dictionary are taken for typos
                near = None if lemma in WEAK or self.lemmas.known(w) else self._closest(w, lemma)
                (known if near else unknown).append(near or lemma)
        return known, unknown

    def parts(self, lemmas: list[str], unknown: Sequence[str] = ()) -> tuple[np.ndarray, ...]:
        """Per entry: best variant BM25, whole-entry BM25 (both scaled to the best), fuzzy, coverage."""
        n = len(self.ids)
        # words that carry the topic count twice, so «куда жаловаться» does not outweigh «тариф»
        terms = with_stems(lemmas + [x for x in lemmas if x not in WEAK] * (self.STRONG - 1))
        per_variant = self.variants.get_scores(terms)
        variant = np.zeros(n)
        np.maximum.at(variant, self.variant_entry_arr, per_variant)
        whole = self.whole.get_scores(terms)
        query = " ".join([*lemmas, *unknown])
        fuzzy_v = process.cdist([query], self.variant_text, scorer=fuzz.token_sort_ratio)[0] / 100
        fuzzy = np.zeros(n)
        np.maximum.at(fuzzy, self.variant_entry_arr, fuzzy_v)
        return _unit(variant), _unit(whole), fuzzy, self._coverage(lemmas, unknown)

    def _scores(self, lemmas: list[str], unknown: list[str]) -> np.ndarray:
        if not lemmas:
            return np.zeros(len(self.ids))
        variant, whole, fuzzy, coverage = self.parts(lemmas, unknown)
        return (self.W_VARIANT * variant + self.W_ENTRY * whole) * coverage + self.W_FUZZY * fuzzy

    def _coverage(self, lemmas: list[str], unknown: Sequence[str]) -> np.ndarray:
        """Per entry: the share of the question's weight (rare words weigh more) that the entry contains.

        Words the base does not know count against every entry: «билет в кино» is not about the base."""
        weights = {w: self.weight.get(w, 1.0) * (1 if w in WEAK else self.STRONG) for w in lemmas}
        # an unknown word weighs as much as the rarest known one
        total = sum(weights.values()) + self.rarest * self.STRONG * len(set(unknown) - VAGUE)
        return np.array([sum(v for w, v in weights.items() if w in s or stem(w) in s) / total
                         for s in self.entry_lemmas])

    def search(self, text: str, k: int = 3) -> list[Match]:
        lemmas, unknown = self.query_lemmas(text)
        scores = self._scores(lemmas, unknown)
        order = np.argsort(-scores, kind="stable")[:k]
        return [Match(self.ids[i], round(float(scores[i]), 4)) for i in order if scores[i] > 0]

    def decide(self, text: str) -> Decision:
        lemmas, unknown = self.query_lemmas(text)
        if all(x in VAGUE for x in lemmas):
            # «вопрос», «помогите», «жкх», a greeting: ask what it is about;
            # but words the base does not know at all mean it has nothing on the matter
            return Decision("none" if unknown else "vague")
        if all(x in GENERAL for x in lemmas) and not unknown:
            return Decision("vague")  # «куда обратиться по УК?», «что делать?»
        matches = self.search(text, k=3)
        if not matches or matches[0].score < self.NONE_BELOW:
            return Decision("none", matches)
        best = matches[0].score
        second = matches[1].score if len(matches) > 1 else 0.0
        if best >= self.ANSWER_MIN and best - second >= self.ANSWER_GAP:
            return Decision("answer", matches[:1])
        return Decision("choose", [m for m in matches if m.score >= best * self.CHOOSE_SHARE])


_SOUND = str.maketrans({"о": "а", "е": "и", "э": "и", "ы": "и", "я": "а", "ю": "у", "ь": None, "ъ": None})
_DOUBLE = re.compile(r"(.)\1+")


def sound(word: str) -> str:
    """The word as it is heard, the way people misspell it: unstressed vowels merged, no soft signs, no doubles."""
    return _DOUBLE.sub(r"\1", word.translate(_SOUND))


STEM = 6


def stem(lemma: str) -> str:
    """A crude common root, so that «обязанность» meets «обязанный» and «отопление» meets «отопительный»."""
    return "~" + lemma[:STEM]


def with_stems(lemmas: list[str]) -> list[str]:
    return lemmas + [stem(x) for x in lemmas if len(x) > STEM]


def _unit(scores: np.ndarray) -> np.ndarray:
    top = scores.max()
    return scores / top if top > 0 else scores


# -- personal data out of questions kept for staff ------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w+])(?:\+7|8)[\s(-]*\d{3,4}[\s)-]*\d{2,3}[\s-]*\d{2}[\s-]*\d{2}(?!\w)"  # +7 917 ...
                    r"|\(\d{3,5}\)\s*\d{1,3}[\s-]?\d{2}[\s-]?\d{2}(?!\w)"  # (8512) 24-50-22
                    r"|(?<![\w-])\d{2,3}-\d{2}-\d{2}(?![\w-])")  # 24-50-22
# passport, SNILS, account numbers: six digits or more; «ЖН-2026-000123» (an appeal number) stays
_DIGITS = re.compile(r"(?<![\w-])\d(?:[\s-]?\d){5,}(?![\w-])")
_FLAT = re.compile(r"(?i)\b(кв\.?|квартир[аеуы]?)\s*№?\s*\d+[а-я]?\b"
                   r"(?!\s*(?:°|%|градус|час|дн|день|раз|лет|год|мес|минут|тыс|руб|человек))")
_NAME = re.compile(r"(?i:(меня зовут|мо[её] имя|моя фамилия|с уважением,?))\s+"
                   r"([А-ЯЁA-Z][а-яёa-z-]+|[а-яё-]+)((?:\s+[А-ЯЁ][а-яё-]*\.?)|(?:\s*[А-ЯЁ]\.)){0,2}")


def redact(text: str) -> str:
    """The question without e-mail, phone numbers, long digit runs, flat numbers and names given."""
    text = _EMAIL.sub("[e-mail]", text)
    text = _PHONE.sub("[телефон]", text)
    text = _DIGITS.sub("[номер]", text)
    text = _FLAT.sub(lambda m: f"{m.group(1)} [номер]", text)
    return _NAME.sub(lambda m: f"{m.group(1)} [имя]", text)
