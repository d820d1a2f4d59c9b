"""Method parameters from wherever the Bot API accepts them.

Query string, JSON body, urlencoded form or multipart form (aiogram always sends multipart,
with complex values JSON-encoded and uploads as `attach://<field>` references).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.web_request import FileField

from simulator.errors import ApiError
from simulator.wire import decode_json

N = TypeVar("N", int, float)


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str | None
    content_type: str | None


class Params:
    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload]) -> None:
        self._values = values
        self._uploads = uploads

    @classmethod
    async def from_request(cls, request: web.Request) -> Params:
        values: dict[str, Any] = dict(request.query)
        uploads: dict[str, Upload] = {}
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if not isinstance(body, dict):
                    raise ApiError.bad_request("request body must be a JSON object")
                values.update(body)
            else:
                for key, value in (await request.post()).items():
                    if isinstance(value, FileField):
                        data = value.file.read()
                        uploads[key] = Upload(data, value.filename, value.content_type)
                    else:
                        values[key] = value
        return cls(values, uploads)

    def has(self, name: str) -> bool:
        return self._values.get(name) not in (None, "") or name in self._uploads

    def string(self, name: str, *, required: bool = False) -> str | None:
        value = self._values.get(name)
        if value is None or value == "":
            if required:
                raise ApiError.bad_request(f"{name} is empty")
            return None
        return value if isinstance(value, str) else str(value)

    def integer(self, name: str, *, required: bool = False) -> int | None:
        return self._parsed(name, int, required=required)

    def number(self, name: str, *, required: bool = False) -> float | None:
        return self._parsed(name, float, required=required)

    def _parsed(self, name: str, kind: Callable[[str], N], *, required: bool) -> N | None:
        value = self.string(name, required=required)
        if value is None:
            return None
        try:
            return kind(value)
        except ValueError:
            raise ApiError.bad_request(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        value = self._values.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1", "yes")
        return bool(value)

    def json(self, name: str) -> Any:
        value = self._values.get(name)
        if value is None or value == "":
            return None
        return decode_json(value, name)

    def upload(self, name: str) -> Upload | str | None:
        """An uploaded file, or a string (file_id or URL) naming an existing one."""
        if name in self._uploads:
            return self._uploads[name]
        return self.reference(self.string(name))

    def reference(self, value: str | None) -> Upload | str | None:
        """Resolve `attach://<field>` to the upload it names."""
        if value is not None and value.startswith("attach://"):
            field = value.removeprefix("attach://")
            if field not in self._uploads:
                raise ApiError.bad_request(f"file {value} not found in the request")
            return self._uploads[field]
        return value
