"""Loading the org config: each error names the file's key, every problem on its own line."""

from __future__ import annotations

import pytest

from services.org import OrgConfigError, load_org_config
from tests.org_yaml import TAOLE, taole_data, write

# --- loader errors: each names the key -------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(OrgConfigError, match="file not found"):
        load_org_config(tmp_path / "nope.yaml")


def test_yaml_syntax_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("county:\n  code: [pingluo\ntown: x\n", encoding="utf-8")
    with pytest.raises(OrgConfigError, match=r"YAML syntax error at line \d+, column \d+"):
        load_org_config(path)


def test_duplicate_yaml_key(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text(TAOLE.read_text(encoding="utf-8") + "\npolicy: {}\n", encoding="utf-8")
    with pytest.raises(OrgConfigError, match="duplicate key 'policy'"):
        load_org_config(path)


def _add_unit(d: dict, section: str, i: int, unit: str, key: str = "lead") -> None:
    d[section][i].setdefault(key, []).append(unit)


BAD = [
    pytest.param(
        lambda d: _add_unit(d, "platforms", 3, "agri"),
        "platforms[3] (code=science): lead unit 'agri' is not defined",
        id="platform-unknown-lead-unit",
    ),
    pytest.param(
        lambda d: _add_unit(d, "platforms", 1, "schol", "responsible"),
        "platforms[1] (code=education): responsible unit 'schol' is not defined",
        id="platform-unknown-responsible-unit",
    ),
    pytest.param(
        lambda d: d["platforms"][4].update(lead=[]),
        "platforms[4] (code=fitness): no lead unit",
        id="platform-without-lead",
    ),
    pytest.param(
        lambda d: _add_unit(d, "platforms", 0, "party_office", "responsible"),
        "platforms[0] (code=theory): unit 'party_office' is both lead and responsible",
        id="platform-lead-and-responsible",
    ),
    pytest.param(
        lambda d: _add_unit(d, "teams", 4, "courts"),
        "teams[4] (code=law): lead unit 'courts' is not defined",
        id="team-unknown-lead-unit",
    ),
    pytest.param(
        lambda d: d["teams"][8].pop("lead"),
        "teams[8] (code=elites): a specialist team needs at least one lead unit",
        id="team-without-lead",
    ),
    pytest.param(
        lambda d: d["teams"][0].update(platform="theroy"),
        "teams[0] (code=theory): platform 'theroy' is not defined",
        id="team-unknown-platform",
    ),
    pytest.param(
        lambda d: d["categories"][0].pop("team"),
        "categories[0] (code=free_clinic).team: missing",
        id="category-without-team",
    ),
    pytest.param(
        lambda d: d["categories"][1].update(team="heath"),
        "categories[1] (code=bp_sugar): team 'heath' is not defined",
        id="category-unknown-team",
    ),
    pytest.param(
        lambda d: d["categories"][8].update(platform="sciense"),
        "categories[8] (code=crop_pests): platform 'sciense' is not defined",
        id="category-unknown-platform",
    ),
    pytest.param(
        lambda d: d["categories"][2].update(area="healht"),
        "categories[2] (code=health_talk): area 'healht' is not defined",
        id="category-unknown-area",
    ),
    pytest.param(
        lambda d: d["categories"][5].update(code="legal_advice"),
        "categories[5] (code=legal_advice): duplicate code 'legal_advice' (also categories[4]",
        id="duplicate-category-code",
    ),
    pytest.param(
        lambda d: d["squads"][0].update(code="health"),
        "squads[0] (code=health): duplicate code 'health' (also teams[5]",
        id="duplicate-code-team-and-squad",
    ),
    pytest.param(
        lambda d: d["units"][1].update(name_zh="党政办公室"),
        "units[1] (code=culture_station): duplicate name_zh '党政办公室' (also units[0]",
        id="duplicate-unit-name",
    ),
    pytest.param(
        lambda d: d["categories"][3].update(name_zh="义诊看病"),
        "categories[3] (code=haircut): duplicate name_zh '义诊看病'",
        id="duplicate-category-name",
    ),
    pytest.param(
        lambda d: d["squads"][2].update(station="miaomiao"),
        "squads[2] (code=squad_miaomiaohu): station 'miaomiao' is not defined",
        id="squad-unknown-station",
    ),
    pytest.param(
        lambda d: d["squads"].pop(6),
        "stations[6] (code=shijiataizi): has 0 squads, needs exactly one",
        id="station-without-squad",
    ),
    pytest.param(
        lambda d: d["policy"]["sla"].update(escalate_after="2 hours"),
        "policy.sla.escalate_after: bad duration '2 hours'",
        id="bad-duration",
    ),
    pytest.param(
        lambda d: d["policy"]["volunteer_reminders"].update(evening_before=1140),
        "policy.volunteer_reminders.evening_before: bad clock time 1140",
        id="unquoted-clock-time",
    ),
    pytest.param(
        lambda d: d["policy"]["scorecard"].update(hours=0.05),
        "policy.scorecard: weights sum to 0.95, must sum to 1",
        id="scorecard-weights",
    ),
    pytest.param(
        lambda d: d["platforms"][0].update(leads=["culture_station"]),
        "platforms[0] (code=theory).leads: unknown key",
        id="unknown-key",
    ),
    pytest.param(
        lambda d: d["units"][0].update(kind="ofice"),
        "units[0] (code=party_office).kind: Input should be",
        id="unknown-unit-kind",
    ),
    pytest.param(
        lambda d: d["categories"][0].update(name_zh="上门义诊看病量血压测血糖"),
        "categories[0] (code=free_clinic).name_zh: String should have at most 10 characters",
        id="category-name-too-long",
    ),
    pytest.param(
        lambda d: d["stations"][0].update(code="Dong-jie"),
        "stations[0] (code=Dong-jie).code: String should match pattern",
        id="bad-code",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), BAD)
def test_loader_error_names_the_key(tmp_path, mutate, expected):
    data = taole_data()
    mutate(data)
    with pytest.raises(OrgConfigError) as caught:
        load_org_config(write(tmp_path, data))
    assert any(expected in line for line in str(caught.value).splitlines())


def test_every_problem_on_its_own_line(tmp_path):
    data = taole_data()
    data["categories"][1]["team"] = "heath"
    data["categories"][2]["area"] = "healht"
    data["teams"][4]["lead"].append("courts")
    with pytest.raises(OrgConfigError) as caught:
        load_org_config(write(tmp_path, data))
    assert len(caught.value.problems) == 3
    assert len(str(caught.value).splitlines()) == 3
