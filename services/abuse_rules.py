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

from services import abuse_lexicon as L
from services import abuse_morph as M
from services.abuse_common import FROM, INSULTING, PERSONS, rx, unknown_insult
from services.abuse_threats import Threats


class Rules(Threats):
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
        idioms = {k for a, b in self.spans(rx().interjection) for k in range(a, b + 1)}
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
        if any(self.cls(k) & (INSULTING - {"aimed"}) for k in self.around(i, 2, 2)) or any(
                "staff" in self.cls(k) for k in self.around(i, 1, 1)):
            return True  # «тупые курицы», «козёл инспектор» (not «крысы и тараканы», «козлы для рабочих»)
        after = self.around(i, 0, 4, "sent")
        for k in after:
            if self.norm[k] in FROM and self.t[k].clause == t.clause and any(
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
            if self.cls(k) & PERSONS and any("NOUN" in e for e in self.grams(k, PERSONS)):
                return True
            if "NOUN" in g or "NPRO" in g:
                return "anim" in g and self.norm[k] not in ("я", "мы")
            if not ({"ADJF", "PRTF", "Apro"} & g or self.norm[k] == "и"):
                break
        if any(self.norm[k] in L.YOU_SUBJECT for k in self.around(i, 3, 2)):
            return True
        for k in (i - 1, i - 2):  # «овцы тупые», «бараны безрукие»
            if k >= 0 and self.t[k].clause == t.clause:
                if self.cls(k) & PERSONS:
                    return True
                g = self.top(k)
                if "NOUN" in g:
                    return "anim" in g
        return False
