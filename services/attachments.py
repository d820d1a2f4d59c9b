"""Files people send with an order or to an activity's record, kept as attachment rows:
the request's photos and voice notes, completion photos, an activity's photos."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from models import Attachment, AttachmentKind, AttachmentStage, User

# (file_id, file_unique_id, local_path) — a photo as the bot got it from Telegram.
PhotoIn = tuple[str, str, str | None]
# (kind, file_id, file_unique_id, local_path) — any file the bot got.
FileIn = tuple[AttachmentKind | str, str, str, str | None]


def as_photos(photos: Iterable[PhotoIn]) -> list[FileIn]:
    return [(AttachmentKind.PHOTO, *photo) for photo in photos]


def keep_files(
    session: AsyncSession,
    files: Iterable[FileIn],
    stage: AttachmentStage,
    by: User,
    *,
    order_id: int | None = None,
    activity_id: int | None = None,
) -> None:
    """A row per file, of an order or of an activity (the caller flushes)."""
    for kind, file_id, unique_id, local_path in files:
        session.add(
            Attachment(
                order_id=order_id,
                activity_id=activity_id,
                stage=stage,
                kind=AttachmentKind(kind),
                file_id=file_id,
                file_unique_id=unique_id,
                local_path=local_path,
                uploaded_by_id=by.id,
            )
        )
