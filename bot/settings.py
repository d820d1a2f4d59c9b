"""Settings from the environment and an optional `.env` file.

Every value has a safe default for a single machine (SQLite, long polling, the simulator
when no token is given); production sets the PostgreSQL, Redis and webhook values.
"""

from __future__ import annotations

import json
import os
import re
import socket
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

ROOT = Path(__file__).resolve().parent.parent
SUPPORTED_LOCALES = ("zh_CN", "en")
MIN_SECRET = 32  # characters of WEBHOOK_SECRET and DASHBOARD_SECRET, when set
# Settings whose value must not be printed back in an error message.
HIDDEN = ("bot_token", "webhook_secret", "dashboard_secret")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: str = Field("", description="Telegram bot token; empty runs the simulator")
    telegram_api_base: str = Field(
        "", description="Bot API server base URL (self-hosted server or the simulator)"
    )
    database_url: str = Field(
        f"sqlite+aiosqlite:///{ROOT / 'data' / 'dispatch.sqlite3'}",
        description="SQLAlchemy async URL (sqlite+aiosqlite or postgresql+asyncpg)",
    )
    redis_url: str = Field("", description="Redis URL for FSM storage; empty keeps it in memory")
    org_config: Path = Field(ROOT / "config" / "taole.yaml", description="org chart YAML")
    # NoDecode: the environment's "9001,9002" reaches the validator below as it is written
    # (pydantic-settings would JSON-decode a list field first and fail on it).
    admin_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Telegram ids of admins, comma-separated"
    )
    default_locale: Literal["zh_CN", "en"] = "zh_CN"
    timezone: str = "Asia/Shanghai"
    quiet_hours_start: time = time(21, 0)
    quiet_hours_end: time = time(7, 0)
    max_open_orders: int = Field(3, ge=1, le=100)
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(8080, ge=1, le=65535)
    inbox_stale_after: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="webhook mode: seconds after which an update a worker took but never "
        "finished (it died) is handled by another; until then redeliveries get 503",
    )
    media_dir: Path = ROOT / "data" / "media"
    simulator_host: str = "127.0.0.1"
    simulator_port: int = Field(8081, ge=0, le=65535)
    dashboard_host: str = Field("127.0.0.1", description="where the web dashboard listens")
    dashboard_port: int = Field(8082, ge=0, le=65535, description="0 picks a free port")
    dashboard_public_url: str = Field(
        "", description="the dashboard's address as staff reach it (default: host and port)"
    )
    dashboard_secret: str = Field(
        "", description="signs dashboard cookies; empty: generated once under data/"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = Field(
        "text", description="text for a terminal; json: one object per line (production)"
    )
    worker_name: str = Field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    # Telegram allows about 30 messages a second in all and one a second per chat; the
    # sender stays under that, leaving room for direct replies (which do not queue).
    flood_limit: int = Field(20, ge=1, description="updates one user may send per window")
    flood_window: float = Field(10.0, gt=0, description="seconds of the flood window")
    send_rate: float = Field(25.0, gt=0, description="messages per second, all chats together")
    send_rate_per_chat: float = Field(1.0, gt=0, description="messages per second to one chat")
    send_burst_per_chat: int = Field(3, ge=1, le=20, description="messages at once to one chat")
    scheduler_interval: float = Field(
        5.0, gt=0, le=300, description="seconds between the scheduler's looks for due rows"
    )
    digest_time: time = Field(
        time(8, 0), description="local time of the leaders' daily digest and the weekly summary"
    )
    weekly_summary_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = Field(
        "mon", description="weekday of the office's weekly summary"
    )

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        # "123,456" (or empty) from the environment, as well as a JSON list.
        if isinstance(value, str):
            if value.strip().startswith("["):
                try:
                    return json.loads(value)
                except ValueError as exc:
                    raise ValueError("must be Telegram ids separated by commas") from exc
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("webhook_secret", "dashboard_secret")
    @classmethod
    def _long_secret(cls, value: str) -> str:
        if value and len(value) < MIN_SECRET:
            raise ValueError(
                f"must be at least {MIN_SECRET} characters (make one: openssl rand -hex 32)"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + value.split(":///", 1)[1]
        if not (
            value.startswith("sqlite+aiosqlite://") or value.startswith("postgresql+asyncpg://")
        ):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("dashboard_public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not (value.startswith("http://") or value.startswith("https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("WEBHOOK_SECRET is required when WEBHOOK_URL is set")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def use_simulator(self) -> bool:
        return not self.bot_token

    @property
    def weekly_summary_weekday(self) -> int:
        return WEEKDAYS.index(self.weekly_summary_day)


class SettingsError(Exception):
    """A setting is wrong; the message is one line per problem, naming the variable."""


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else ""
            name = field.upper() or "settings"
            got = "hidden" if field in HIDDEN else repr(err.get("input"))
            lines.append(f"{name}: {err['msg']} (got {got})")
        raise SettingsError("\n".join(lines)) from None
    except SourceError as exc:  # a value the environment source could not even decode
        found = re.search(r'field "(\w+)"', str(exc))
        name = found.group(1).upper() if found else "settings"
        raise SettingsError(f"{name}: could not be read ({exc})") from None
