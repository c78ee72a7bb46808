"""What the R-3.4 abuse screen's insult and threat rules share (services/abuse_rules.py,
services/abuse_threats.py): phrase patterns, word sets, small tests of a word."""
from __future__ import annotations

import re
from functools import cache, lru_cache
from types import SimpleNamespace

from services import abuse_lexicon as L
from services import abuse_morph as M


def phrases_rx(patterns) -> re.Pattern:
    return re.compile(r"(?<!\S)(?:" + "|".join(f"(?:{p})" for p in patterns) + r")(?!\S)")


@cache
def rx() -> SimpleNamespace:
    """The phrase patterns, compiled on first use (compiling them is most of the import cost)."""
    stems = {re.sub("[аеиоуыэюяьй]$", "", w.replace("ё", "е")) for w in L.INSULT}
    return SimpleNamespace(
        hard=phrases_rx(L.THREAT_PHRASES), body_harm=phrases_rx([L.BODY_HARM]),
        interjection=phrases_rx([L.INTERJECTIONS]), warning=phrases_rx(L.WARNING_PHRASES),
        insult_stems=re.compile("^(?:" + "|".join(sorted((s for s in stems if len(s) >= 4), key=len, reverse=True)) + ")"))


PREP = frozenset("в во на с со к ко по из от до у за над под при о об про для без через перед между".split())
MODAL = frozenset("надо нужно необходимо следует пора стоит бы мало".split())
SUBJECTS = frozenset("я мы вы ты он она оно они".split())
INSULTING = frozenset({"insult", "aimed", "insult_adj", "eval_adj", "eval_verb"})
PERSONS = frozenset({"staff", "people", "insult", "aimed", "family"})
CASES = frozenset("nomn gent datv accs ablt loct voct gen2 acc2 loc2".split())
NUMBERS = frozenset({"sing", "plur"})
GENDERS = frozenset({"masc", "femn", "neut"})
FROM = frozenset("из в во у от".split())
HIT_BY = frozenset("дать врезать вмазать настучать треснуть стукнуть ударить".split())  # «дам по башке»
PUZZLE = frozenset("сломать поломать ломать".split())  # «голову сломаю над квитанцией»
ABSTRACT = re.compile(r"(?:изм|ия|ии|ию|ией|ость|ости|остью)$")  # «олигофрения», «дебильность»


@lru_cache(maxsize=8192)
def unknown_insult(word: str) -> bool:
    """A word pymorphy3 does not know that begins like an insult: «дебилоиды», «идиотище»."""
    return (len(word) >= 5 and bool(rx().insult_stems.match(word)) and not ABSTRACT.search(word)
            and not M.known(word))


def future1(g: frozenset) -> bool:
    return "1per" in g and ("futr" in g or "pres" in g)
