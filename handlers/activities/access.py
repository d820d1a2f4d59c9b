"""The organiser's buttons on an activity (attendance, code, photos, finish, call off) act
only for someone who manages it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models import Activity
from services import activities
from services.people import Roles
from views.activities import ActivityAction


async def managed(
    _event: object, callback_data: ActivityAction, session: AsyncSession, roles: Roles
) -> dict[str, Activity]:
    """A filter that hands the handler the `activity` the button names, once it is one this
    person manages; otherwise the service's refusal is answered by handlers/errors.py."""
    return {"activity": await activities.managed(session, callback_data.activity_id, roles)}
