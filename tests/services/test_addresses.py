"""services/addresses.py: one e-mail mailbox, the national domain zone, Russian phones, clean text."""
from __future__ import annotations

import pytest

from services.addresses import EmailCheck, clean_text, national_domain, parse_email, parse_phone

# --- e-mail ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, address, ascii_address", [
    ("ivan.petrov@mail.ru", "ivan.petrov@mail.ru", "ivan.petrov@mail.ru"),
    ("  Ivan@Yandex.RU \n", "Ivan@yandex.ru", "Ivan@yandex.ru"),
    ("ivan+zhkh@example.ru", "ivan+zhkh@example.ru", "ivan+zhkh@example.ru"),
    ("ivan@почта.рф", "ivan@почта.рф", "ivan@xn--80a1acny.xn--p1ai"),
    ("ivan@ПОЧТА.РФ", "ivan@почта.рф", "ivan@xn--80a1acny.xn--p1ai"),
    ("ivan@xn--80a1acny.xn--p1ai", "ivan@почта.рф", "ivan@xn--80a1acny.xn--p1ai"),
])
def test_one_mailbox_is_accepted_and_normalised(text, address, ascii_address):
    assert parse_email(text) == EmailCheck(True, address, ascii_address, None)


@pytest.mark.parametrize("text", [
    "victim@example.ru,attacker@evil.com",   # the To header would carry a second recipient
    "victim@example.ru, attacker@evil.com",
    "victim@example.ru;attacker@evil.com",
    "victim@example.ru attacker@evil.com",
    "victim@example.ru\r\nBcc: attacker@evil.com",  # header injection
])
def test_several_addresses_are_refused(text):
    """Only the citizen's own mailbox may become a recipient of the agency's letter."""
    assert parse_email(text) == EmailCheck(False, reason="several")


@pytest.mark.parametrize("text", ["Иван <ivan@mail.ru>", '"Иван Петров" <ivan@mail.ru>', "<ivan@mail.ru>",
                                  "Иван Петров ivan@mail.ru", "ivan@mail.ru (Иван)"])
def test_display_names_are_refused(text):
    assert parse_email(text).reason == "display_name"


@pytest.mark.parametrize("text", [
    "", "   ", "ivan", "ivan@", "@mail.ru", "ivan@mail", "ivan@@mail.ru", "ivan @mail.ru",
    '"ivan"@mail.ru', '"iv an"@mail.ru', "ivan..p@mail.ru", "ivan@[127.0.0.1]", "ivan@localhost",
    "ivan@mail.test", "iv\x00an@mail.ru", "ivan@ma\u202eil.ru",
    "иван@почта.рф",  # a Cyrillic local part needs SMTPUTF8, which the agency's server may lack
    "a" * 65 + "@mail.ru",
])
def test_malformed_addresses_are_invalid(text):
    assert parse_email(text) == EmailCheck(False, reason="invalid")


@pytest.mark.parametrize("address, national", [
    ("ivan@mail.ru", True), ("ivan@MAIL.RU", True), ("ivan@почта.рф", True), ("ivan@xn--80a1acny.xn--p1ai", True),
    ("ivan@ПОЧТА.РФ", True), ("ivan@mail.su", True), ("ivan@mail.ru.", True), ("почта.рф", True),
    ("ivan@gmail.com", False), ("ivan@ru.com", False), ("ivan@mail.sru", False), ("ivan@mail.kz", False),
    ("ivan@ru", False), ("", False), ("ivan@", False),
])
def test_national_domain(address, national):
    """59-FZ art. 7 part 3 (as amended by 547-FZ): the answer goes to an address in the Russian national domain zone."""
    assert national_domain(address) is national


def test_a_parsed_address_feeds_the_national_domain_check():
    """59-FZ art. 7 (as amended by 547-FZ): national domain, for the normalised and the punycode form alike."""
    check = parse_email("ivan@ПОЧТА.РФ")
    assert national_domain(check.address) and national_domain(check.ascii_address)
    assert not national_domain(parse_email("ivan@gmail.com").address)


# --- phones ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, phone", [
    ("8 (8512) 22-33-44", "+78512223344"),
    ("8 (851) 222-33-44", "+78512223344"),
    ("+7 851 222 33 44", "+78512223344"),
    ("78512223344", "+78512223344"),
    ("8-8512-22-33-44", "+78512223344"),
    ("+7 (917) 123-45-67", "+79171234567"),
    ("89171234567", "+79171234567"),
    ("917 123 45 67", "+79171234567"),
    ("+7\u00a0917\u00a0123\u201345\u201367", "+79171234567"),  # no-break spaces, en dashes
    ("+7 (495) 123-45-67", "+74951234567"),
    ("8 800 100-00-00", "+78001000000"),
])
def test_russian_numbers_are_normalised(text, phone):
    assert parse_phone(text) == phone


@pytest.mark.parametrize("text", [
    "", "222-33-44", "+7917123456", "+791712345678", "8917123456789", "8 10 7 917 123 45 67",
    "+7 (701) 123-45-67",  # Kazakhstan shares +7
    "+7 727 123 4567",     # Almaty
    "+375 29 123-45-67", "+44 20 7946 0958", "+8 917 123 45 67",
    "8 809 505-00-00",     # premium rate: a callback would cost the agency
    "+7 000 000 00 00", "8 917 123 45 67 доб. 5", "8 917 CALL ME", "тел. 89171234567", "+7+9171234567",
])
def test_other_numbers_are_refused(text):
    assert parse_phone(text) is None


# --- free text ---------------------------------------------------------------------------

def test_controls_go_newlines_and_tabs_stay():
    assert clean_text("a\x00b\x07c\x1b[31md\x7f\x85e", 100) == ("abc[31mde", False)
    assert clean_text("крыш\udcd0", 100) == ("крыш", False), "half a character (a cut line) is dropped"
    assert clean_text("строка 1\r\nстрока 2\rстрока 3\tконец", 100) == ("строка 1\nстрока 2\nстрока 3\tконец", False)


def test_bidi_overrides_and_zero_width_characters_that_disguise_words_go():
    assert clean_text("счёт\u202eпереплата\u202c", 100) == ("счётпереплата", False)
    assert clean_text("\u2066изолят\u2069 \u200eметки\u200f \u061c", 100) == ("изолят метки ", False)
    assert clean_text("ду\u200bра\u200cк \u2060у\ufeffп\u00adр\u200dа\u180eв", 100) == ("дурак управ", False)


def test_russian_and_emoji_stay():
    text = "Спасибо! 👍🏽 🇷🇺 👨\u200d👩\u200d👧 🏳\ufe0f\u200d🌈 ❤\ufe0f\u200d🔥 1\ufe0f\u20e3 🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    assert clean_text(text, 1000) == (text, False)


def test_text_is_nfc_normalised():
    assert clean_text("е\u0308лка и\u0306", 100) == ("ёлка й", False)


def test_cut_to_the_limit_says_so():
    assert clean_text("абвгд", 5) == ("абвгд", False)
    assert clean_text("абвгде", 5) == ("абвгд", True)
    assert clean_text("ab\u200b\u200bcd", 4) == ("abcd", False)  # the limit counts what is kept
    assert clean_text("👨\u200d👩", 2) == ("👨", True)            # no dangling joiner
    assert clean_text("", 0) == ("", False)
    with pytest.raises(ValueError):
        clean_text("x", -1)
