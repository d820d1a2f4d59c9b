"""Publishing an activity, the first answers: for whom, the title, the content, the place and
(optionally) its location."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.activities.ask import ask, ask_next
from handlers.activities.states import PublishActivity
from handlers.common import Settings, picked, too_long, written
from services import activities
from services.i18n import N_, local_name
from services.people import Roles
from views.activities import NewActivity
from views.format import locale
from views.menu import BTN_CANCEL, BTN_SKIP


async def _targets(session: AsyncSession, roles: Roles) -> dict[str, str]:
    """Whom the person may publish for: label → "t<team id>" or "s<station id>"."""
    teams, stations = await activities.publishable_targets(session, roles)
    out = {local_name(t, locale()): f"t{t.id}" for t in teams}
    out |= {local_name(s, locale()): f"s{s.id}" for s in stations}
    return out


async def begin_publish(
    event: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    roles: Roles,
    settings: Settings,
) -> None:
    message = event.message if isinstance(event, CallbackQuery) else event
    targets = await _targets(session, roles)
    refusal = _("Only team leaders and station heads can publish activities.")
    if isinstance(event, CallbackQuery):  # a button is refused by a pop-up, before anything
        await event.answer(refusal if not targets else None, show_alert=not targets)
    if not isinstance(message, Message):
        return
    if not targets:
        if isinstance(event, Message):
            await message.answer(refusal)
        return
    await state.clear()
    await state.update_data(targets=targets)
    if len(targets) == 1:  # nothing to choose: the audience step is skipped
        await ask_next(
            message,
            state,
            PublishActivity.audience,
            session,
            settings,
            target=next(iter(targets.values())),
        )
        return
    await ask(message, state, PublishActivity.audience, session, settings)


async def got_audience(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    if target := await picked(message, (await state.get_data())["targets"]):
        await ask_next(message, state, PublishActivity.audience, session, settings, target=target)


# The steps answered in a few words: where the answer goes, how long it may be, what to say.
WORDS = {
    PublishActivity.title: (
        "title",
        activities.MAX_TITLE,
        N_("Please write a title of at most {n} characters."),
    ),
    PublishActivity.place: (
        "place",
        activities.MAX_PLACE,
        N_("Please write the place in at most {n} characters."),
    ),
}


async def got_words(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    current = await state.get_state()
    step = next(s for s in WORDS if s.state == current)
    key, limit, hint = WORDS[step]
    if words := await written(message, limit, _(hint)):
        await ask_next(message, state, step, session, settings, **{key: words})


async def got_content(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    content = "" if message.text == BTN_SKIP else (message.text or "").strip()
    if await too_long(message, content, activities.MAX_CONTENT):
        return
    await ask_next(message, state, PublishActivity.content, session, settings, content=content)


async def got_location(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    loc = message.location
    if loc is not None:
        await ask_next(
            message,
            state,
            PublishActivity.location,
            session,
            settings,
            latitude=loc.latitude,
            longitude=loc.longitude,
        )


async def skip_location(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    await ask_next(message, state, PublishActivity.location, session, settings)


def router() -> Router:
    r = Router(name="activities.publish")
    r.message.register(begin_publish, Command("publish"))
    r.callback_query.register(begin_publish, NewActivity.filter())
    typed = (F.text, F.text != BTN_CANCEL)
    r.message.register(got_audience, PublishActivity.audience, *typed)
    r.message.register(got_words, StateFilter(*WORDS), *typed)
    r.message.register(got_content, PublishActivity.content, *typed)
    r.message.register(got_location, PublishActivity.location, F.location)
    r.message.register(skip_location, PublishActivity.location, F.text == BTN_SKIP)
    return r
