"""Every order action (as a button, forged or replayed) and every staff command, tried by
every kind of person who should not — and by those who may. Authorisation is on the
server: a refusal is a pop-up the person must dismiss, and the order does not change."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import Order, Role, ServiceCategory, Slot, User, utcnow
from services import orders, people
from tests.factories import CTX
from tests.harness import running_bot

ROLES = ["resident", "volunteer_other", "leader_other", "head_other", "office", "admin", "banned"]

# action: (the state it is tried in, the roles that may do it)
CALLBACKS = {
    "accept": ("routed", {"admin"}),
    "decline": ("routed", {"admin"}),
    "transfer": ("routed", {"office", "admin"}),
    "assign": ("accepted", {"admin"}),
    "start": ("assigned", {"admin"}),
    "done": ("in_progress", {"admin"}),
    "withdraw": ("assigned", set()),
    "confirm_hours": ("done", {"office", "admin"}),  # the office may confirm for a leader
    "cancel": ("routed", {"office", "admin"}),
    "history": ("routed", {"office", "admin"}),
    "rate": ("done", set()),
}
# command text: (refusal shown to those who may not, the roles that may)
COMMANDS = {
    # a station head leads the village squad: their squad's orders and volunteers are theirs
    "📥 Team orders": ("Only team leaders", {"leader_other", "head_other", "office", "admin"}),
    "🏘 Village orders": ("Only station heads", {"head_other", "office", "admin"}),
    "📝 Order for a resident": ("Only station staff", {"head_other", "office", "admin"}),
    "👥 Appoint staff": ("Only the office", {"leader_other", "head_other", "office", "admin"}),
}


async def order_cast(env, owner: str = "Owner Resident", **phone: str) -> dict[str, object]:
    """Who an order needs: the resident who owns it (`phone`: theirs), the health team's
    leader and one of its volunteers."""
    return {
        "owner": await env.person(owner, **phone),
        "leader": await env.person("Health Leader", role=Role.TEAM_LEADER, team="health"),
        "volunteer": await env.person("Health Volunteer", role=Role.VOLUNTEER, team="health"),
    }


async def _cast(env) -> dict[str, object]:
    cast = {
        **await order_cast(env),
        "resident": await env.person("Other Resident"),
        "volunteer_other": await env.person("Law Volunteer", role=Role.VOLUNTEER, team="law"),
        "leader_other": await env.person("Law Leader", role=Role.TEAM_LEADER, team="law"),
        "head_other": await env.person("Dongjie Head", station="dongjie", role=Role.STATION_HEAD),
        "office": await env.person("Office Clerk", role=Role.OFFICE),
        "admin": await env.person("Admin", role=Role.ADMIN),
        "banned": await env.person("Banned Leader", role=Role.TEAM_LEADER, team="health"),
    }
    async with env.sessionmaker() as s:
        banned = await s.scalar(select(User).where(User.tg_id == cast["banned"].id))
        banned.banned = True
        await s.commit()
    return cast


async def _user(s, sim_user) -> tuple[User, people.Roles]:
    user = await s.scalar(select(User).where(User.tg_id == sim_user.id))
    return user, await people.roles_of(s, user, frozenset())


async def _order_in(env, cast, state: str) -> Order:
    """A fresh order of the owner, moved through the real services to `state`."""
    async with env.sessionmaker() as s:
        owner, owner_roles = await _user(s, cast["owner"])
        leader, leader_roles = await _user(s, cast["leader"])
        vol, vol_roles = await _user(s, cast["volunteer"])
        clinic = await s.scalar(
            select(ServiceCategory.id).where(ServiceCategory.code == "taole.free_clinic")
        )
        order = await orders.create_order(
            s,
            CTX,
            resident=owner,
            placed_by=owner,
            roles=owner_roles,
            category_id=clinic,
            description="check my blood pressure",
            preferred_date=None,
            preferred_slot=Slot.ANY,
            max_open=10_000,
        )
        steps = ["routed", "accepted", "assigned", "in_progress", "done"]
        reached = steps.index(state)
        if reached >= 1:
            await orders.accept(s, order.id, leader, leader_roles)
        if reached >= 2:
            start = utcnow() + timedelta(days=1)
            await orders.assign(
                s, CTX, order.id, leader, leader_roles, [vol.id], start, start + timedelta(hours=3)
            )
        if reached >= 3:
            await orders.start(s, order.id, vol, vol_roles)
        if reached >= 4:
            await orders.complete(
                s,
                CTX,
                order.id,
                vol,
                vol_roles,
                photos=[("f1", "u1", None)],
                hours={vol.id: Decimal(1)},
                note="",
            )
        return await s.get(Order, order.id)


async def _since_last(person, text: str) -> list:
    """The bot's messages in the chat after the person last sent `text`."""
    history = await person.history()
    last = max(i for i, m in enumerate(history) if not m.from_bot and m.text == text)
    return [m for m in history[last + 1 :] if m.from_bot]


def _data(action: str, order: Order) -> str:
    if action == "rate":
        return f"r:{order.id}:5"
    return f"o:{action}:{order.id}:{order.version}"


async def _snapshot(env, order_id: int) -> tuple[object, int]:
    async with env.sessionmaker() as s:
        order = await s.get(Order, order_id)
        return order.status, order.version


@pytest.fixture
async def roomy_bot(db_url, tmp_path):
    """The bot with the flood limit out of the way: this test taps fast on purpose."""
    async with running_bot(db_url, tmp_path / "media", flood_limit=10_000) as env:
        yield env


async def test_every_action_by_every_role(roomy_bot):
    env = roomy_bot
    cast = await _cast(env)
    greeting = {name: next(m for m in await cast[name].history() if m.from_bot) for name in ROLES}
    wrong = []
    for action, (state, allowed) in CALLBACKS.items():
        for role in ROLES:
            order = await _order_in(env, cast, state)
            before = await _snapshot(env, order.id)
            actor = cast[role]
            query = await actor.press_data(greeting[role], _data(action, order))
            answer = await actor.callback_answer(query_id=query)
            permitted = not answer.show_alert
            if permitted != (role in allowed):
                wrong.append((action, role, answer.text))
            if not permitted and await _snapshot(env, order.id) != before:
                wrong.append((action, role, "order changed although refused"))
            if permitted:
                await actor.send("/cancel")  # leave whatever conversation it opened
                await actor.expect(contains="Stopped")
                # Every update handled, so each reply is in: one answer to /cancel. (Notices
                # queued for this person may still come: this test sends them by the hundred.)
                await env.driver.until_updates_handled()
                after = await _since_last(actor, "/cancel")
                stopped = [m for m in after if "Stopped" in (m.text or "")]
                assert len(stopped) == 1, (action, role, [m.text for m in after])
    for text, (refusal, allowed) in COMMANDS.items():
        for role in ROLES:
            actor = cast[role]
            await actor.catch_up()
            await actor.send(text)
            reply = await actor.expect(timeout=10)
            refused = refusal in reply.text or "may not use the service" in reply.text
            if refused == (role in allowed):
                wrong.append((text, role, reply.text[:60]))
            if role != "banned":
                await actor.send("/cancel")
                await actor.expect(contains="Stopped")
    assert not wrong, "\n".join(map(str, wrong))
