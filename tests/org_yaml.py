"""The org config files and what tests do with them: a fresh copy of Taole's data to
mutate, writing it back as YAML, syncing it, and counting what the sync wrote; and the
plan's stations, platforms and teams, written out by hand to check the config against."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from models import (
    Platform,
    PlatformUnit,
    PriorityGroup,
    Region,
    ServiceArea,
    ServiceCategory,
    Team,
    TeamLeadUnit,
    Unit,
)
from services.org import parse_org_config, sync_org

CONFIG = Path(__file__).resolve().parent.parent / "config"
TAOLE = CONFIG / "taole.yaml"
EXAMPLE = CONFIG / "example-town.yaml"

STATIONS = ["东街社区", "西街社区", "庙庙湖村", "王家庄村", "东园村", "马太沟村", "施家台子村"]

# From the plan (陶党发〔2020〕11号), written out by hand: platform → (lead, responsible).
# Every platform also has "各新时代文明实践站" (every station) as a responsible unit.
PLATFORMS = {
    "理论宣讲平台": ({"党政办公室", "文化站"}, {"民生服务中心", "司法所"}),
    "教育服务平台": ({"文化站"}, {"陶乐中小学"}),
    "文化服务平台": ({"文化站"}, {"各社区文化艺术团"}),
    "科技科普服务平台": (
        {"农业服务中心", "畜牧站"},
        {
            "华泰农农业科技发展有限公司",
            "宁夏中青农业科技有限公司",
            "绿源众兴肉牛养殖专业合作",
            "希源农牧专业合作社",
            "庙庙湖沙漠农业种植专业合作社",
        },
    ),
    "健身体育服务平台": ({"文化站"}, set()),
    "融媒体服务平台": ({"党政办公室", "文化站"}, set()),
}

# Team → lead units (the plan's 党政办 is 党政办公室).
TEAMS = {
    "理论宣讲志愿服务队": {"党政办公室", "文化站"},
    "教育帮扶志愿服务队": {"文化站"},
    "文化体育志愿服务队": {"文化站"},
    "科技科普志愿服务队": {"农业服务中心", "畜牧站"},
    "法律普及志愿服务队": {"司法所", "陶乐法院", "陶乐派出所"},
    "卫生健康志愿服务队": {"计生站", "卫生院"},
    "文明实践志愿服务队": {"文化站", "民生服务中心"},
    "扶贫帮扶志愿服务队": {"扶贫办", "驻村工作队"},
    "优秀人士志愿服务队": {"党政办公室"},
}
# The plan ties these three to none of the six platforms (法律普及 uses the 宣讲平台, 文明实践
# the 道德讲堂 on the 理论宣讲平台).
NO_PLATFORM = {"卫生健康志愿服务队", "扶贫帮扶志愿服务队", "优秀人士志愿服务队"}

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml keeps the file fast
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
ORG_MODELS = (Region, Unit, Platform, PlatformUnit, Team, TeamLeadUnit, ServiceArea,
              ServiceCategory, PriorityGroup)  # fmt: skip


@functools.cache
def _raw(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=LOADER)


def taole_data() -> dict[str, Any]:
    return copy.deepcopy(_raw(TAOLE))


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "org.yaml"
    text = yaml.dump(data, Dumper=DUMPER, allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


async def sync_taole(session, data: dict[str, Any] | None = None):
    report = await sync_org(session, parse_org_config(data or taole_data()))
    await session.commit()
    return report


async def row_counts(session) -> dict[str, int]:
    return {
        m.__tablename__: await session.scalar(select(func.count()).select_from(m))
        for m in ORG_MODELS
    }


async def unit_names(session, link_model, owner_col, owner_id, **where) -> set[str]:
    stmt = (
        select(Unit.name_zh)
        .join(link_model, link_model.unit_id == Unit.id)
        .where(getattr(link_model, owner_col) == owner_id)
        .filter_by(**where)
    )
    return set(await session.scalars(stmt))
