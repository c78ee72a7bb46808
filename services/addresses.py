"""Checks for what a citizen types as an e-mail address, a phone number or a free text.

E-mail: `email-validator` (syntax only, no DNS: check_deliverability=False). One mailbox
and nothing else: a comma or a display name in the To header of our letter would give
the SMTP server extra recipients. Local parts must be ASCII, since SMTPUTF8 support at
the agency's mail server is not assumed; IDN domains (почта.рф) are fine and come back
both as typed (normalised) and in ASCII (punycode) for the SMTP envelope.

Phone: `phonenumbers` (the lite build, without geocoding and carrier data). It holds
the Russian numbering plan, so it tells Russia from Kazakhstan (both +7), refuses
unallocated codes and knows the premium-rate and shared-cost ranges (8-809, 8-803)
that a callback would charge the agency for; a regex would know none of this.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import PhoneNumberType

EMAIL_REASONS = ("invalid", "several", "display_name")


@dataclass(frozen=True)
class EmailCheck:
    ok: bool
    address: str | None = None        # normalised: domain lowercased, in Unicode (почта.рф)
    ascii_address: str | None = None  # the same with the domain in punycode, for SMTP
    reason: str | None = None         # None when ok, else one of EMAIL_REASONS


def parse_email(text: str) -> EmailCheck:
    """Exactly one bare mailbox, `user@domain`; see EMAIL_REASONS for refusals."""
    s = unicodedata.normalize("NFC", text or "").strip()
    if not s:
        return EmailCheck(False, reason="invalid")
    if "," in s or ";" in s:
        return EmailCheck(False, reason="several")
    if "<" in s or ">" in s:
        return EmailCheck(False, reason="display_name")
    words = s.split()
    if len(words) > 1:
        mailboxes = [w for w in words if "@" in w]
        if len(mailboxes) > 1:
            return EmailCheck(False, reason="several")
        if len(mailboxes) == 1 and _validate(mailboxes[0]) is not None:
            return EmailCheck(False, reason="display_name")  # «Иван Петров ivan@mail.ru»
        return EmailCheck(False, reason="invalid")
    valid = _validate(s)
    if valid is None:
        return EmailCheck(False, reason="invalid")
    return EmailCheck(True, valid.normalized, valid.ascii_email)


def _validate(s: str):
    try:
        return validate_email(
            s, check_deliverability=False, allow_smtputf8=False, allow_quoted_local=False,
            allow_domain_literal=False, allow_display_name=False, allow_empty_local=False,
            globally_deliverable=True, strict=True)  # strict: local part at most 64 octets
    except EmailNotValidError:
        return None


NATIONAL_TLDS = {"ru", "su", "рф", "xn--p1ai"}


def national_domain(address: str) -> bool:
    """True when the address (or a bare domain) is in .ru, .рф or .su.

    59-FZ art. 7 part 3, as amended by 547-FZ of 28.12.2024: the e-mail address for the
    answer to an electronic appeal must be in the Russian national domain zone.
    """
    domain = unicodedata.normalize("NFC", address or "").strip().rpartition("@")[2].rstrip(".").casefold()
    head, dot, tld = domain.rpartition(".")
    return bool(dot and head) and tld in NATIONAL_TLDS


NAME_RE = re.compile(r"^[A-Za-zА-Яа-яЁё][A-Za-zА-Яа-яЁё'’.\-]*(\s+[A-Za-zА-Яа-яЁё][A-Za-zА-Яа-яЁё'’.\-]*){1,4}$")
NAME_MAX = 200


def parse_name(text: str) -> tuple[str | None, str]:
    """A full name (two to five words of letters), spaces tidied, or None and why not:
    "too_long", "one_word" (letters, but the first name or the surname is missing), "invalid"."""
    name = " ".join((text or "").split())
    if len(name) > NAME_MAX:
        return None, "too_long"
    if NAME_RE.match(name):
        return name, ""
    one_word = len(name.split()) == 1 and NAME_RE.match(f"{name} {name}")
    return None, "one_word" if one_word else "invalid"


PHONE_CHARS = re.compile(r"\+?[0-9 ()\-.]+")
DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2212"})
PHONE_TYPES = {PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE,
               PhoneNumberType.TOLL_FREE, PhoneNumberType.VOIP}


def parse_phone(text: str) -> str | None:
    """A Russian number as +7XXXXXXXXXX, or None.

    Takes 8 (8512) 22-33-44, +7 917 123-45-67, 79171234567, 917 123 45 67; refuses letters,
    extensions, foreign numbers (Kazakhstan's +7 6xx/7xx too) and paid-call ranges.
    """
    s = unicodedata.normalize("NFKC", text or "").translate(DASHES).strip()
    if not s or len(s) > 32 or not PHONE_CHARS.fullmatch(s):
        return None
    digits = re.sub(r"\D", "", s)
    if s.startswith("+"):
        if len(digits) != 11 or digits[0] != "7":
            return None
    elif not (len(digits) == 10 or (len(digits) == 11 and digits[0] in "78")):
        return None
    try:
        number = phonenumbers.parse(s, "RU")
    except phonenumbers.NumberParseException:
        return None
    if (phonenumbers.region_code_for_number(number) != "RU" or not phonenumbers.is_valid_number(number)
            or phonenumbers.number_type(number) not in PHONE_TYPES):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)



def phone_text(number: str | None) -> str:
    """A stored +7XXXXXXXXXX number as people read it: +7 917 123-45-67."""
    try:
        parsed = phonenumbers.parse(number or "", "RU")
    except phonenumbers.NumberParseException:
        return number or ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


ZWJ = "\u200d"
TAG_CHARS = range(0xE0020, 0xE0080)  # emoji subdivision flags (Scotland, Wales) after U+1F3F4


def clean_text(text: str, limit: int) -> tuple[str, bool]:
    """The text without controls and invisible format characters, NFC, at most `limit`
    characters; the bool is True when the text was cut to the limit.

    Kept: \\n, \\t, every letter, sign and emoji, including the joiner inside emoji
    sequences (family, rainbow flag) and the tag characters of subdivision flags. Removed: NUL and
    other controls, lone surrogates, bidi overrides and marks (U+202A–U+202E, U+2066–U+2069, U+200E/F),
    zero-width spaces and joiners between letters, soft hyphens, BOM.
    """
    if limit < 0:
        raise ValueError("limit must not be negative")
    s = (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    if s.replace("\n", "").replace("\t", "").isprintable():  # no control or format character at all: the usual case
        return _cut(unicodedata.normalize("NFC", s), limit)
    kept = []
    for i, c in enumerate(s):
        if c in "\n\t":
            kept.append(c)
            continue
        cat = unicodedata.category(c)
        if cat in ("Cc", "Cs"):  # a lone surrogate (half a character) cannot even be stored
            continue
        if cat == "Cf" and not _joins_emoji(s, i):
            continue
        kept.append(c)
    return _cut(unicodedata.normalize("NFC", "".join(kept)), limit)


def _cut(s: str, limit: int) -> tuple[str, bool]:
    if len(s) <= limit:
        return s, False
    return s[:limit].rstrip(ZWJ), True


def _joins_emoji(s: str, i: int) -> bool:
    c, before = s[i], s[i - 1] if i else ""
    if ord(c) in TAG_CHARS:
        return before == "\U0001f3f4" or (bool(before) and ord(before) in TAG_CHARS)
    if c == ZWJ:
        after = s[i + 1] if i + 1 < len(s) else ""
        return _emoji_like(before) and _emoji_like(after)
    return False


def _emoji_like(c: str) -> bool:
    return bool(c) and (c == "\ufe0f" or unicodedata.category(c) in ("So", "Sk"))
