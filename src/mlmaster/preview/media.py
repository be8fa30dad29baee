"""A sample file's shape, read off its header with the standard library alone.

Images (PNG, JPEG, GIF, BMP, TIFF), audio (WAV) and NumPy arrays (``.npy``) say their size in
their first bytes; reading those is cheap, so a folder of 100,000 images costs one small read.
Anything else, or a header that does not parse, gives ``None``: a preview never fails.
"""

from __future__ import annotations

import ast
import struct
from pathlib import Path
from typing import IO

HEAD_BYTES = 64 * 1024  # JPEG's size marker can sit after large EXIF blocks
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff"}
AUDIO_EXTENSIONS = {".wav"}
ARRAY_EXTENSIONS = {".npy"}
MEDIA_EXTENSIONS = IMAGE_EXTENSIONS | AUDIO_EXTENSIONS | ARRAY_EXTENSIONS


def describe_media(path: Path) -> str | None:
    """``image 32x32 RGB``, ``audio 1.00 s, 16000 Hz, 1 channel``, ``array (256, 256) <f4``."""
    try:
        with path.open("rb") as stream:
            return describe_stream(path.suffix.lower(), stream)
    except OSError:
        return None


def describe_stream(suffix: str, stream: IO[bytes]) -> str | None:
    """The same, from an open stream (a file, or a member of a zip archive)."""
    head = stream.read(HEAD_BYTES)
    try:
        if suffix in IMAGE_EXTENSIONS:
            return _image(head)
        if suffix in AUDIO_EXTENSIONS:
            return _wav(head)
        if suffix in ARRAY_EXTENSIONS:
            return _npy(head)
    except (struct.error, ValueError, IndexError, SyntaxError):
        return None
    return None


def _image(head: bytes) -> str | None:
    size = _png(head) or _gif(head) or _bmp(head) or _jpeg(head) or _tiff(head)
    if size is None:
        return None
    width, height, mode = size
    return f"image {width}x{height}" + (f" {mode}" if mode else "")


def _png(head: bytes) -> tuple[int, int, str] | None:
    if not head.startswith(b"\x89PNG\r\n\x1a\n") or head[12:16] != b"IHDR":
        return None
    width, height, depth, colour = struct.unpack(">IIBB", head[16:26])
    modes = {0: "grayscale", 2: "RGB", 3: "palette", 4: "grayscale+alpha", 6: "RGBA"}
    mode = modes.get(colour, "")
    return width, height, f"{mode} {depth}-bit" if depth != 8 else mode


def _gif(head: bytes) -> tuple[int, int, str] | None:
    if head[:6] not in (b"GIF87a", b"GIF89a"):
        return None
    width, height = struct.unpack("<HH", head[6:10])
    return width, height, ""


def _bmp(head: bytes) -> tuple[int, int, str] | None:
    if not head.startswith(b"BM"):
        return None
    width, height = struct.unpack("<ii", head[18:26])
    return width, abs(height), ""


def _jpeg(head: bytes) -> tuple[int, int, str] | None:
    if not head.startswith(b"\xff\xd8"):
        return None
    at = 2
    while at + 9 < len(head):
        if head[at] != 0xFF:
            at += 1
            continue
        marker = head[at + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            at += 2
            continue
        (length,) = struct.unpack(">H", head[at + 2 : at + 4])
        # Start-of-frame markers (baseline, progressive, ...) hold the size; C4/C8/CC do not.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", head[at + 5 : at + 9])
            channels = head[at + 9] if at + 9 < len(head) else 0
            return width, height, {1: "grayscale", 3: "RGB", 4: "CMYK"}.get(channels, "")
        at += 2 + length
    return None


def _tiff(head: bytes) -> tuple[int, int, str] | None:
    if head[:4] not in (b"II*\x00", b"MM\x00*"):
        return None
    order = "<" if head[:2] == b"II" else ">"
    (offset,) = struct.unpack(order + "I", head[4:8])
    (count,) = struct.unpack(order + "H", head[offset : offset + 2])
    found: dict[int, int] = {}
    for i in range(count):
        entry = head[offset + 2 + 12 * i : offset + 14 + 12 * i]
        tag, kind = struct.unpack(order + "HH", entry[:4])
        if tag in (256, 257):  # ImageWidth, ImageLength: SHORT or LONG
            fmt = "H" if kind == 3 else "I"
            found[tag] = struct.unpack(order + fmt, entry[8 : 8 + struct.calcsize(fmt)])[0]
    if 256 in found and 257 in found:
        return found[256], found[257], ""
    return None


def _wav(head: bytes) -> str | None:
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    at, rate, channels, byte_rate = 12, 0, 0, 0
    while at + 8 <= len(head):
        chunk, size = head[at : at + 4], struct.unpack("<I", head[at + 4 : at + 8])[0]
        if chunk == b"fmt ":
            _, channels, rate, byte_rate = struct.unpack("<HHII", head[at + 8 : at + 20])
        elif chunk == b"data" and byte_rate:
            seconds = size / byte_rate
            plural = "s" if channels != 1 else ""
            return f"audio {seconds:.2f} s, {rate} Hz, {channels} channel{plural}"
        at += 8 + size + (size & 1)
    return f"audio {rate} Hz, {channels} channels" if rate else None


def _npy(head: bytes) -> str | None:
    if not head.startswith(b"\x93NUMPY"):
        return None
    major = head[6]
    if major == 1:
        (length,) = struct.unpack("<H", head[8:10])
        start = 10
    else:
        (length,) = struct.unpack("<I", head[8:12])
        start = 12
    header = ast.literal_eval(head[start : start + length].decode("latin1"))
    return f"array {tuple(header['shape'])} {header['descr']}"
