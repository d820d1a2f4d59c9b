"""/dashboard and the reports menu's 🖥 Dashboard: a one-time sign-in link to the web pages."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, LinkPreviewOptions, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import Settings
from models import User
from services import weblogin
from services.errors import DomainError
from services.people import Roles
from views.menu import main_menu
from views.reports import OpenDashboard, dashboard_text


async def dashboard_link(
    session: AsyncSession, user: User, roles: Roles, base_url: str
) -> str | None:
    """The reply with a fresh sign-in link, or None for someone who may not have one."""
    try:  # a refusal here is told in words of its own (below), not as the service's
        token = await weblogin.issue_link_token(session, user, roles)
    except DomainError:
        return None
    minutes = int(weblogin.LINK_TTL.total_seconds() // 60)
    return dashboard_text(f"{base_url}/login/{token}", minutes)


def dashboard_base(settings: Settings, dashboard_url: str | None) -> str:
    """Where staff reach the dashboard: the public URL, else the address it listens on."""
    if settings.dashboard_public_url:
        return settings.dashboard_public_url
    if dashboard_url:
        return dashboard_url.rstrip("/")
    return f"http://{settings.dashboard_host}:{settings.dashboard_port}"


async def dashboard(
    event: Message | CallbackQuery,
    session: AsyncSession,
    user: User,
    roles: Roles,
    settings: Settings,
    dashboard_url: str | None = None,
) -> None:
    text = await dashboard_link(session, user, roles, dashboard_base(settings, dashboard_url))
    if text is None:
        text = _("The dashboard is for office staff and station heads.")
        if isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=True)
        else:
            await event.answer(text, reply_markup=main_menu(roles))
        return
    target = event.message if isinstance(event, CallbackQuery) else event
    if isinstance(event, CallbackQuery):
        await event.answer()
    if isinstance(target, Message):
        # No preview: a preview robot opening the link would spend it.
        await target.answer(text, link_preview_options=LinkPreviewOptions(is_disabled=True))


def router() -> Router:
    r = Router(name="reports.dashboard")
    r.message.register(dashboard, Command("dashboard"))
    r.callback_query.register(dashboard, OpenDashboard.filter())
    return r
