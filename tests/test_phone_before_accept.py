"""A resident's phone number is for whoever took the order: no screen that lists or
announces an order shows it before Accept — the team's new-order card, «📥 Team orders»,
the station head's notice and «🏘 Village orders». After Accept the leader sees it; the
station head, who oversees but did not take it, still does not."""

from __future__ import annotations

from sqlalchemy import select

from models import Role, User
from services import orders, people
from simulator.driver import SimUser
from tests.harness import BotEnv
from tests.test_authorisation_matrix import _order_in, order_cast

PHONE = "13912345678"
TEAM_ORDERS, VILLAGE_ORDERS = "📥 Team orders", "🏘 Village orders"
DIGITS = ("13912345678", "1391234", "5678")


def _no_phone(texts: list[str]) -> None:
    for text in texts:
        assert not any(d in text for d in DIGITS), text


async def _list(env: BotEnv, who: SimUser, button: str, number: str) -> str:
    await who.catch_up()
    await who.send(button)
    await env.idle()
    found = [m.text or "" for m in await who.history() if m.from_bot and number in (m.text or "")]
    assert found, (button, number)
    return found[-1]


async def test_no_phone_before_accept_on_any_list_or_notice(bot_env):
    env: BotEnv = bot_env
    cast = {
        **await order_cast(env, phone=PHONE),
        "head": await env.person("Miaomiaohu Head", role=Role.STATION_HEAD),
    }
    order = await _order_in(env, cast, "routed")
    await env.idle()
    leader, head = cast["leader"], cast["head"]
    announced = {
        name: [m.text or "" for m in await cast[name].history() if order.number in (m.text or "")]
        for name in ("leader", "head")
    }
    assert announced["leader"] and announced["head"], announced  # the card and the notice
    _no_phone(announced["leader"] + announced["head"])
    _no_phone([await _list(env, leader, TEAM_ORDERS, order.number)])
    _no_phone([await _list(env, head, VILLAGE_ORDERS, order.number)])

    # Accepted: the leader who holds it sees the phone; the village's head still does not.
    await _order_in_accepted(env, cast, order.id)
    assert PHONE in await _list(env, leader, TEAM_ORDERS, order.number)
    _no_phone([await _list(env, head, VILLAGE_ORDERS, order.number)])


async def _order_in_accepted(env: BotEnv, cast: dict[str, SimUser], order_id: int) -> None:
    async with env.sessionmaker() as s:
        leader = await s.scalar(select(User).where(User.tg_id == cast["leader"].id))
        assert leader is not None
        await orders.accept(s, order_id, leader, await people.roles_of(s, leader, frozenset()))
