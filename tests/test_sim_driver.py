"""The Bot API simulator driven through its driver, with a real aiogram bot answering:
buttons, edits, keyboards, media, contacts, blocking and groups."""

from __future__ import annotations

import pytest
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import BufferedInputFile, InputMediaPhoto

from simulator import TINY_JPEG
from simulator.driver import ExpectationFailed, SimulatorError
from tests.tiny_bot import eventually

# Conversations through the driver ---------------------------------------------------------


async def test_start_press_and_edit(world):
    driver, _, _ = world
    u = await driver.user("王大妈", label="庙庙湖村 居民")
    await u.send("/start")
    card, menu = await u.expect_many(2)
    assert card.from_bot and card.text == "你好，王大妈！有新订单："
    assert card.buttons() == ["接单", "拒绝"]
    assert card.button("接单").callback_data == "order:accept"
    assert menu.reply_keyboard == [["看病义诊", "法律咨询"], ["分享手机号"]]

    await u.press("接单")
    answer = await u.callback_answer()
    assert answer.text == "已接单" and not answer.show_alert
    edited = await u.expect_edit(card)
    assert edited.edited and edited.text == "订单状态：已接单" and edited.buttons() == []
    history = await u.history()
    assert [m.from_bot for m in history] == [False, True, True]
    assert history[1].text == "订单状态：已接单"


async def test_deep_link_arguments_reach_the_bot(world):
    driver, _, seen = world
    u = await driver.user("张三")
    await u.send_command("start", "abc123")
    await u.expect_many(2)
    assert seen["start_args"] == "abc123"


async def test_press_unknown_button_lists_visible_ones(world):
    driver, _, _ = world
    u = await driver.user("李四")
    await u.send("/start")
    await u.expect_many(2)
    with pytest.raises(SimulatorError, match=r"\[接单\] \[拒绝\]"):
        await u.press("转派")


async def test_forged_callback_data_reaches_the_fallback(world):
    driver, _, seen = world
    u = await driver.user("李四")
    await u.send("/start")
    card, _ = await u.expect_many(2)
    await u.press_data(card, "forged:data")
    answer = await u.callback_answer()
    assert answer.show_alert and answer.text == "按钮已失效"
    assert seen["stale_data"] == "forged:data"


async def test_reply_keyboard_tap_and_removal(world):
    driver, _, _ = world
    u = await driver.user("赵大爷")
    with pytest.raises(SimulatorError, match="no reply keyboard"):
        await u.tap("看病义诊")
    await u.send("/start")
    await u.expect_many(2)
    await u.tap("看病义诊")
    reply = await u.expect(contains="看病义诊")
    assert reply.removes_keyboard
    assert await u.reply_keyboard() is None
    with pytest.raises(SimulatorError, match="法律咨询"):
        await u.tap("法律咨询")


async def test_photo_upload_download_and_echo(world):
    driver, _, seen = world
    u = await driver.user("王大妈")
    sent = await u.send_photo(TINY_JPEG, caption="门口的路灯坏了")
    echo = await u.expect(contains="收到照片")
    file_id, data = seen["photo"]
    assert data == TINY_JPEG
    assert sent.photo is not None and sent.photo.file_id == file_id
    assert (sent.photo.width, sent.photo.height) == (16, 16)
    assert echo.photo is not None and echo.photo.file_id == file_id
    assert await driver.download(echo.photo) == TINY_JPEG


async def test_contact_own_or_someone_elses(world):
    driver, _, _ = world
    u = await driver.user("王大妈")
    await u.send_contact("+8613800000000", own=True)
    assert (await u.expect()).text == "已记录您的手机号"
    await u.send_contact("+8613900000000", own=False)
    assert (await u.expect()).text == "这是别人的名片"


async def test_request_contact_button_shares_own_phone(world):
    driver, _, _ = world
    u = await driver.user("钱奶奶", phone_number="+8613711112222")
    await u.send("/start")
    await u.expect_many(2)
    shared = await u.tap("分享手机号")
    assert shared.contact == {
        "phone_number": "+8613711112222",
        "first_name": "钱奶奶",
        "user_id": u.id,
    }
    assert (await u.expect()).text == "已记录您的手机号"


async def test_location_and_voice(world):
    driver, _, seen = world
    u = await driver.user("孙叔")
    await u.send_location(38.8, 106.6)
    await u.expect(contains="收到位置")
    await u.send_voice(b"OggS fake voice", duration=3)
    await u.expect(contains="收到语音")
    assert seen["location"] == (38.8, 106.6)
    assert seen["voice"] == 3


async def test_expect_times_out_with_the_chat_tail(world):
    driver, _, _ = world
    u = await driver.user("周")
    await u.send("hello")
    with pytest.raises(ExpectationFailed, match="'hello'"):
        await u.expect(timeout=0.3)


async def test_blocked_user(world):
    driver, bot, seen = world
    u = await driver.user("吴")
    await u.block()
    await eventually(lambda: seen.get("membership") == ["kicked"])
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(u.id, "还在吗？")
    with pytest.raises(SimulatorError, match="unblock"):
        await u.send("hi")
    await u.unblock()
    await eventually(lambda: seen.get("membership") == ["kicked", "member"])
    await bot.send_message(u.id, "欢迎回来")
    assert (await u.expect()).text == "欢迎回来"


async def test_group_chat(world):
    driver, _, _ = world
    a, b = await driver.user("队长"), await driver.user("队员")
    group = await driver.group("卫生健康志愿服务队", [a, b])
    as_a, as_b = await group.member(a), await group.member(b)
    await as_a.send("/start")
    card, _ = await as_b.expect_many(2)
    assert card.chat_id == group.id and card.text == "你好，队长！有新订单："
    await as_b.press("接单")
    assert (await as_b.callback_answer()).text == "已接单"


async def test_bot_sends_media_albums_and_copies(world):
    driver, bot, _ = world
    u = await driver.user("王大妈")
    photo = await bot.send_photo(u.id, BufferedInputFile(TINY_JPEG, "a.jpg"), caption="现场")
    await bot.send_media_group(
        u.id,
        [
            InputMediaPhoto(media=BufferedInputFile(TINY_JPEG, "b.jpg"), caption="服务前"),
            InputMediaPhoto(media=photo.photo[-1].file_id, caption="服务后"),
        ],
    )
    await bot.send_document(u.id, BufferedInputFile(b"%PDF-1.4 report", "月报.pdf"))
    await bot.send_voice(u.id, BufferedInputFile(b"OggS voice", "v.ogg"), duration=2)
    await bot.send_location(u.id, 38.8, 106.6)
    await bot.copy_message(u.id, u.id, photo.message_id)
    got = await u.expect_many(7)
    assert [m.text for m in got[:3]] == ["现场", "服务前", "服务后"]
    assert got[1].raw["media_group_id"] == got[2].raw["media_group_id"]
    assert got[2].photo.file_id == photo.photo[-1].file_id
    assert got[3].document.file_name == "月报.pdf"
    assert got[3].document.mime_type == "application/pdf"
    assert await driver.download(got[3].document) == b"%PDF-1.4 report"
    assert got[4].voice.duration == 2
    assert got[5].location == (38.8, 106.6)
    assert got[6].photo.file_id == photo.photo[-1].file_id
