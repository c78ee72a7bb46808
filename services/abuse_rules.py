"""Insult and threat rules of the R-3.4 abuse screen (59-FZ art. 11 p. 3) over lemmatised tokens.

Each token (see services/abuse.py) carries its normalised form ``norm``, its lexicon
entries ``lex`` (lemma, class, grammemes of the form) and their ``classes``; the rules
look at person, tense, case and animacy, and at the clause and sentence around a word.
``M.parse`` (full pymorphy3 analysis, cached) is only called for the few words next to
a candidate, so a long clean message costs dictionary look-ups only.
"""
from __future__ import annotations

import itertools
import re
from bisect import bisect_right
from functools import cache, lru_cache
from types import SimpleNamespace

from services import abuse_lexicon as L
from services import abuse_morph as M


def _phrases_rx(patterns) -> re.Pattern:
    return re.compile(r"(?<!\S)(?:" + "|".join(f"(?:{p})" for p in patterns) + r")(?!\S)")


@cache
def _rx() -> SimpleNamespace:
    """The phrase patterns, compiled on first use (compiling them is most of the import cost)."""
    stems = {re.sub("[аеиоуыэюяьй]$", "", w.replace("ё", "е")) for w in L.INSULT}
    return SimpleNamespace(
        hard=_phrases_rx(L.THREAT_PHRASES), body_harm=_phrases_rx([L.BODY_HARM]),
        interjection=_phrases_rx([L.INTERJECTIONS]), warning=_phrases_rx(L.WARNING_PHRASES),
        insult_stems=re.compile("^(?:" + "|".join(sorted((s for s in stems if len(s) >= 4), key=len, reverse=True)) + ")"))


_PREP = frozenset("в во на с со к ко по из от до у за над под при о об про для без через перед между".split())
_MODAL = frozenset("надо нужно необходимо следует пора стоит бы мало".split())
_SUBJECTS = frozenset("я мы вы ты он она оно они".split())
_INSULTING = frozenset({"insult", "aimed", "insult_adj", "eval_adj", "eval_verb"})
_PERSONS = frozenset({"staff", "people", "insult", "aimed", "family"})
_CASES = frozenset("nomn gent datv accs ablt loct voct gen2 acc2 loc2".split())
_NUMBERS = frozenset({"sing", "plur"})
_GENDERS = frozenset({"masc", "femn", "neut"})
_FROM = frozenset("из в во у от".split())
_HIT_BY = frozenset("дать врезать вмазать настучать треснуть стукнуть ударить".split())  # «дам по башке»
_PUZZLE = frozenset("сломать поломать ломать".split())  # «голову сломаю над квитанцией»
_ABSTRACT = re.compile(r"(?:изм|ия|ии|ию|ией|ость|ости|остью)$")  # «олигофрения», «дебильность»


@lru_cache(maxsize=8192)
def unknown_insult(word: str) -> bool:
    """A word pymorphy3 does not know that begins like an insult: «дебилоиды», «идиотище»."""
    return (len(word) >= 5 and bool(_rx().insult_stems.match(word)) and not _ABSTRACT.search(word)
            and not M.known(word))


def _future1(g: frozenset) -> bool:
    return "1per" in g and ("futr" in g or "pres" in g)


class Rules:
    def __init__(self, toks, ends: dict[int, str]):
        self.t = toks
        self.n = len(toks)
        self.norm = [t.norm for t in toks]
        self.ends = ends
        self.legal = {t.sent for t in toks if "legal" in t.classes}
        self._addressing: dict[int, bool] = {}
        self.stream = " ".join(self.norm)  # the normalised word stream for phrases
        self.offsets = list(itertools.accumulate((len(n) + 1 for n in self.norm[:-1]), initial=0))
        self.sents: dict[int, list[int]] = {}
        for k, t in enumerate(toks):
            self.sents.setdefault(t.sent, []).append(k)

    # ------------------------------------------------------------ helpers
    def cls(self, k: int) -> frozenset:
        return self.t[k].classes if 0 <= k < self.n else frozenset()

    def grams(self, k: int, classes) -> list[frozenset]:
        return [e[2] for e in self.t[k].lex if e[1] in classes]

    def lemmas(self, k: int, cls: str) -> set[str]:
        return {e[0] for e in self.t[k].lex if e[1] == cls}

    def around(self, i: int, before: int, after: int, unit: str = "clause") -> list[int]:
        here = getattr(self.t[i], unit)
        return [k for k in range(max(0, i - before), min(self.n, i + after + 1))
                if k != i and getattr(self.t[k], unit) == here]

    def sentence(self, i: int) -> list[int]:
        return self.sents[self.t[i].sent]

    def spans(self, rx: re.Pattern) -> list[tuple[int, int]]:
        """(first, last) token of each match of a phrase over the normalised word stream."""
        return [(bisect_right(self.offsets, m.start()) - 1, bisect_right(self.offsets, m.end() - 1) - 1)
                for m in rx.finditer(self.stream)]

    def top(self, k: int) -> frozenset:
        parses = M.parse(self.norm[k])
        return parses[0][1] if parses else frozenset()

    def you_verb(self, k: int) -> bool:
        g = self.top(k)
        return "VERB" in g and ("2per" in g or ("impr" in g and "excl" in g))

    def addressing(self, s: int) -> bool:
        """The sentence speaks to someone: вы/ты/ваш, a 2nd-person verb, or ends in ?/!."""
        if s not in self._addressing:
            ks = self.sents[s]
            self._addressing[s] = ("?" in self.ends.get(s, "") or "!" in self.ends.get(s, "")
                                   or any(self.norm[k] in L.YOU or self.you_verb(k) for k in ks))
        return self._addressing[s]

    def reported(self, i: int) -> bool:
        """«обозвал меня дурой», «кричит, что всех закопает»: someone else's words."""
        for k in range(i - 1, max(-1, i - 9), -1):
            if self.t[k].sent != self.t[i].sent:
                break
            grams = self.grams(k, {"quote"})
            if grams and any("3per" in g or "past" in g or "GRND" in g for g in grams) and not any(
                    self.norm[j] in L.YOU_SUBJECT or self.norm[j] in ("я", "мы")
                    for j in (k - 1, k - 2) if j >= 0 and self.t[j].sent == self.t[i].sent):
                return True
        return False

    # ------------------------------------------------------------ insults
    def insults(self) -> list[tuple[str, int, int]]:
        hits = []
        idioms = {k for a, b in self.spans(_rx().interjection) for k in range(a, b + 1)}
        for i, t in enumerate(self.t):
            c = t.classes
            if i in idioms:  # «ёшкин кот», «ёлки-палки»
                continue
            if "insult" in c or (not t.lex and unknown_insult(t.norm)):
                kind = "insult"
            elif "insult_adj" in c:
                kind = "insult_adj"
            elif "aimed" in c:
                kind = "aimed"
            elif "eval_adj" in c or any("PRTF" in g for g in self.grams(i, {"eval_verb"})):
                kind = "eval"
            elif "insult_verb" in c and self.addressing(t.sent):
                kind = "insult"  # «вы что там, совсем отупели?»
            else:
                continue
            if self.excused(i):
                continue
            if (kind == "insult" or (kind == "insult_adj" and not self.situation(i))
                    or (kind == "aimed" and self.aimed(i)) or (kind == "eval" and self.describes_person(i))):
                hits.append(("insult", i, i))
        return hits

    def excused(self, i: int) -> bool:
        """A surname («инспектором Козловым»), oneself («я, дура, поверила»), or reported."""
        t, norm = self.t[i], self.norm
        if (i and self.t[i - 1].sent == t.sent and t.raw[:1].isupper() and not t.raw.isupper()
                and (re.search(r"(?:ов|ев|ин)(?:а|у|ым|ой)?$", t.norm)
                     or any({"Surn", "Name", "Patr"} & g for _, g in M.parse(t.norm)))):
            return True
        for k in range(i - 1, max(-1, i - 4), -1):
            if self.t[k].sent != t.sent or norm[k] in L.YOU:
                break
            if norm[k] in ("я", "мы", "себя", "себе", "сам", "сама", "сами") and (
                    k == i - 1 or "как" in norm[k + 1:i] or norm[k] in ("себя", "себе")):
                return True
        if i >= 2 and norm[i - 1] == "за" and norm[i - 2] in ("меня", "нас"):  # «вы меня за идиота держите»
            return True
        return self.reported(i)

    def situation(self, i: int) -> bool:
        return any("situation" in self.cls(k) for k in self.around(i, 0, 2))

    def aimed(self, i: int) -> bool:
        """«Бараны, ...», «крысы канцелярские» closing a sentence to вы, «вы звери»,
        «козёл ваш инспектор», «тупые курицы», «балбесы из ЖЭКа», «клоуны, а не инспекторы»."""
        t = self.t[i]
        if (t.vocative or t.closing) and (self.addressing(t.sent) or self.calls(i)):
            return True
        if any(self.norm[k] in L.YOU for k in self.around(i, 3, 3)):
            return True
        if any(self.cls(k) & (_INSULTING - {"aimed"}) for k in self.around(i, 2, 2)) or any(
                "staff" in self.cls(k) for k in self.around(i, 1, 1)):
            return True  # «тупые курицы», «козёл инспектор» (not «крысы и тараканы», «козлы для рабочих»)
        after = self.around(i, 0, 4, "sent")
        for k in after:
            if self.norm[k] in _FROM and self.t[k].clause == t.clause and any(
                    "org" in self.cls(j) for j in range(k + 1, k + 4) if j in after):
                return True
            if self.norm[k] == "а" and k + 1 in after and self.norm[k + 1] == "не" and any(
                    self.cls(j) & {"staff", "org", "people"} for j in (k + 2, k + 3) if j < self.n):
                return True
        return any(self.you_verb(k) for k in self.around(i, 4, 4))

    def calls(self, i: int) -> bool:
        """A vocative followed by what they did, not by a list: «Скоты, оставили стариков…»
        («Крысы, тараканы и плесень — …» is a list)."""
        k = i + 1
        while k < self.n and self.t[k].clause == self.t[i].clause:
            k += 1
        return k < self.n and self.t[k].sent == self.t[i].sent and "NOUN" not in self.top(k)

    def describes_person(self, i: int) -> bool:
        """An evaluative adjective about a person («тупые курицы», «вы тупые»), not a thing."""
        t = self.t[i]
        if (t.vocative or t.closing) and (self.addressing(t.sent) or self.calls(i)):
            return True
        for k in self.around(i, 0, 4):  # the noun it goes with, over other adjectives
            if self.norm[k] in L.YOU_SUBJECT:  # «гнилые вы люди»
                return True
            g = self.top(k)
            if self.cls(k) & _PERSONS and any("NOUN" in e for e in self.grams(k, _PERSONS)):
                return True
            if "NOUN" in g or "NPRO" in g:
                return "anim" in g and self.norm[k] not in ("я", "мы")
            if not ({"ADJF", "PRTF", "Apro"} & g or self.norm[k] == "и"):
                break
        if any(self.norm[k] in L.YOU_SUBJECT for k in self.around(i, 3, 2)):
            return True
        for k in (i - 1, i - 2):  # «овцы тупые», «бараны безрукие»
            if k >= 0 and self.t[k].clause == t.clause:
                if self.cls(k) & _PERSONS:
                    return True
                g = self.top(k)
                if "NOUN" in g:
                    return "anim" in g
        return False

    # ------------------------------------------------------------ threats
    def threats(self) -> list[tuple[str, int, int]]:
        hard: list[tuple[int, int]] = []
        soft: list[tuple[int, int]] = []  # cleared by lawful pressure in the same sentence
        for i, t in enumerate(self.t):
            if t.lex:
                self._verb_rules(i, hard, soft)
        self._phrases(hard, soft)
        out = [("threat", a, b) for a, b in hard if not self.reported(a)]
        out += [("threat", a, b) for a, b in soft if self.t[a].sent not in self.legal and not self.reported(a)]
        return out

    def _first_future(self, i: int, classes, present: bool = True) -> bool:
        for g in self.grams(i, classes):
            if "VERB" in g and "1per" in g and ("futr" in g or (present and "pres" in g)):
                return True
            if "INFN" in g and any(self.norm[k] in ("буду", "будем") for k in self.around(i, 2, 1)):
                return True
        return False

    def _self(self, i: int) -> bool:
        return any(self.norm[k] in ("себе", "себя") for k in self.around(i, 5, 5))

    def object(self, i: int) -> str | None:
        """What a verb acts on: "you", "person", "body", "property", "thing", or None."""
        def kind(k: int, after_prep: bool) -> str | None:
            w = self.norm[k]
            if w in L.YOU_OBJECT:
                return None if after_prep else "you"
            if w in L.THIRD_PERSONS or w == "таких":
                return None if after_prep else "person"
            c = self.cls(k)
            parses = [g for _, g in M.parse(w)]
            if (w in _SUBJECTS or w in L.SELF or w in _PREP or not parses or {"PREP", "CONJ"} & parses[0]
                    or self.determiner(k) or not any("NOUN" in g or "NPRO" in g for g in parses[:2])):
                return None  # «этого слесаря», «вашего», adverbs: look further
            if not M.known(w):  # garbage or a typo tells nothing
                return None
            named = self.t[k].raw[:1].isupper()
            nouns = [g for g in parses if ("NOUN" in g or "NPRO" in g) and {"accs", "gent", "datv"} & g
                     and (named or not {"Name", "Surn", "Patr"} & g)]
            if not nouns:
                return None
            if after_prep:
                return "skip"
            if "body" in c:
                return "body"
            if c & {"property", "org"}:
                return "property"
            if c & _PERSONS or "anim" in nouns[0]:  # the likeliest reading decides
                return "person"
            return "thing"

        here = self.t[i].clause
        prep = False
        for k in range(i + 1, min(self.n, i + 6)):
            if self.t[k].clause != here:
                break
            if self.norm[k] in _PREP:
                prep = True
                continue
            found = kind(k, prep)
            if found == "skip":
                prep = False
            elif found:
                return found
        for k in range(i - 1, max(-1, i - 5), -1):
            if self.t[k].clause != here or self.t[k + 1].dash:  # «Не починишь батарею — закопаю»
                break
            after_prep = any(self.norm[j] in _PREP for j in (k - 1, k - 2) if j >= 0)
            found = kind(k, after_prep)
            if found and found != "skip":
                return found
        return None

    def theirs(self, i: int) -> bool:
        """The clause names the staff's property: «взорву газ в вашем здании», «в офисе УК»."""
        for k in self.around(i, 6, 6):
            if self.cls(k) & {"property", "org"} and (
                    any(self.norm[j] in L.YOU for j in (k - 1, k - 2) if j >= 0)
                    or self.cls(k + 1) & {"org", "staff"} or "org" in self.cls(k)):
                return True
        return False

    def determiner(self, k: int) -> bool:
        """«этого» in «этого слесаря» (agrees with the next word), not «это» in «на это весь отпуск»."""
        dets = [g for _, g in M.parse(self.norm[k]) if "Apro" in g]
        if not dets or k + 1 >= self.n or self.t[k + 1].clause != self.t[k].clause:
            return False
        for q in (g for _, g in M.parse(self.norm[k + 1]) if {"NOUN", "ADJF", "PRTF"} & g):
            for p in dets:
                if p & _CASES == q & _CASES and p & _NUMBERS == q & _NUMBERS and (
                        "plur" in p or p & _GENDERS == q & _GENDERS):
                    return True
        return False

    def _verb_rules(self, i: int, hard: list, soft: list) -> None:
        c, norm = self.t[i].classes, self.norm
        if c & {"kill", "kill_soft"} and self._first_future(i, {"kill", "kill_soft"}, False) and not self._self(i):
            if self.object(i) not in ("thing",):
                (soft if "kill" not in c else hard).append((i, i))
                return
        if "kill" in c and any("VERB" in g and "futr" in g and "3per" in g for g in self.grams(i, {"kill"})):
            if self.object(i) == "you":  # «ребята приедут и закопают вас»
                hard.append((i, i))
                return
        if "burn" in c and self._first_future(i, {"burn"}, False) and not self._self(i):
            obj = self.object(i)
            if obj in ("you", "person", "property", None) or (obj == "thing" and self.theirs(i)):
                hard.append((i, i))
                return
        if "maim" in c and self._first_future(i, {"maim"}) and not self._self(i):
            hit_by = bool(self.lemmas(i, "maim") & _HIT_BY)
            for k in self.around(i, 4, 4):
                if "body" not in self.cls(k):
                    continue
                if hit_by and norm[k - 1] != "по" and norm[k - 2] != "по":
                    continue
                if self.lemmas(i, "maim") <= _PUZZLE and self.lemmas(k, "body") == {"голова"} and not any(
                        norm[j] in L.YOU_OBJECT or norm[j] in ("ему", "ей", "им") for j in self.around(i, 4, 4)):
                    continue
                hard.append((min(i, k), max(i, k)))
                return
        if "warn_you" in c and any("VERB" in g and "2per" in g for g in self.grams(i, {"warn_you"})):
            soft.append((i, i))  # «пожалеете», «попляшете», «поплатитесь»
            return
        if "die" in c and any("VERB" in g and (("impr" in g and "incl" not in g) or "2per" in g)
                              for g in self.grams(i, {"die"})):
            hard.append((i, i))  # «сдохни», «сдохнете»
            return
        if "retaliate" in c and self._first_future(i, {"retaliate"}):
            lemmas = self.lemmas(i, "retaliate")
            near = self.around(i, 3, 4)
            if "устроить" in lemmas and any(norm[k] in ("вам", "тебе") for k in near):
                soft.append((i, i))  # «я вам устрою»
                return
            if "добраться" in lemmas:
                for k in self.around(i, 0, 3):
                    if norm[k] == "до" and any(
                            norm[j] in L.YOU_OBJECT or norm[j] in L.THIRD_PERSONS or "staff" in self.cls(j)
                            for j in range(k + 1, min(self.n, k + 5))):
                        soft.append((i, i))  # «доберусь до вас», «до каждого из вас»
                        return
            if lemmas & {"отомстить", "проучить"}:
                soft.append((i, i))
                return
            if lemmas & {"найти", "достать"} and self.object(i) == "you":
                soft.append((i, i))  # «я вас найду»
                return
        if "know" in c and any(_future1(g) for g in self.grams(i, {"know"})):
            sent = self.sentence(i)
            where = [k for k in self.around(i, 0, 3, "sent") if norm[k] in L.WHERE]
            if where and any("life" in self.cls(k) for k in sent if k > where[0]) and any(
                    norm[k] in L.YOU for k in sent):
                hard.append((i, where[0]))  # «я знаю, где вы живёте»
                return
        if "weapon" in c:
            sent = self.sentence(i)
            if any(any(_future1(g) for g in self.grams(k, {"arm"})) for k in sent) or any(
                    norm[k] == "у" and norm[k + 1:k + 2] == ["меня"] for k in sent) or any(
                    norm[k] in ("ждите", "готовьтесь") for k in sent):
                hard.append((i, i))  # «приду с ружьём», «у меня есть нож», «топор наточил, ждите»
                return
        if "hospital" in c:
            near = self.around(i, 5, 5)
            if any(any("VERB" in g and "2per" in g and "futr" in g for _, g in M.parse(norm[k])[:1])
                   or norm[k] in ("будешь", "будете") for k in near) or any(
                    any(_future1(g) for g in self.grams(k, {"send"})) for k in near):
                hard.append((i, i))  # «будешь в реанимации лежать», «уйдёшь на костылях»
                return
        if c & {"kill", "kill_soft", "burn"}:
            self._call_to_kill(i, hard)

    def _call_to_kill(self, i: int, hard: list) -> None:
        """«убивать вас надо», «расстреливать таких, как вы», «мало вас стреляли»."""
        grams = self.grams(i, {"kill", "kill_soft", "burn"})
        sent = self.sentence(i)
        modal = any(self.norm[k] in _MODAL for k in sent)
        if any("INFN" in g for g in grams) and (modal or i == sent[0]) and self.object(i) in ("you", "person"):
            hard.append((i, i))
        elif any("past" in g and "VERB" in g for g in grams) and any(
                self.norm[k] in ("мало", "жаль") for k in sent) and any(
                self.norm[k] in L.YOU_OBJECT or self.norm[k] == "таких" for k in sent):
            hard.append((i, i))

    def _phrases(self, hard: list, soft: list) -> None:
        hard.extend(self.spans(_rx().hard))
        for a, b in self.spans(_rx().body_harm):
            clauses = {self.t[k].clause for k in range(a, b + 1)}
            if not any(t.clause in clauses and t.norm in ("себе", "себя", "сам", "сама") for t in self.t):
                hard.append((a, b))
        soft.extend(self.spans(_rx().warning))
        norm = self.norm
        for k in range(self.n - 1):  # «вы у меня попляшете», «ты у меня кровью умоешься»
            if norm[k] == "у" and norm[k + 1] == "меня" and any(
                    "VERB" in g and "2per" in g and "futr" in g
                    for j in range(k + 2, min(self.n, k + 6)) for _, g in M.parse(norm[j])[:1]):
                soft.append((k, k + 1))

