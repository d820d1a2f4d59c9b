"""The archive workbook's sheets and columns, and the Chinese words in its cells.

The archive is a Chinese record whatever the reader's language: names are fixed here."""

from __future__ import annotations

FIGURES = [
    "接单数",
    "按时派单数",
    "按时派单率（%）",
    "派单用时中位（分钟）",
    "接单用时中位（分钟）",
    "办结数",
    "办结率（%）",
    "评价数",
    "平均评分",
]

SHEETS: dict[str, list[str]] = {
    "订单": [
        "订单号",
        "状态",
        "下单时间",
        "村（社区）",
        "服务领域",
        "服务类别",
        "服务平台",
        "承办队伍",
        "居民",
        "代下单",
        "需求描述",
        "期望日期",
        "地址",
        "接单人",
        "接单时间",
        "服务开始",
        "完成时间",
        "评价时间",
        "取消时间",
        "超时升级",
        "预约开始",
        "预约结束",
        "完成说明",
        "评分",
    ],
    "订单记录": ["订单号", "时间", "事件", "原状态", "新状态", "操作人", "队伍", "备注"],
    "派单与工时": [
        "订单号",
        "村（社区）",
        "志愿者",
        "派单人",
        "派单时间",
        "状态",
        "工时",
        "已确认",
        "确认人",
        "确认时间",
    ],
    "评价": ["订单号", "村（社区）", "服务类别", "评分", "评语", "评价时间"],
    "志愿者": [
        "姓名",
        "村（社区）",
        "所在队伍",
        "党员",
        "期间工时",
        "期间积分",
        "服务订单数",
    ],
    "活动": [
        "活动编号",
        "活动名称",
        "村（社区）",
        "队伍",
        "地点",
        "开始时间",
        "结束时间",
        "状态",
        "报名人数",
        "签到人数",
        "照片数",
    ],
    "签到": ["活动编号", "活动名称", "姓名", "报名状态", "已签到", "签到时间", "工时"],
    # Per platform and per unit (站所接单): the orders placed in the period that each received.
    "平台": ["镇", "平台", *FIGURES],
    "站所": [
        "镇",
        "单位",
        "排名",
        "得分",
        *FIGURES,
        "双报道党员",
        "参与党员",
        "参与率（%）",
        "人均工时",
        "工时达标人数",
    ],
}

STATUS_ZH = {
    "new": "待派单",
    "routed": "待接单",
    "accepted": "已接单",
    "in_progress": "服务中",
    "done": "已完成待评价",
    "rated": "已评价",
    "declined": "转派中",
    "cancelled": "已取消",
}

EVENT_NAMES = {
    "created": "下单",
    "routed": "派单",
    "accepted": "接单",
    "declined": "退回",
    "transferred": "转派",
    "escalated": "升级",
    "assigned": "派志愿者",
    "started": "开始服务",
    "done": "完成",
    "rated": "评价",
    "cancelled": "取消",
    "hours_confirmed": "确认工时",
    "withdrawn": "志愿者退出",
    "comment": "评语",
}

ASSIGNMENT_NAMES = {
    "assigned": "已派",
    "started": "服务中",
    "withdrawn": "已退出",
    "done": "已完成",
}

ACTIVITY_NAMES = {"published": "已发布", "cancelled": "已取消", "done": "已完成"}
SIGNUP_NAMES = {"signed": "已报名", "waitlist": "候补", "cancelled": "已取消"}
SLOT_NAMES = {"morning": "上午", "afternoon": "下午", "any": "不限"}
_WIDE = {"需求描述", "备注", "完成说明", "评语", "地址", "活动名称", "所在队伍"}


def column_width(header: str) -> float:
    if header in _WIDE:
        return 36
    if header.endswith("时间") or header in ("预约开始", "预约结束", "服务开始"):
        return 17
    if header in ("订单号", "活动编号"):
        return 19
    return max(9.0, len(header) * 2.2 + 2)
