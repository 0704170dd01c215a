"""Extracting an untrusted zip: regular files only, inside the destination, within size caps.

Sizes are checked on the bytes actually decompressed, not on what the zip's headers declare,
so a zip bomb stops at the cap. A refused entry is skipped with its reason; the rest is kept.
"""

from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass

from autograder.intake.notebook import MAX_NOTEBOOK_BYTES

MAX_TOTAL_BYTES = 2 * 1024**3
MAX_ENTRIES = 20_000
CHUNK = 1024 * 1024


class BadZip(Exception):
    """The file cannot be opened as a zip at all."""


@dataclass(frozen=True)
class Refused:
    entry: str
    reason: str

    def __str__(self) -> str:
        return f"{self.entry!r} not extracted: {self.reason}"


def extract(zip_path: str, destination: str, max_file_bytes: int = MAX_NOTEBOOK_BYTES,
            max_total_bytes: int = MAX_TOTAL_BYTES, max_entries: int = MAX_ENTRIES) -> list[Refused]:
    """Extract ``zip_path`` into the existing folder ``destination``; return the entries refused."""
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as e:
        raise BadZip(f"not a zip file ({e})") from None
    refused: list[Refused] = []
    total = 0
    with archive:
        for count, info in enumerate(archive.infolist()):
            if count >= max_entries:
                refused.append(Refused(info.filename, f"more than {max_entries} entries in the zip"))
                break
            reason = _unsafe(info)
            if reason:
                refused.append(Refused(info.filename, reason))
                continue
            target = os.path.join(destination, *_parts(info.filename))
            room = max_total_bytes - total
            try:
                os.makedirs(target if info.is_dir() else os.path.dirname(target), exist_ok=True)
                if info.is_dir():
                    continue
                written = _copy_capped(archive, info, target, min(max_file_bytes, room))
            except _TooLarge:
                os.remove(target)
                refused.append(Refused(info.filename, f"larger than {_size(max_file_bytes)}, the limit for one file"
                                       if max_file_bytes <= room else f"the zip holds more than {_size(max_total_bytes)} in all"))
                continue
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as e:
                if os.path.isfile(target):
                    os.remove(target)
                refused.append(Refused(info.filename, f"unreadable ({e})"))
                continue
            total += written
    return refused


def _parts(name: str) -> list[str]:
    return [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]


def _unsafe(info: zipfile.ZipInfo) -> str:
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if ".." in name.split("/"):
        return "path leaves the folder (..)"
    if "\0" in name:
        return "NUL in the name"
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the zip does not say (Windows zips, Python's writestr)
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "a link or special file, not a regular file"
    if not _parts(name):
        return "empty name"
    return ""


def _size(n: int) -> str:
    return f"{n / 2**20:g} MB" if n >= 2**20 else f"{n} bytes"


class _TooLarge(Exception):
    pass


def _copy_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: str, cap: int) -> int:
    written = 0
    with archive.open(info) as source, open(target, "wb") as sink:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > cap:
                raise _TooLarge
            sink.write(chunk)
    return written
