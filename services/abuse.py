"""Abuse screen for clause R-3.4 of the agency regulation.

"Messages with insults, obscene language, or threats to staff's life and
health are not considered on the merits."  ``screen(text)`` returns a
:class:`Verdict`; staff can override a false positive, so the screen favours
precision on everyday housing vocabulary (рубля, команда, страхуй, убыток...).

Pipeline: every word-token is normalised into a few *variants* (ё→е, Latin and
digit look-alikes, transliteration of all-Latin words, masks like «х*й» filled
from the obscene roots, separators «х.у.й» removed, repeated letters
collapsed) and each variant is matched against anchored root patterns.
Multi-word threats ("вам не жить", "голову оторву") are matched over the
normalised token stream.  Standard library only.

Deliberate policy (staff decide the debatable cases by override):
- «хрен», «хер», «охренеть», «говно», «жопа» are coarse but not мат: not flagged;
  euphemisms «блин», «пипец», «ёперный театр», «бляха-муха» are clean; «бляха»
  (badge, buckle) is clean;
- «идиотизм», «дурдом» describe a situation, not staff: clean;
- a reported insult («мастер обозвал меня дурой») or one about oneself is clean;
  мат is flagged even when quoted;
- a word with an internal mask («х*й») that can be filled into a root is flagged.
Limits: insults and threats are open vocabulary, so new wording («молитесь, чтобы
я вас не встретил», «гнилые вы люди») is missed; there is no syntax, only the
word-window cues below (вы/ваш nearby, vocative, staff nouns, 1st-person verbs).
"""
from __future__ import annotations

import itertools
import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Verdict:
    flagged: bool
    category: str | None  # "obscene" | "insult" | "threat" | None
    fragment: str | None  # offending word/phrase as written, None if clean


CLEAN = Verdict(False, None, None)
_PRIORITY = ("threat", "obscene", "insult")  # most serious reported first

# ---------------------------------------------------------------- data: мат
# Verbal prefixes that attach to the roots (за-, по-, на-, вы-, от-, раз-, съ-...); а- is
# the phonetic spelling of о- («ахуеть»).
_P = (r"(?:за|по|на|вы|от|ото|до|у|раз|рас|роз|об|обо|о|а|въ|вь|вз|подъ|подь|под|пере|при|про"
      r"|недо|ни|из|изъ|со|с)?")
# For the ёб root a bare с-/о-/а- prefix would hit «себе», «обеда»: only съ-/сь-.
_P_EB = _P.replace("|о|а|", "|").replace("|со|с)?", "|съ|сь)?")

# (category, pattern) matched against every reading of every word.
OBSCENE = (
    ("obscene", rf"^{_P}ху[йяеию]"),                     # хуй, нахуя, охуеть (not хуже, страхуй, хутор)
    ("obscene", r"^(?:на|по|ни)?ху(?:ли|ле)$"),           # хули (not хулиган)
    ("obscene", r"п[иеы]з[дж]"),                          # anywhere: спиздил, распиздяй, пиздёж
    ("obscene", r"^(?:вы|по|раз)?бля(?![хшм])|^бл[еэ]а[тд]ь$"),  # бля, блядь, блеать (not бляха, бляшка)
    ("obscene", rf"^{_P_EB}[ъь]?еб(?:а(?!й$)|[еиулнкыч]|о[кшл]|$)"),  # ебать, уёбки (not ебонит, eBay)
    ("obscene", r"(?:долб|мозг|дур|зл)о[ъь]?еб"),           # долбоёб
    ("obscene", r"^(?:за|на|по|от|вы|до|у|про)ип(?:а(?!ч)|ан|ну|у)|^еп(?:т|та)$"),  # заипали, ёпта
    ("obscene", r"^пзд|^нах$"),                            # пздц, «иди нах»
    ("obscene", r"^(?:от|за)?муд(?:ак|ач|ил|озвон|ох|ень)"),  # мудак, мудила (not мудрый, мудрят)
    ("obscene", r"^манд(?:а|ы|е|у|ой|ою|ам|ами|ах)?$|^мандав[оа]ш"),  # not мандат, мандарин, команда
    ("obscene", r"^с[цс]?ук(?:а|и|е|у|о|ой|ою|ам|ами|ах|ин|ина|ины)$"),  # not сук, сукно
    ("obscene", r"^сучар|^суч(?:ий|ьи|ьего|ьей|ьих|ьим)$"),  # not сучок/сучка, сучья (branches)
    ("obscene", r"^залуп|^г[ао]нд[ао]н"),
    ("insult", r"^пид[оа]р|^пидр|^педик(?:|и|ов|ам|ами|а|у|ом)$|^шлюх"),  # not скипидар, педикулёз
)

# ------------------------------------------------------------ data: insults
# Unambiguous insults: flagged wherever they stand, unless reported («обозвал меня
# дурой»), about oneself («я дура») or a surname mid-sentence («инспектором Козловым»).
INSULTS = (
    r"^идиот(?!изм)", r"^дебил", r"^кретин", r"^имбецил", r"^дегенерат", r"^олигофрен",
    r"^недоум(?:ок|ки|ка|ку|ком|ков|кам|ками|ках)$",         # not недоумение
    r"^придур(?:ок|к|ь|оч)", r"^тупиц", r"^тупо(?:рыл|голов|рог|мозг|лоб)", r"^безмозгл",
    r"^конч(?:е|ен)н?(?:ый|ая|ые|ое|ых|ым|ыми|ого|ому|ую)$", r"^даун(?:ы|ов|ам|ами)$",
    r"^урод(?:|а|у|ом|е|ы|ов|ам|ами|ах|ина|ины|ище|ища|ец|цы|цев)$",  # not уродливый
    r"^вырод(?:ок|ки|ка|ку|ком|ков|кам|ками)$", r"^недонос(?:ок|ки|ка)",
    r"^твар(?:ь|и|ей|ям|ями|ью|юга|ина|ины)$",
    r"^коз(?:ел|ла|лу|лом|ле|лов|лам|лами|лах|лина|лины)$",   # not козырёк; «козлы» below
    r"^мраз(?:ь|и|ей|ям|ями|ью|ота|оты|оте|оту|отой|ина|ины)$",
    r"^свол(?:очь|очи|очей|очам|очами|очью|ота|оты|отой)$",
    r"^скот(?:ы|ов|ам|ами|ский|ская|ские|ское|ских)$",        # not скотч; «скотина» below
    r"^подон(?:ок|ки|ка|ку|ком|ков|кам|ками)$", r"^ублюд", r"^ничтожеств",  # not ничтожный
    r"^гнид(?:а|ы|е|у|ой|ам|ами|ах)$", r"^быдл", r"^чмо$|^чмы$|^чмошн|^чмыр",
    r"^лох(?:|и|ов|ам|ами|а|у|ом)$", r"^дармоед", r"^бездельни[кц]", r"^бездар(?:ь|и|ей|ям|ями)$",
    r"^негодя[йиеюя]", r"^мерзав(?:ец|цы|цев|ца|цу|цем|цам|ка|ки)$", r"^подлец", r"^паскуд",
    r"^падл(?:а|ы|е|у|ой|о)$", r"^гад(?:|ы|ов|ам|ами|ина|ины|ине|ину|иной)$",
    r"^дур(?:а|ы|е|у|ой|ак|аки|ака|аку|аков|аком|акам|ачье|ында|ынды|ища|ищи|еха)$",  # not дурной
    r"^олух", r"^бестолоч", r"^говнюк", r"^засран[ец]", r"^ушлеп", r"^лентя(?:й|и|ев|ям|ями)$",
    r"^хамл(?:о|а|у|ом)$", r"^хамье$", r"^сброд$", r"^людишк", r"^отупе(?:ли|вш|л|ла)", r"^тунеядц",
    r"^болван(?:|а|у|ом|е|ы|ов|ам|ами|ах)$", r"^упыр(?:ь|и|ей|ям|ями)$",  # not болванка
)
# Insults only when aimed at someone (паразиты, крысы in a basement are pests; скотина is
# livestock; козлы are trestles): flagged when vocative («Бараны, ...»), near вы/ты/ваш in the
# same clause, next to a staff noun or another insult, or «... из УК».
ADDRESSED = (
    r"^паразит(?:|ы|ов|ам|ами)$", r"^свин(?:ья|ьи|ей|ьям|ьями|ота)$", r"^баран(?:|ы|ов|ам|ами)$",
    r"^шакал(?:|ы|ов|ам|ами)$", r"^клоун(?:|ы|ов|ам|ами)$", r"^крыс(?:а|ы|ам|ами)$",
    r"^куриц(?:а|ы|ам|ами)$", r"^овц(?:а|ы)$|^овец$", r"^стадо$", r"^обезьян(?:а|ы)$",
    r"^козлы$", r"^ос(?:ел|лы|лов|лам|ла)$", r"^шкур(?:а|ы)$", r"^скотин(?:а|ы|е|у|ой)$",
    r"^туп(?:ой|ая|ые|ое|ых|ым|ыми|ого|ому|ую)$", r"^убог(?:ие|ий|ая|их|ое|ими)$",
    r"^(?:криво|без)рук(?:ий|ая|ие|их|ого|ому|им|ими|ое|ую)$", r"^продажн(?:ые|ый|ая|ое|ых|ыми)$",
)
_ORG = r"^(?:ук|тсж|жэк|жэу|жск|управляющ|администрац|инспекц|служб|контор|водоканал)"
_STAFF = (r"^(?:сотрудни|инспектор|чиновни|начальни|диспетчер|директор|мастер|председател|бухгалтер"
          r"|служащ|госслужащ|руководител|специалист|слесар|сантехник|управля[йш]к|работник|рабоч)")
_YOU = r"^(?:вы|ты|ваш|ваша|ваше|ваши|вашего|вашей|вашим|вашу|твой|твоя|твои)$"
_QUOTING = r"^(?:обзыва|обозв|назва|назыв|оскорб|сказал|говорит|говорил|заявил)"

# ------------------------------------------------------------- data: threats
# First-person future of killing/maiming verbs (3rd person «убьёт током» is no threat).
THREAT_WORDS = frozenset("""
убью убьем убъю поубиваю поубиваем прибью прибьем пришибу зашибу зарежу зарежем прирежу прирежем
порежу порежем застрелю застрелим пристрелю пристрелим перестреляю перестреляем расстреляю
расстреляем задушу задушим придушу придушим удушу удавлю утоплю закопаю закопаем урою уроем
порешу порешим прикончу прикончим замочу замочим грохну грохнем зарублю заколю заколем пырну
покалечу искалечу изувечу изуродую изобью отметелю отравлю сожгу сожжем подожгу подожжем спалю
спалим подпалю подпалим взорву взорвем подорву подорвем задавлю раздавлю придавлю угроблю
четвертую расправлюсь расправимся
""".split())
# ...unless about time: «убью на это весь отпуск».
_FIGURATIVE = r"^(?:время|времени|день|дня|полдня|отпуск|вечер|неделю|выходные|нервы|годы|жизнь)$"
_BODY = (r"(?:голов\S*|башк\S*|бошк\S*|ноги|ногу|руки|руку|шею|шеи|кишки|язык|морд\S*|рож\S*|зуб\S*"
         r"|челюст\S*|хребет|глаз\S*|ребра|кости|колен\S*|горло|глотк\S*|уши)")
_HARM = (r"(?:оторву|поотрываю|сверну|переломаю|поломаю|проломлю|выпущу|вырву|повырываю|повыдергиваю"
         r"|набью|разобью|выбью|повыбиваю|пробью|размозжу|отрежу|перережу|выколю|перегрызу|порву"
         r"|пересчитаю|снесу|раскрою|отобью|откручу|скручу|отрублю|прострелю)")
_KILL = (r"(?:убить|убивать|стрелять|пристрелить|застрелить|расстрелять|расстреливать|перестрелять"
         r"|повесить|вешать|сжечь|задушить|душить|прибить|зарезать|резать|удавить|закопать)")
# Patterns over the normalised word stream ("ё"→"е", punctuation dropped).
THREAT_PHRASES = (
    r"(?:вам|тебе|вас|им) (?:всем )?не жить|не жить (?:вам|тебе)",           # вам не жить
    r"не дожив(?:ете|ешь)|ваш\S* (?:\S+ ){0,4}не доживет",                  # not «мама не доживёт»
    r"(?:вам|тебе) (?:\S+ )?жить осталось|жить (?:вам|тебе) (?:\S+ )?осталось",
    r"(?:вам|тебе) (?:всем )?(?:конец|хана|не поздоровится)",
    r"знаю где (?:ты|вы) живе(?:шь|те)|знаю (?:\S+ )?(?:ваш|твой) домашн\S* адрес|жди(?:те)? гостей",
    r"ходи(?:те)? и оглядывай\S*|оглядывайтесь по сторонам|из ?под земли достан(?:у|ем)",
    r"кровью (?:умоетесь|умоешься|харкать)|кровав\S* (?:баню|бойню|расправу)|варфоломеевск\S* ночь",
    r"красного петуха|(?:будете|будешь) гореть|(?:облью|оболью|обольем) (?:\S+ ){0,3}(?:бензином|кислотой)",
    r"(?:отправлю|отправим) (?:\S+ ){0,3}на тот свет",
    r"пул\S* в лоб|пущу пулю|(?:ждет|получите?|получишь) пул\S*",
    r"живым (?:\S+ ){0,3}не (?:выйдешь|уйдешь|выйдете|уйдете)",
    r"не (?:выйдешь|уйдешь|выйдете|уйдете) (?:\S+ ){0,3}живым",
    r"уничтож(?:у|им) (?:\S+ ){0,3}физически|физически (?:\S+ )?уничтож(?:у|им)",
    r"(?:вас|тебя|их|всех) (?:\S+ ){0,2}к стенке|к стенке (?:\S+ )?(?:вас|тебя|их|всех)",
    r"(?:перебь|перереж)(?:у|ю|ем) (?:\S+ ){0,2}(?:всех|вас|тебя)|(?:всех|вас|тебя) (?:\S+ )?перереж(?:у|ем)",
    r"размажу (?:\S+ ){0,2}по (?:стенке|стене|асфальту)|(?:повешу|вздерну) (?:вас|тебя|всех|его)",
    rf"{_KILL} бы (?:вас|тебя|их)",                                          # задушить бы вас
    rf"{_KILL} (?:бы )?(?:вас|тебя|их)(?: всех)? (?:мало|надо|нужно|бы)",     # убить вас мало
    rf"(?:вас|тебя|их) (?:всех )?(?:мало|надо|нужно|бы|следует|стоит) (?:бы )?{_KILL}",
    r"мало (?:вас|тебя|их) (?:\S+ )?(?:стреляли|били|вешали|душили|резали|убивали)",
    r"(?:чтоб|чтобы) (?:вы|ты) (?:все )?(?:сдохли|сдох|сдохла|подохли|сгорели|сгнили)",
    r"(?:сдох|подох)н(?:ете|ешь|ите|и)",
    r"(?:приду|приеду|придем|приедем|зайду|явлюсь) (?:\S+ ){0,4}с (?:ружьем|топором|ножом|битой|обрезом"
    r"|пистолетом|автоматом|канистрой|гранатой|стволом|арматурой)",
    r"(?:в асфальт|в бетон|в землю) (?:\S+ )?(?:закатаю|закатаем|зарою)|закатаю (?:\S+ ){0,2}в (?:асфальт|бетон)",
    r"пожалеете (?:\S+ )?что (?:\S+ ){0,3}родились",
)
# «голову оторву», «зубы выбью» — unless the clause is about oneself («я себе голову разобью»).
BODY_HARM = rf"{_HARM} (?:\S+ ){{0,3}}{_BODY}|{_BODY} (?:\S+ ){{0,3}}{_HARM}"
_SELF = r"^(?:себе|себя|сам|сама)$"

# ------------------------------------------------------ data: normalisation
_VISUAL = str.maketrans("AaBbCcEeHhKkMmOoPpTtXxYyuinr", "АаВьСсЕеНнКкМмОоРрТтХхУуиипг")
_PHONETIC = str.maketrans("abcdefghijklmnopqrstuvwxyz", "абцдефгхийклмнопкрстуввхыз")
_DIGITS = str.maketrans("03469", "озчбя")  # 0→о 3→з 4→ч 6→б 9→я
_DIGRAPHS = (("shch", "щ"), ("sch", "щ"), ("sh", "ш"), ("ch", "ч"), ("zh", "ж"), ("kh", "х"),
             ("ts", "ц"), ("ya", "я"), ("ja", "я"), ("yu", "ю"), ("ju", "ю"), ("yo", "е"),
             ("jo", "е"), ("ye", "е"))
_MASKS = "*#%@$!?"
# Mask fills: any piece (1-4 letters) of the roots people hide behind asterisks.
_CORES = ("хуй", "хуе", "хуя", "хую", "пизд", "пизж", "пизде", "бляд", "блят", "ебан", "ебат",
          "ебал", "ебу", "ебл", "ебн", "муда", "сука", "пидор", "пидар")
_FILLS: dict[int, tuple[str, ...]] = {
    n: tuple(sorted({c[i:i + n] for c in _CORES for i in range(len(c) - n + 1)})) for n in range(1, 5)
}
_MAX_VARIANTS = 2000  # fills tried per masked word
_MAX_MASKED_WORDS = 40  # masked words expanded per message
_ONE_LETTER_WORDS = frozenset("авиксуоя")

_TOKEN = re.compile(r"[^\W_]+(?:[.\-_*#%@$!?]+[^\W_]+)*(?:[*#@]+|\.{2,})?|[*#]+[^\W_]+[^\W_*#]*")
_EMAIL_URL = re.compile(r"\S+@\S+\.\w+|https?://\S+|www\.\S+")
_CYR = re.compile(r"[а-яё]", re.I)
_LAT = re.compile(r"[a-z]", re.I)


def _compile(patterns):
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_OBSCENE_RX = tuple((cat, _compile(p for c, p in OBSCENE if c == cat)) for cat in ("obscene", "insult"))
_INSULT_RX = _compile(INSULTS)
_ADDRESSED_RX = _compile(ADDRESSED)
_STAFF_RX, _YOU_RX, _QUOTING_RX = re.compile(_STAFF), re.compile(_YOU), re.compile(_QUOTING)
_ORG_RX, _FIGURATIVE_RX = re.compile(_ORG), re.compile(_FIGURATIVE)
_PHRASE_RX = tuple((re.compile(rf"(?<!\S)(?:{p})(?!\S)"), None) for p in THREAT_PHRASES) + (
    (re.compile(rf"(?<!\S)(?:{BODY_HARM})(?!\S)"), re.compile(_SELF)),)


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
    if not any(m in s for m in _MASKS + "~"):
        return [s]
    s = s.lstrip(_MASKS + "~")
    tail = re.search(r"[*#%!?$~]+$", s)
    tails: tuple[str, ...] = ("",)
    if tail:  # «на х**», «бл...»: a short stem continued into a root, else a footnote
        s = s[:tail.start()]
        if len(s) <= 4:
            tails += tuple(c[k:] for c in _CORES for k in (1, 2, 3) if s.endswith(c[:k]) and c[k:])
    out = [s.replace("@", "а").replace("$", "с") + t for t in tails]
    runs = list(re.finditer(rf"[{re.escape(_MASKS)}~]+", s))
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


@lru_cache(maxsize=4096)
def _variants(raw: str, collapse_doubles: bool = True) -> frozenset[str]:
    """All readings of one token; «бляяядь» → «блядь» (doubles too, unless told not to:
    «поддонки» must not read «подонки» for the insult lists)."""
    raw = re.sub(r"\.{2,}", lambda m: "~" * len(m.group()), raw)  # «е..ть», «х...»: dots as a mask
    parts = re.split(r"[.\-_]+", raw)
    candidates = {"".join(parts), *(parts if len(parts) > 1 else ())}
    squeeze = r"(.)\1+" if collapse_doubles else r"(.)\1\1+"
    result: set[str] = set()
    for cand in candidates:
        for s in _scripts(cand):
            s = s.lower().replace("ё", "е")
            if re.search(r"[а-я]", s):
                s = s.translate(_DIGITS)
            for v in _unmask(s):
                result.update((v, re.sub(squeeze, r"\1", v)))
    return frozenset(v for v in result if v)


def _primary(raw: str) -> str:
    """One normalised reading of a token, for multi-word patterns."""
    s = re.sub(r"[.\-_]+", "", raw)
    s = _scripts(s)[0].lower().replace("ё", "е")
    return s.translate(_DIGITS) if re.search(r"[а-я]", s) else s


# ------------------------------------------------------------------ screen
@dataclass
class _Tok:
    raw: str
    start: int
    end: int
    sent: int  # sentence index
    clause: int  # clause index (commas, colons, quotes split clauses; a dash does not)
    vocative: bool = False  # in a short (≤2 words) opening clause ending in ',', '!' or '—'


def _tokenize(text: str) -> list[_Tok]:
    clean = _EMAIL_URL.sub(lambda m: " " * len(m.group()), text)
    toks: list[_Tok] = []
    sent = clause = 0
    prev_end = 0
    for m in _TOKEN.finditer(clean):
        gap = clean[prev_end:m.start()]
        if re.search(r"[.!?…\n]", gap) or (toks and toks[-1].raw.endswith(".")):
            sent += 1
        if re.search(r"[.!?…\n,;:()«»\"]", gap) or not toks or toks[-1].raw.endswith("."):
            clause += 1
        toks.append(_Tok(m.group(), m.start(), m.end(), sent, clause))
        prev_end = m.end()
    members: dict[int, list[int]] = {}
    for i, t in enumerate(toks):
        members.setdefault(t.clause, []).append(i)
    for first, *rest in members.values():  # «Бараны, кто так чинит?», «Свиньи вы, а не служба.»
        opening = first == 0 or toks[first - 1].sent != toks[first].sent
        last = rest[-1] if rest else first
        if opening and not rest[1:] and re.match(r"\s*[,!—]", clean[toks[last].end:]):
            for k in (first, *rest):
                toks[k].vocative = True
    return toks


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


def _word_category(variants: frozenset[str]) -> str | None:
    """Threat verb or мат root in any reading of one word (threat > obscene > insult)."""
    if not variants.isdisjoint(THREAT_WORDS):
        return "threat"
    cats = {cat for v in variants for cat, rx in _OBSCENE_RX if rx.search(v)}
    return next((c for c in _PRIORITY if c in cats), None)


def screen(text: str) -> Verdict:
    """Screen one citizen message under R-3.4; the most serious finding is reported."""
    if not text or not text.strip():
        return CLEAN
    toks = _tokenize(text)
    raws = [t.raw for t in toks]
    masked = [i for i, r in enumerate(raws) if any(m in r for m in _MASKS)]
    for i in masked[_MAX_MASKED_WORDS:]:  # bound the work on adversarial input
        raws[i] = re.sub(rf"[{re.escape(_MASKS)}]", "", raws[i])
    norm = [_primary(r) for r in raws]
    hits: list[tuple[str, int, int]] = []  # (category, start, end) in the original text

    def excused(i: int) -> bool:  # «обозвал меня дурой», «я дура», «инспектором Козловым»
        t, prev = toks[i], toks[i - 1] if i else None
        surname = (prev is not None and prev.sent == t.sent and t.raw[:1].isupper() and not t.raw.isupper()
                   and re.search(r"(?:ов|ев|ин)(?:а|у|ым|ой)?$", norm[i]) is not None)
        return surname or norm[i - 1:i] in (["я"], ["сам"], ["сама"]) or any(
            toks[k].sent == t.sent and _QUOTING_RX.search(norm[k]) for k in range(max(0, i - 4), i))

    def addressed(i: int) -> bool:
        t = toks[i]
        near = [k for k in range(max(0, i - 3), min(len(toks), i + 4)) if k != i and toks[k].clause == t.clause]
        return (t.vocative
                or any(_YOU_RX.search(norm[k]) for k in near)
                or any(abs(k - i) == 1 and _STAFF_RX.search(norm[k]) for k in near)
                or any(abs(k - i) <= 2 and (_INSULT_RX.search(norm[k]) or _ADDRESSED_RX.search(norm[k]))
                       for k in near)
                or (norm[i + 1:i + 2] == ["из"] and bool(_ORG_RX.search("".join(norm[i + 2:i + 3])))))

    for i, t in enumerate(toks):
        cat = _word_category(_variants(raws[i]))
        if cat == "threat" and any(_FIGURATIVE_RX.search(n) for n in norm[i + 1:i + 5]):
            cat = None
        if not cat and not excused(i):
            strict = _variants(raws[i], collapse_doubles=False)
            if any(_INSULT_RX.search(v) for v in strict) or (
                    any(_ADDRESSED_RX.search(v) for v in strict) and addressed(i)):
                cat = "insult"
        if cat:
            hits.append((cat, t.start, t.end))

    for a, b, word in _spelled_runs(text, toks):  # «х у й», «Д е б и л ы»
        vs = _variants(word)
        cat = _word_category(vs) or ("insult" if any(_INSULT_RX.search(v) for v in vs) else None)
        if cat:
            hits.append((cat, toks[a].start, toks[b].end))

    offsets = list(itertools.accumulate((len(n) + 1 for n in norm[:-1]), initial=0))
    stream = " ".join(norm)
    for rx, unless in _PHRASE_RX:
        for m in rx.finditer(stream):
            i, j = bisect_right(offsets, m.start()) - 1, bisect_right(offsets, m.end() - 1) - 1
            clauses = {toks[k].clause for k in range(i, j + 1)}
            if unless and any(tok.clause in clauses and unless.search(n) for tok, n in zip(toks, norm)):
                continue
            hits.append(("threat", toks[i].start, toks[j].end))

    if not hits:
        return CLEAN
    cat, start, end = min(hits, key=lambda h: (_PRIORITY.index(h[0]), h[1]))
    return Verdict(True, cat, text[start:end])
