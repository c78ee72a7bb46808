"""What a citizen's file really is, judged by its content, and a safe name for it.

The content decides, never the declared MIME type or the name: both come from the
citizen's device and can say anything. `detect` gives a verdict with the type found
and a safe extension, or a reason code (REASONS).

Library: `filetype` (pure Python, no dependencies, reads only the first 8 KiB).
It answers with one type and uses the same MIME names as ALLOWED_FILE_TYPES.
`puremagic` was the other candidate: its maintained 2.x line needs Python 3.12, and
1.x ranks several guesses by confidence (a plain zip came out as docx, ELF had no MIME
type), so every answer would need second-guessing. `filetype` covers JPEG, PNG, WebP,
PDF and executables here; the formats it reads too loosely or not at all are checked
in this module: zip containers by their central directory (docx, odt), old Word by
its OLE2 stream name, RTF, HEIC by its ftyp brands, and plain text.
"""
from __future__ import annotations

import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Collection
from dataclasses import dataclass

import filetype

JPEG, PNG, WEBP, HEIC = "image/jpeg", "image/png", "image/webp", "image/heic"
PDF, TEXT, RTF = "application/pdf", "text/plain", "application/rtf"
DOC = "application/msword"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"

# Found in content, never allowed: told apart so a log says what was refused.
SCRIPT = "text/x-shellscript"
MACHO = "application/x-mach-binary"
ZIP = "application/zip"
OLE2 = "application/x-ole-storage"
DOCM = "application/vnd.ms-word.document.macroenabled.12"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
HEIF, AVIF = "image/heif", "image/avif"

REASONS = ("type_mismatch", "not_allowed", "empty", "too_big")

# The extension a stored file gets, and the ones its name may already have.
SAFE_EXTENSION = {JPEG: "jpg", PNG: "png", WEBP: "webp", HEIC: "heic", PDF: "pdf", TEXT: "txt",
                  DOC: "doc", DOCX: "docx", ODT: "odt", RTF: "rtf"}
NAME_EXTENSIONS = {JPEG: {"jpg", "jpeg", "jpe", "jfif"}, HEIC: {"heic", "heif"}}
# What a name's extension claims, for telling a lie ("type_mismatch") from a refusal.
EXTENSION_CLAIMS = {ext: mime for mime, ext in SAFE_EXTENSION.items()} | {"jpeg": JPEG, "jpe": JPEG, "heif": HEIC}
MIME_ALIASES = {"image/jpg": JPEG, "image/pjpeg": JPEG, "text/rtf": RTF, "application/x-rtf": RTF}
GENERIC_MIME = {"", "application/octet-stream", "binary/octet-stream"}

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
WORD_STREAM = "WordDocument".encode("utf-16-le")  # the stream every Word 97-2003 file has
MACHO_MAGIC = {b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe"}
HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
BOM = b"\xef\xbb\xbf"
# C0 and C1 controls other than tab, newlines, vertical tab and form feed.
TEXT_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class FileVerdict:
    ok: bool
    mime: str | None        # the type found in the content; None if unrecognised, empty or too big
    name: str               # clean_name() of the given name; with the safe extension when ok
    extension: str | None   # safe extension without the dot when ok, else None
    reason: str | None      # None when ok, else one of REASONS


def detect(data: bytes, declared_mime: str, file_name: str, *,
           allowed: Collection[str], max_bytes: int) -> FileVerdict:
    """Judge a file by its content. `allowed` is a set of MIME types (Settings.allowed_mime)."""
    name = clean_name(file_name)
    if not data:
        return FileVerdict(False, None, name, None, "empty")
    if len(data) > max_bytes:
        return FileVerdict(False, None, name, None, "too_big")
    allowed = {_norm_mime(m) for m in allowed}
    declared = _norm_mime(declared_mime)
    stem, ext = split_extension(name)
    real = sniff(data)
    if real == TEXT and not (declared == TEXT or (declared in GENERIC_MIME and ext.lower() == "txt")):
        real = None  # text counts as text only when the citizen sent it as text
    if real is not None and real in allowed:
        safe = SAFE_EXTENSION.get(real) or _library_extension(real)
        if ext.lower() not in NAME_EXTENSIONS.get(real, {safe}):
            name = clean_name(f"{stem}.{safe}")
        return FileVerdict(True, real, name, safe, None)
    claims_allowed = declared in allowed or EXTENSION_CLAIMS.get(ext.lower()) in allowed
    return FileVerdict(False, real, name, None, "type_mismatch" if claims_allowed else "not_allowed")


def sniff(data: bytes) -> str | None:
    """The MIME type the content shows, or None. Plain text comes out as text/plain."""
    head = data[:16]
    if head.startswith(b"#!") or head.startswith(BOM + b"#!"):
        return SCRIPT
    if head[:4] in MACHO_MAGIC:
        return MACHO
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(data)
    if head.startswith(OLE2_MAGIC):
        return DOC if WORD_STREAM in data else OLE2
    if head.startswith(b"{\\rtf"):
        return RTF
    if data[4:8] == b"ftyp":
        kind = _bmff_kind(data)
        if kind:
            return kind
    guess = filetype.guess(data)  # JPEG, PNG, WebP, PDF, PE ("MZ"), ELF and the rest
    if guess is not None:
        return guess.mime
    return TEXT if _is_text(data) else None


def _zip_kind(data: bytes) -> str:
    """docx, odt or another zip, from the central directory; only a tiny `mimetype` is read."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = {n.lower() for n in zf.namelist()}
            if "mimetype" in names:
                info = zf.getinfo("mimetype")
                if info.file_size <= 100:
                    with zf.open(info) as f:
                        value = f.read(101).decode("ascii", "replace").strip()
                    if value.startswith("application/vnd.oasis.opendocument."):
                        return value
            if "[content_types].xml" in names:
                if "word/vbaproject.bin" in names:
                    return DOCM
                for prefix, mime in (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX)):
                    if any(n.startswith(prefix) for n in names):
                        return mime
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, RuntimeError, NotImplementedError):
        pass  # broken, encrypted or unusual: not a document we take
    return ZIP


def _bmff_kind(data: bytes) -> str | None:
    """HEIC/HEIF/AVIF from the ftyp box brands; None leaves other ISO media to the library."""
    size = int.from_bytes(data[:4], "big")
    major = data[8:12]
    box = data[16:min(max(size, 16), 512, len(data))]
    brands = {box[i:i + 4] for i in range(0, len(box) - 3, 4)}
    if major in HEIC_BRANDS:
        return HEIC
    if major in (b"mif1", b"msf1"):
        if brands & HEIC_BRANDS:
            return HEIC
        return AVIF if brands & {b"avif", b"avis"} else HEIF
    if major in (b"avif", b"avis"):
        return AVIF
    return None


def _is_text(data: bytes) -> bool:
    """UTF-8 (BOM or not) or cp1251 text with no NUL and no control characters."""
    if b"\x00" in data:
        return False
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1251")
        except UnicodeDecodeError:
            return False
    return TEXT_CONTROLS.search(text) is None


def _library_extension(mime: str) -> str:
    kind = filetype.get_type(mime=mime)
    return kind.extension if kind else "bin"


def _norm_mime(mime: str | None) -> str:
    value = (mime or "").split(";", 1)[0].strip().lower()
    return MIME_ALIASES.get(value, value)


# --- names ---------------------------------------------------------------------------

NAME_LIMIT = 120
RESERVED = re.compile(r'[<>:"/\\|?*]')
DEVICE_NAMES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def clean_name(name: str, fallback: str = "файл") -> str:
    """A file name safe to store, show and save on Windows or Unix; never empty."""
    chars = []
    for c in unicodedata.normalize("NFC", name or ""):
        cat = unicodedata.category(c)
        if c.isspace():
            chars.append(" ")
        elif cat not in ("Cc", "Cf"):  # controls, NUL, bidi overrides, zero-width characters
            chars.append(c)
    s = "".join(chars).replace("\\", "/").rsplit("/", 1)[-1]  # path parts go
    s = re.sub(r"^[A-Za-z]:", "", s)  # a drive letter: "C:y.pdf"
    s = RESERVED.sub("", s)
    s = re.sub(r"\s+", " ", s).strip(" .")  # leading dots would hide the file; trailing ones Windows drops
    if s.split(".", 1)[0].strip().upper() in DEVICE_NAMES:
        s = "_" + s
    if len(s) > NAME_LIMIT:
        stem, ext = split_extension(s)
        s = f"{stem[:NAME_LIMIT - len(ext) - 1].rstrip(' .')}.{ext}" if ext else s[:NAME_LIMIT].rstrip(" .")
    if s:
        return s
    return clean_name(fallback, "") if fallback else "файл"


def split_extension(name: str) -> tuple[str, str]:
    """("report", "pdf") for "report.pdf"; ("Акт от 12.05", "") when the tail is no extension."""
    stem, dot, ext = name.rpartition(".")
    if dot and stem and 1 <= len(ext) <= 10 and ext.isascii() and ext.isalnum() and not ext.isdigit():
        return stem, ext
    return name, ""
