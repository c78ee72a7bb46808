"""Abuse screen for clause R-3.4 of the agency regulation and art. 11 p. 3 of Federal Law 59-FZ.

"Messages with insults, obscene language, or threats to staff's life and health"
(59-FZ: «нецензурные либо оскорбительные выражения, угрозы жизни, здоровью и имуществу
должностного лица, а также членов его семьи»).  ``screen(text)`` returns a :class:`Verdict`;
the screen only FLAGS an appeal for an official to decide, so it favours recall while
keeping everyday housing vocabulary clean (рубля, команда, страхуй, убыток, «подам в суд»).

Pipeline (data in services/abuse_lexicon.py, normalisation and pymorphy3 in
services/abuse_morph.py):
- мат: every token is read in a few *variants* (look-alikes, masks, separators, repeats)
  matched against anchored roots; letter-by-letter runs «х у й» are joined first;
- insults: lemmas.  Words that insult anywhere («дармоед», «мразь»); words that insult only
  when aimed («крысы канцелярские», «вы звери», «клоуны, а не инспекторы»); evaluative
  adjectives when they describe a person («тупые курицы», «вы тупые»), not a thing;
- threats: lemmas with person and tense.  1st person future of harming verbs unless the
  object is a thing («порежу ветки»), property verbs aimed at people or the office, body
  harm, «пожалеете», «я вам устрою», «доберусь до вас», weapons one will bring, «я знаю,
  где вы живёте», calls to kill, death wishes, plus fixed phrases («вам не жить»).
  Veiled threats are cleared by lawful pressure in the same sentence (суд, прокуратура,
  жалоба, СМИ, депутат): «вы пожалеете: иду в прокуратуру» is clean.

Policy (staff decide the debatable cases): coarse words that are not мат («хрен», «жопа»),
euphemisms («блин», «капец»), words about a situation («идиотизм», «идиотская ситуация»),
reported insults and threats («мастер обозвал меня дурой», «сосед грозит, что убьёт»)
and insults about oneself are clean; мат is flagged even when quoted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from services import abuse_lexicon as L
from services import abuse_morph as M
from services.abuse_common import unknown_insult
from services.abuse_rules import Rules


@dataclass(frozen=True)
class Verdict:
    flagged: bool
    category: str | None  # "obscene" | "insult" | "threat" | None
    fragment: str | None  # offending word/phrase as written (≤ FRAGMENT_MAX chars), None if clean


CLEAN = Verdict(False, None, None)
FRAGMENT_MAX = 200  # appeals.abuse_fragment is VARCHAR(200)
_PRIORITY = ("threat", "obscene", "insult")  # most serious reported first

_TOKEN = re.compile(r"[^\W_]+(?:[.\-_*#%@$!?]+[^\W_]+)*(?:[*#@]+|\.{2,})?|[*#]+[^\W_]+[^\W_*#]*")
_SENT_END = re.compile(r"[.!?…\n]")
_CLAUSE_END = re.compile(r"[.!?…\n,;:()«»\"]")
_DASH = re.compile(r"[—–]|\s-\s")
_MASK_RX = re.compile(r"[*#%@$!?]")
_URLISH = re.compile(r"@|://|www\.", re.I)
_VOCATIVE_AFTER = re.compile(r"\s*[,!—]")
_CLOSING_BEFORE = re.compile(r"[,—]\s*$")
_EMAIL_URL = re.compile(r"\S+@\S+\.\w+|https?://\S+|www\.\S+")
_ONE_LETTER_WORDS = frozenset("авиксуоя")
_MAX_MASKED_WORDS = 40  # masked words expanded per message


@cache
def _obscene_rx() -> tuple[re.Pattern, tuple[tuple[str, re.Pattern], ...]]:
    """(any root, roots by category), compiled on first use."""
    return (re.compile("|".join(f"(?:{p})" for _, p in L.OBSCENE)),
            tuple((cat, re.compile("|".join(f"(?:{p})" for c, p in L.OBSCENE if c == cat)))
                  for cat in ("obscene", "insult")))


_PLAIN = re.compile(r"[а-яё]+", re.I)
_SQUEEZE = re.compile(r"(.)\1+")


@lru_cache(maxsize=8192)
def _obscene(raw: str) -> str | None:
    """мат root in any reading of one word."""
    any_root, by_category = _obscene_rx()
    if _PLAIN.fullmatch(raw):  # the usual word: no mask, no look-alike; repeats collapsed
        low = raw.lower().replace("ё", "е")
        if not any_root.search(low) and not any_root.search(_SQUEEZE.sub(r"\1", low)):
            return None
    readings = M.variants(raw)
    if not any(any_root.search(v) for v in readings):
        return None
    cats = {cat for v in readings for cat, rx in by_category if rx.search(v)}
    return next((c for c in _PRIORITY if c in cats), None)


@dataclass(slots=True)
class _Tok:
    raw: str
    start: int
    end: int
    sent: int  # sentence index
    clause: int  # clause index (commas, colons, quotes split clauses; a dash does not)
    vocative: bool = False  # in a short (≤2 words) opening clause ending in ',', '!' or '—'
    closing: bool = False  # in a short (≤3 words) closing clause after a comma or dash
    dash: bool = False  # a dash stands before it («Ещё раз придёшь — зашибу»)
    norm: str = ""
    lex: tuple = ()
    classes: frozenset = frozenset()


def _tokenize(text: str) -> tuple[list[_Tok], dict[int, str]]:
    clean = _EMAIL_URL.sub(lambda m: " " * len(m.group()), text) if _URLISH.search(text) else text
    toks: list[_Tok] = []
    gaps: list[str] = []  # the text before each token
    ends: dict[int, str] = {}  # sentence -> punctuation after its last word
    sent = clause = 0
    prev_end = 0
    for m in _TOKEN.finditer(clean):
        start = m.start()
        gap = clean[prev_end:start]
        dotted = bool(toks) and toks[-1].raw.endswith(".")
        dash = False
        if not toks:
            clause += 1
        elif gap != " " or dotted:  # a single space (the usual gap) changes nothing
            if dotted or _SENT_END.search(gap):
                ends[sent] = gap
                sent += 1
            if dotted or _CLAUSE_END.search(gap):
                clause += 1
            dash = bool(_DASH.search(gap))
        toks.append(_Tok(m.group(), start, m.end(), sent, clause, dash=dash))
        gaps.append(gap)
        prev_end = m.end()
    ends[sent] = clean[prev_end:]
    gaps.append(ends[sent])
    members: dict[int, list[int]] = {}
    for i, t in enumerate(toks):
        members.setdefault(t.clause, []).append(i)
    for first, *rest in members.values():  # «Бараны, кто так чинит?», «..., крысы канцелярские.»
        last = rest[-1] if rest else first
        opening = first == 0 or toks[first - 1].sent != toks[first].sent
        closing_ = last == len(toks) - 1 or toks[last + 1].sent != toks[last].sent
        if opening and not rest[1:] and _VOCATIVE_AFTER.match(gaps[last + 1]):
            for k in (first, *rest):
                toks[k].vocative = True
        elif closing_ and not opening and len(rest) <= 2 and _CLOSING_BEFORE.search(gaps[first]):
            for k in (first, *rest):
                toks[k].closing = True
    return toks, ends


def _spelled_runs(text: str, toks: list[_Tok]):
    """Yield (i, j, word) for letter-by-letter runs like «х у й», «у б ь ю».

    Only the whole run is joined (sub-runs of «Д е б и л ы» would read «еби»),
    optionally without one-letter words around it («и у б ь ю»).
    """
    i = 0
    while i < len(toks):
        j = i
        while j < len(toks) and len(toks[j].raw) == 1 and (
                j == i or re.fullmatch(r"[\s.\-_]+", text[toks[j - 1].end:toks[j].start])):
            j += 1
        if j - i >= 3:
            a, b = i, j
            yield a, b - 1, "".join(t.raw for t in toks[a:b])
            while b - a > 3 and toks[a].raw.lower() in _ONE_LETTER_WORDS:
                a += 1
            while b - a > 3 and toks[b - 1].raw.lower() in _ONE_LETTER_WORDS:
                b -= 1
            if (a, b) != (i, j):
                yield a, b - 1, "".join(t.raw for t in toks[a:b])
        i = max(j, i + 1)


@lru_cache(maxsize=16384)
def _word(raw: str) -> tuple[str, tuple, frozenset]:
    """(normalised form, lexicon entries, their classes) of one token as written."""
    norm = M.primary(raw)
    lex = _lexicon(norm, raw)
    return norm, lex, frozenset(e[1] for e in lex)


def _lexicon(norm: str, raw: str) -> tuple:
    entries = M.lookup(norm)
    for other in M.readings(raw)[1:] if not entries else ():  # «Уbью»: b as б
        entries = M.lookup(other)
        if entries:
            break
    if "-" in raw:  # «руки-ноги», «сосед-алкоголик»
        for part in raw.split("-"):
            entries += M.lookup(M.primary(part))
    return entries


def screen(text: str) -> Verdict:
    """Screen one citizen message under R-3.4; the most serious finding is reported."""
    if not text or not text.strip():
        return CLEAN
    work, pos = M.clean(text)
    toks, ends = _tokenize(work)
    if not toks:
        return CLEAN
    masked = [i for i, t in enumerate(toks) if _MASK_RX.search(t.raw)]
    for i in masked[_MAX_MASKED_WORDS:]:  # bound the work on adversarial input
        toks[i].raw = re.sub(rf"[{re.escape(M.MASKS)}]", "", toks[i].raw)
    for t in toks:
        t.norm, t.lex, t.classes = _word(t.raw)
    hits: list[tuple[str, int, int]] = []  # (category, first token, last token)
    for i, t in enumerate(toks):
        cat = _obscene(t.raw)
        if cat:
            hits.append((cat, i, i))
    runs = list(_spelled_runs(work, toks))
    for a, b, word in runs:  # «х у й», «Д е б и л ы», «у б ь ю»
        cat = _obscene(word)
        norm = M.primary(word)
        lex = M.lookup(norm)
        if cat:
            hits.append((cat, a, b))
        elif any(e[1] == "insult" for e in lex) or unknown_insult(norm):
            hits.append(("insult", a, b))
        elif any(e[1] in ("kill", "burn") and "1per" in e[2] for e in lex):
            hits.append(("threat", a, b))
    rules = Rules(toks, ends)
    hits += rules.insults()
    hits += rules.threats()
    if not hits:
        return CLEAN
    cat, i, j = min(hits, key=lambda h: (_PRIORITY.index(h[0]), toks[h[1]].start))
    start, end = toks[i].start, toks[j].end
    if pos is not None:
        start, end = pos[start], pos[end - 1] + 1
    return Verdict(True, cat, _fragment(text[start:end]))


def cache_clear() -> None:
    """Forget per-word results (the loaded dictionaries stay): for cold-cache timing."""
    M.cache_clear()
    _word.cache_clear()
    _obscene.cache_clear()
    unknown_insult.cache_clear()


_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\ud800-\udfff]")


def _fragment(s: str) -> str:
    """The words as written, safe for a VARCHAR(200) column: no control characters,
    at most FRAGMENT_MAX characters, cut at a word boundary with an ellipsis."""
    s = _INVISIBLE.sub("", _UNSAFE.sub(" ", s)).strip()
    if len(s) <= FRAGMENT_MAX:
        return s
    cut = s[:FRAGMENT_MAX - 1]
    space = cut.rfind(" ")
    if space >= FRAGMENT_MAX // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:—-") + "…"

