"""Text normalisation and morphology for the R-3.4 abuse screen (services/abuse.py).

- :func:`clean` makes any input safe to scan: NUL and other control characters
  become spaces, zero-width and bidi marks are dropped, stress marks removed,
  and every kept character remembers its offset in the original text.
- :func:`variants` gives every reading of one token for the мат roots (ё→е,
  Latin and digit look-alikes, transliteration, masks «х*й» filled from the roots,
  separators «х.у.й» removed, repeated letters collapsed); :func:`primary` gives
  the one reading used for lemmas and phrases.
- :func:`lookup` finds a normalised word in the lexicon by its inflected forms:
  the forms come from pymorphy3 lexemes of the lemma lists, built once on first
  use, so the import stays cheap and a lookup is a dictionary hit.
  :func:`parse` (cached) gives all analyses of a word, for the few words whose
  case, person or animacy a rule needs.
"""
from __future__ import annotations

import itertools
import re
import threading
import unicodedata
from functools import lru_cache

from services import abuse_lexicon as L

# ------------------------------------------------------------ clean input
_ODD = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u0300-\u036f\u200b-\u200f\u2028-\u202e"
                  r"\u2060-\u2064\ufeff\ud800-\udfff]")


def clean(text: str) -> tuple[str, list[int] | None]:
    """(scan text, offset in `text` of each of its characters; None when they are the same)."""
    if not _ODD.search(text):
        return text, None
    out: list[str] = []
    pos: list[int] = []
    for i, ch in enumerate(text):
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Zl", "Zp"):  # NUL, controls, line separators
            ch = "\n" if ch in "\n\r\u2028\u2029\x0b\x0c" else " "
        elif cat in ("Cf", "Cs"):  # zero-width space/joiner, soft hyphen, bidi marks, BOM, lone surrogates
            continue
        elif cat == "Mn":  # «и́диот»: stress mark; «и»+breve composes to «й»
            if out:
                composed = unicodedata.normalize("NFC", out[-1] + ch)
                if len(composed) == 1:
                    out[-1] = composed
            continue
        out.append(ch)
        pos.append(i)
    return "".join(out), pos


# ------------------------------------------------------ token normalisation
_VISUAL = str.maketrans("AaBbCcEeHhKkMmOoPpTtXxYyuinr", "АаВьСсЕеНнКкМмОоРрТтХхУуиипг")
_PHONETIC = str.maketrans("abcdefghijklmnopqrstuvwxyz", "абцдефгхийклмнопкрстуввхыз")
_DIGITS = str.maketrans("03469", "озчбя")  # 0→о 3→з 4→ч 6→б 9→я
_DIGRAPHS = (("shch", "щ"), ("sch", "щ"), ("sh", "ш"), ("ch", "ч"), ("zh", "ж"), ("kh", "х"),
             ("ts", "ц"), ("ya", "я"), ("ja", "я"), ("yu", "ю"), ("ju", "ю"), ("yo", "е"),
             ("jo", "е"), ("ye", "е"))
MASKS = "*#%@$!?"
_FILLS: dict[int, tuple[str, ...]] = {
    n: tuple(sorted({c[i:i + n] for c in L.MASK_CORES for i in range(len(c) - n + 1)})) for n in range(1, 5)
}
_MAX_VARIANTS = 2000  # fills tried per masked word
_CYR = re.compile(r"[а-яё]", re.I)
_LAT = re.compile(r"[a-z]", re.I)


def _translit(word: str) -> str:
    w = word.lower()
    for lat, cyr in _DIGRAPHS:
        w = w.replace(lat, cyr)
    w = re.sub(r"(?<=[аеиоуыэюя])y|y$", "й", w)  # huy → хуй, but debily → дебилы
    return w.translate(_PHONETIC).replace("y", "ы")


def _scripts(s: str) -> list[str]:
    """Latin handling: visual look-alikes, plus phonetic/translit readings."""
    if not _LAT.search(s):
        return [s]
    if _CYR.search(s):
        return [s.translate(_VISUAL), s.lower().translate(_PHONETIC)]
    return [s.translate(_VISUAL), _translit(s)]


def _unmask(s: str) -> list[str]:
    """Fill «х*й», «бл**ь», «е..ть», «п@зд@» from the roots; '@'/'$' may also be а/с."""
    if not any(m in s for m in MASKS + "~"):
        return [s]
    s = s.lstrip(MASKS + "~")
    tail = re.search(r"[*#%!?$~]+$", s)
    tails: tuple[str, ...] = ("",)
    if tail:  # «на х**», «бл...»: a short stem continued into a root, else a footnote
        s = s[:tail.start()]
        if len(s) <= 4:
            tails += tuple(c[k:] for c in L.MASK_CORES for k in (1, 2, 3) if s.endswith(c[:k]) and c[k:])
    out = [s.replace("@", "а").replace("$", "с") + t for t in tails]
    runs = list(re.finditer(rf"[{re.escape(MASKS)}~]+", s))
    if not runs or len(runs) > 2 or not re.search(r"[а-я]", s):  # «п*з*д*а»-style noise: not expanded
        return out
    # a run of n masks hides n or n+1 letters; dots («е..ть») are looser: 1-4
    lengths = [range(1, 5) if "~" in r.group() else (len(r.group()), len(r.group()) + 1) for r in runs]
    choices = [sum((_FILLS.get(n, ()) for n in ns), ()) for ns in lengths]
    for combo in itertools.islice(itertools.product(*choices), _MAX_VARIANTS):
        pieces, last = [], 0
        for r, fill in zip(runs, combo):
            pieces += [s[last:r.start()], fill]
            last = r.end()
        out.extend("".join(pieces) + s[last:] + t for t in tails)
    return out


_PLAIN = re.compile(r"[а-яёА-ЯЁ]+")
_SQUEEZE = re.compile(r"(.)\1+")
_TRIPLES = re.compile(r"(.)\1{2,}")
_DOUBLE = re.compile(r"(.)\1")
_DOTS = re.compile(r"\.{2,}")
_SEPARATORS = re.compile(r"[.\-_]+")
_HAS_CYR = re.compile(r"[а-я]")
_MARKS = re.compile(r"[.\-_*#%@$!?]+")


@lru_cache(maxsize=8192)
def variants(raw: str) -> frozenset[str]:
    """All readings of one token; «бляяядь» → «блядь»."""
    if _PLAIN.fullmatch(raw):  # the usual word: one reading, and its repeats collapsed
        s = raw.lower().replace("ё", "е")
        return frozenset((s, _SQUEEZE.sub(r"\1", s)))
    raw = _DOTS.sub(lambda m: "~" * len(m.group()), raw)  # «е..ть», «х...»: dots as a mask
    parts = _SEPARATORS.split(raw)
    candidates = {"".join(parts), *(parts if len(parts) > 1 else ())}
    result: set[str] = set()
    for cand in candidates:
        for s in _scripts(cand):
            s = s.lower().replace("ё", "е")
            if _HAS_CYR.search(s):
                s = s.translate(_DIGITS)
            for v in _unmask(s):
                result.update((v, _SQUEEZE.sub(r"\1", v)))
    return frozenset(v for v in result if v)


@lru_cache(maxsize=8192)
def readings(raw: str) -> tuple[str, ...]:
    """Normalised readings of a token for lemmas and phrases, the likeliest first: separators
    dropped, ё→е; mixed scripts read as look-alikes, then phonetically («Уbью» → «убью»);
    all-Latin words transliterated first."""
    if _PLAIN.fullmatch(raw):
        return (raw.lower().replace("ё", "е"),)
    s = _MARKS.sub("", raw)
    found = _scripts(s)
    if not _CYR.search(s):
        found = found[::-1]
    out = []
    for r in found:
        r = r.lower().replace("ё", "е")
        r = r.translate(_DIGITS) if re.search(r"[а-я]", r) else r
        if r not in out:
            out.append(r)
    return tuple(out)


def primary(raw: str) -> str:
    """The likeliest normalised reading of a token."""
    return readings(raw)[0]


# ------------------------------------------------------------- morphology
_lock = threading.RLock()
_state: dict[str, object] = {}


def _analyser():
    m = _state.get("morph")
    if m is None:
        with _lock:
            m = _state.get("morph")
            if m is None:
                import pymorphy3  # lazy: the import and dictionaries cost ~0.1 s

                m = _state["morph"] = pymorphy3.MorphAnalyzer()
    return m


Entry = tuple[str, str, frozenset]  # (lemma, lexicon class, grammemes of this form)


def _build_index() -> dict[str, tuple[Entry, ...]]:
    m = _analyser()
    index: dict[str, list[Entry]] = {}

    def add(form: str, entry: Entry) -> None:
        bucket = index.setdefault(form.replace("ё", "е"), [])
        if entry not in bucket:
            bucket.append(entry)

    for cls, (pos, lemmas) in L.CLASSES.items():
        for lemma in lemmas:
            key = lemma.replace("ё", "е")
            found = False
            for p in m.parse(lemma):
                if p.normal_form.replace("ё", "е") == key and p.tag.POS in pos:
                    found = True
                    for f in p.lexeme:
                        add(f.word, (key, cls, frozenset(f.tag.grammemes)))
            if not found:  # not in the dictionary and not predictable: the lemma itself
                add(lemma, (key, cls, frozenset(pos)))
    for form, (lemma, cls, grams) in L.EXTRA_FORMS.items():
        add(form, (lemma, cls, frozenset(grams.split(","))))
    return {k: tuple(v) for k, v in index.items()}


def _index() -> dict[str, tuple[Entry, ...]]:
    idx = _state.get("index")
    if idx is None:
        with _lock:
            idx = _state.get("index")
            if idx is None:
                idx = _state["index"] = _build_index()
    return idx  # type: ignore[return-value]


def warm_up() -> None:
    """Load the analyser and the forms index now rather than on the first screen() call."""
    _index()


@lru_cache(maxsize=16384)
def known(word: str) -> bool:
    return bool(word) and _analyser().word_is_known(word)


@lru_cache(maxsize=16384)
def lookup(word: str) -> tuple[Entry, ...]:
    """Lexicon entries for a normalised word; repeated letters are collapsed when the word
    as written is neither in the lexicon nor a known word («идиооооты», «убьююю»)."""
    idx = _index()
    hit = idx.get(word)
    if hit or len(word) < 3:
        return hit or ()
    if not _DOUBLE.search(word):
        return ()
    for squeezed in (_TRIPLES.sub(r"\1", word), _SQUEEZE.sub(r"\1", word)):
        if squeezed != word and squeezed in idx and not known(word):
            return idx[squeezed]
    return ()


@lru_cache(maxsize=16384)
def parse(word: str) -> tuple[tuple[str, frozenset], ...]:
    """All analyses of a normalised word as (lemma, grammemes)."""
    if not word or not re.fullmatch(r"[а-я]+(?:-[а-я]+)*", word):
        return ()
    return tuple((p.normal_form.replace("ё", "е"), frozenset(p.tag.grammemes)) for p in _analyser().parse(word))


def cache_clear() -> None:
    """Forget per-word results (the analyser and index stay): for cold-cache timing."""
    for f in (variants, readings, known, lookup, parse):
        f.cache_clear()
