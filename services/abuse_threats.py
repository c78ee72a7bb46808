"""Threat rules of the R-3.4 abuse screen (59-FZ art. 11 p. 3): a mixin of services/abuse_rules.py
`Rules`, over the same lemmatised tokens (future first-person verbs of harm and their objects,
calls to kill, threatening phrases; lawful pressure in the same sentence clears a soft one)."""
from __future__ import annotations

from services import abuse_lexicon as L
from services import abuse_morph as M
from services.abuse_common import CASES, GENDERS, HIT_BY, MODAL, NUMBERS, PERSONS, PREP, PUZZLE, SUBJECTS, future1, rx


class Threats:
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
            if (w in SUBJECTS or w in L.SELF or w in PREP or not parses or {"PREP", "CONJ"} & parses[0]
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
            if c & PERSONS or "anim" in nouns[0]:  # the likeliest reading decides
                return "person"
            return "thing"

        here = self.t[i].clause
        prep = False
        for k in range(i + 1, min(self.n, i + 6)):
            if self.t[k].clause != here:
                break
            if self.norm[k] in PREP:
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
            after_prep = any(self.norm[j] in PREP for j in (k - 1, k - 2) if j >= 0)
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
                if p & CASES == q & CASES and p & NUMBERS == q & NUMBERS and (
                        "plur" in p or p & GENDERS == q & GENDERS):
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
            hit_by = bool(self.lemmas(i, "maim") & HIT_BY)
            for k in self.around(i, 4, 4):
                if "body" not in self.cls(k):
                    continue
                if hit_by and norm[k - 1] != "по" and norm[k - 2] != "по":
                    continue
                if self.lemmas(i, "maim") <= PUZZLE and self.lemmas(k, "body") == {"голова"} and not any(
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
        if "know" in c and any(future1(g) for g in self.grams(i, {"know"})):
            sent = self.sentence(i)
            where = [k for k in self.around(i, 0, 3, "sent") if norm[k] in L.WHERE]
            if where and any("life" in self.cls(k) for k in sent if k > where[0]) and any(
                    norm[k] in L.YOU for k in sent):
                hard.append((i, where[0]))  # «я знаю, где вы живёте»
                return
        if "weapon" in c:
            sent = self.sentence(i)
            if any(any(future1(g) for g in self.grams(k, {"arm"})) for k in sent) or any(
                    norm[k] == "у" and norm[k + 1:k + 2] == ["меня"] for k in sent) or any(
                    norm[k] in ("ждите", "готовьтесь") for k in sent):
                hard.append((i, i))  # «приду с ружьём», «у меня есть нож», «топор наточил, ждите»
                return
        if "hospital" in c:
            near = self.around(i, 5, 5)
            if any(any("VERB" in g and "2per" in g and "futr" in g for _, g in M.parse(norm[k])[:1])
                   or norm[k] in ("будешь", "будете") for k in near) or any(
                    any(future1(g) for g in self.grams(k, {"send"})) for k in near):
                hard.append((i, i))  # «будешь в реанимации лежать», «уйдёшь на костылях»
                return
        if c & {"kill", "kill_soft", "burn"}:
            self._call_to_kill(i, hard)

    def _call_to_kill(self, i: int, hard: list) -> None:
        """«убивать вас надо», «расстреливать таких, как вы», «мало вас стреляли»."""
        grams = self.grams(i, {"kill", "kill_soft", "burn"})
        sent = self.sentence(i)
        modal = any(self.norm[k] in MODAL for k in sent)
        if any("INFN" in g for g in grams) and (modal or i == sent[0]) and self.object(i) in ("you", "person"):
            hard.append((i, i))
        elif any("past" in g and "VERB" in g for g in grams) and any(
                self.norm[k] in ("мало", "жаль") for k in sent) and any(
                self.norm[k] in L.YOU_OBJECT or self.norm[k] == "таких" for k in sent):
            hard.append((i, i))

    def _phrases(self, hard: list, soft: list) -> None:
        hard.extend(self.spans(rx().hard))
        for a, b in self.spans(rx().body_harm):
            clauses = {self.t[k].clause for k in range(a, b + 1)}
            if not any(t.clause in clauses and t.norm in ("себе", "себя", "сам", "сама") for t in self.t):
                hard.append((a, b))
        soft.extend(self.spans(rx().warning))
        norm = self.norm
        for k in range(self.n - 1):  # «вы у меня попляшете», «ты у меня кровью умоешься»
            if norm[k] == "у" and norm[k + 1] == "меня" and any(
                    "VERB" in g and "2per" in g and "futr" in g
                    for j in range(k + 2, min(self.n, k + 6)) for _, g in M.parse(norm[j])[:1]):
                soft.append((k, k + 1))
