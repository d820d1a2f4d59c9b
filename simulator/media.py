"""Stored files: everything uploaded by a user or a bot, addressable by file_id and path."""

from __future__ import annotations

import base64
import itertools
import secrets
import struct
from dataclasses import dataclass

# A 16×16 JPEG (green with a yellow square) for tests and demos that need "a photo".
TINY_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAA0JCgsKCA0LCgsODg0PEyAVExISEyccHhcgLikxMC4pLSwzOko+MzZG"
    "NywtQFdBRkxOUlNSMj5aYVpQYEpRUk//2wBDAQ4ODhMREyYVFSZPNS01T09PT09PT09PT09PT09PT09PT09PT09P"
    "T09PT09PT09PT09PT09PT09PT09PT09PT0//wAARCAAQABADASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAA"
    "AAP/xAAbEAACAgMBAAAAAAAAAAAAAAAREwVhABUjQv/EABQBAQAAAAAAAAAAAAAAAAAAAAT/xAAbEQAABwEAAAAA"
    "AAAAAAAAAAAAEyMxUWKBkf/aAAwDAQACEQMRAD8ApFxuwb2WseSSbrEpG69XZjD5AAu8Rclr28WMHoAGrxKSWwVx"
    "Ws+iSKrAqm1yAREm2zxh/9k="
)

_JPEG_SIZE_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE}


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a JPEG or PNG, or (0, 0) when the bytes are neither."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return 0, 0


def _jpeg_size(data: bytes) -> tuple[int, int]:
    pos = 2
    while pos + 9 < len(data):
        if data[pos] != 0xFF:
            return 0, 0
        marker = data[pos + 1]
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _JPEG_SIZE_MARKERS:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    return 0, 0


def guess_mime(data: bytes, fallback: str = "application/octet-stream") -> str:
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"OggS"):
        return "audio/ogg"
    if data.startswith(b"%PDF"):
        return "application/pdf"
    return fallback


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    mime_type: str
    file_name: str | None

    @property
    def size(self) -> int:
        return len(self.data)


_FOLDERS = {"photo": "photos", "voice": "voice", "document": "documents"}
_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "audio/ogg": ".oga",
    "application/pdf": ".pdf",
}


class FileStore:
    """All file bytes, in memory: the simulator is for demos and tests, not archives."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._counter = itertools.count(1)

    def add(
        self, data: bytes, kind: str, mime_type: str | None = None, file_name: str | None = None
    ) -> StoredFile:
        number = next(self._counter)
        mime = mime_type or guess_mime(data)
        folder = _FOLDERS.get(kind, "documents")
        path = f"{folder}/file_{number}{_EXTENSIONS.get(mime, '')}"
        stored = StoredFile(
            # Real ids are opaque and long; a kind prefix keeps them readable in logs.
            file_id=f"{kind}-{number}-{secrets.token_urlsafe(12)}",
            file_unique_id=f"u{number}{secrets.token_hex(4)}",
            file_path=path,
            data=data,
            mime_type=mime,
            file_name=file_name,
        )
        self._by_id[stored.file_id] = stored
        self._by_path[path] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def by_path(self, path: str) -> StoredFile | None:
        return self._by_path.get(path)
