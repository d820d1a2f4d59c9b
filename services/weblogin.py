"""One-time sign-in links for the web dashboard, and who may use it.

The bot gives a staff user a link `{public url}/login/{token}`. The token is 32 random bytes
(URL-safe); only its SHA-256 is stored (`WebLoginToken.token_hash`), it expires after
LINK_TTL and is spent by a conditional UPDATE, so two clicks give one session. A session
is good while its user's `web_epoch` is the one it was signed in with: signing out raises
the epoch, which ends it (and any copy of its cookie) on the server.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import User, WebLoginToken, utcnow
from models.db import rowcount
from services.errors import NotAllowed
from services.i18n import N_
from services.people import Roles, roles_of
from services.reports import Scope, scope_for
from services.uow import unit

LINK_TTL = timedelta(minutes=10)


def may_use_dashboard(roles: Roles) -> bool:
    """Office staff, admins and station heads; nobody else."""
    return scope_for(roles) is not None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_link_token(
    session: AsyncSession, user: User, roles: Roles, *, now: datetime | None = None
) -> str:
    """A fresh single-use token for `user` (commits). Refuses anyone but staff who may see
    reports."""
    if roles.user_id != user.id or user.banned or not may_use_dashboard(roles):
        raise NotAllowed(N_("The dashboard is for office staff and station heads."))
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    async with unit(session):
        session.add(
            WebLoginToken(
                token_hash=token_hash(token),
                user_id=user.id,
                expires_at=now + LINK_TTL,
                note="dashboard link",
            )
        )
    return token


async def peek_link_token(
    session: AsyncSession, token: str, *, now: datetime | None = None
) -> WebLoginToken | None:
    """The unspent, unexpired token row (without spending it), else None."""
    if not token or len(token) > 128:
        return None
    row = await session.scalar(
        select(WebLoginToken).where(WebLoginToken.token_hash == token_hash(token))
    )
    now = now or utcnow()
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    return row


async def redeem_link_token(
    session: AsyncSession, token: str, admin_ids: frozenset[int], *, now: datetime | None = None
) -> tuple[User, Roles] | None:
    """Spend the token: the user and their roles now, or None if the link is unknown,
    expired, already used, or its user is no longer allowed. Commits."""
    now = now or utcnow()
    row = await peek_link_token(session, token, now=now)
    if row is None:
        return None
    async with unit(session):
        spent = await session.execute(
            update(WebLoginToken)
            .where(
                WebLoginToken.id == row.id,
                WebLoginToken.used_at.is_(None),
                WebLoginToken.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
    if rowcount(spent) != 1:  # someone else spent it a moment ago
        return None
    user = await session.get(User, row.user_id)
    if user is None or user.banned:
        return None
    roles = await roles_of(session, user, admin_ids)
    return (user, roles) if may_use_dashboard(roles) else None


async def sign_out(session: AsyncSession, user_id: int) -> None:
    """End every dashboard session of this user (signed in before now). Commits."""
    async with unit(session):
        await session.execute(
            update(User)
            .where(User.id == user_id)
            .values(web_epoch=User.web_epoch + 1)
            .execution_options(synchronize_session=False)
        )


async def viewer(
    session: AsyncSession, user_id: int, admin_ids: frozenset[int], epoch: int
) -> tuple[User, Roles, Scope] | None:
    """The signed-in user with their roles and scope as they are now (a dismissed head
    loses access at the next click, a banned user at once), or None; None too for a
    session of an epoch the user has signed out of."""
    user = await session.get(User, user_id, populate_existing=True)
    if user is None or user.banned or user.web_epoch != epoch:
        return None
    roles = await roles_of(session, user, admin_ids)
    scope = scope_for(roles)
    return (user, roles, scope) if scope is not None else None
