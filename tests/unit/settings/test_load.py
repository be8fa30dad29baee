"""Source precedence and every class of settings error, each naming key and source."""

from pathlib import Path

import pytest

from mlmaster.settings import SettingsLoadError, load_settings


@pytest.fixture
def profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A settings folder of our own: default.toml and a profile 'fast'."""
    (tmp_path / "default.toml").write_text('[budget]\ntime_limit = "2h"\nexec_timeout = "10m"\n')
    (tmp_path / "fast.toml").write_text('[budget]\ntime_limit = "5m"\n[search]\nnum_drafts = 2\n')
    monkeypatch.setenv("MLMASTER_SETTINGS_DIR", str(tmp_path))
    return tmp_path


def test_defaults_then_default_toml(profiles: Path) -> None:
    s = load_settings(environ={})
    assert s.budget.time_limit == 7200
    assert s.budget.exec_timeout == 600
    assert s.search.num_drafts == 5  # untouched default


def test_profile_overrides_default_toml(profiles: Path) -> None:
    s = load_settings("fast", environ={})
    assert s.budget.time_limit == 300
    assert s.budget.exec_timeout == 600  # still from default.toml
    assert s.search.num_drafts == 2


def test_profile_from_environment(profiles: Path) -> None:
    s = load_settings(environ={"MLMASTER_PROFILE": "fast"})
    assert s.budget.time_limit == 300


def test_environment_overrides_profile(profiles: Path) -> None:
    s = load_settings("fast", environ={"MLMASTER_BUDGET__TIME_LIMIT": "90m"})
    assert s.budget.time_limit == 5400
    assert s.search.num_drafts == 2


def test_flags_override_environment(profiles: Path) -> None:
    s = load_settings(
        "fast",
        overrides={"budget": {"time_limit": "1h"}, "search": {"workers": None}},
        environ={"MLMASTER_BUDGET__TIME_LIMIT": "90m", "MLMASTER_SEARCH__WORKERS": "3"},
    )
    assert s.budget.time_limit == 3600
    assert s.search.workers == 3  # a flag left unset (None) does not mask the environment


def test_nested_environment_and_lists(profiles: Path) -> None:
    s = load_settings(
        environ={
            "MLMASTER_LLM__CODER__MODEL": "deepseek-reasoner",
            "MLMASTER_EXECUTION__CPUS": "0-3",
            "mlmaster_execution__gpus": "0,1",
        }
    )
    assert s.llm.coder.model == "deepseek-reasoner"
    assert s.execution.cpus == [0, 1, 2, 3]
    assert s.execution.gpus == [0, 1]


def _problems(**kwargs: object) -> list[str]:
    with pytest.raises(SettingsLoadError) as caught:
        load_settings(**kwargs)  # type: ignore[arg-type]
    return caught.value.problems


def test_unknown_key_in_profile_names_key_and_file(profiles: Path) -> None:
    (profiles / "typo.toml").write_text("[budget]\ntime_limt = 5\n")
    [line] = _problems(profile="typo", environ={})
    assert line.startswith("budget.time_limt (")
    assert "typo.toml" in line and "unknown setting" in line


def test_unknown_environment_key_and_group(profiles: Path) -> None:
    problems = _problems(environ={"MLMASTER_BUGDET__TIME_LIMIT": "5"})
    assert problems == [
        "MLMASTER_BUGDET__TIME_LIMIT (environment): unknown setting group 'bugdet'; groups are "
        "budget, competition, execution, grader, llm, log, memory, run, search, selection, sweep"
    ]
    [line] = _problems(environ={"MLMASTER_BUDGET__TIME_LIMT": "5"})
    assert line == "budget.time_limt (environment MLMASTER_BUDGET__TIME_LIMT): unknown setting"


def test_wrong_type_names_source(profiles: Path) -> None:
    [line] = _problems(environ={"MLMASTER_SEARCH__NUM_DRAFTS": "many"})
    assert line.startswith("search.num_drafts (environment MLMASTER_SEARCH__NUM_DRAFTS):")
    assert "integer" in line


def test_negative_budget(profiles: Path) -> None:
    [line] = _problems(overrides={"budget": {"time_limit": "-1h"}}, environ={})
    assert line.startswith("budget.time_limit (command line):")


def test_zero_budget(profiles: Path) -> None:
    [line] = _problems(overrides={"budget": {"time_limit": 0}}, environ={})
    assert "time_limit must be above zero" in line


def test_unknown_profile_lists_known(profiles: Path) -> None:
    assert _problems(profile="nope", environ={}) == [
        "unknown profile 'nope' (known profiles: default, fast)"
    ]


def test_malformed_toml(profiles: Path) -> None:
    (profiles / "broken.toml").write_text("[budget\ntime_limit = 5\n")
    [line] = _problems(profile="broken", environ={})
    assert "broken.toml: malformed TOML" in line


def test_unreadable_file(profiles: Path) -> None:
    directory = profiles / "dir.toml"
    directory.mkdir()  # a profile path that cannot be read as a file
    [line] = _problems(profile=str(directory), environ={})
    assert "dir.toml" in line


def test_several_problems_one_line_each(profiles: Path) -> None:
    problems = _problems(
        environ={"MLMASTER_SEARCH__NUM_DRAFTS": "x", "MLMASTER_EXECUTION__CPUS": "3-1"}
    )
    assert len(problems) == 2


def test_shipped_profiles_load() -> None:
    for name in ("default", "mlebench", "mlebench-api", "ci"):
        assert load_settings(name, environ={}).budget.time_limit > 0
    mlebench = load_settings("mlebench", environ={})
    assert mlebench.budget.time_limit == 12 * 3600
    assert mlebench.execution.cpus == list(range(36))
    assert mlebench.execution.gpus == [0]
    assert mlebench.llm.coder.model == "deepseek-ai/DeepSeek-R1"
    assert mlebench.llm.feedback.model.startswith("gpt-4o")
    assert load_settings("ci", environ={}).llm.coder.provider == "offline"


def test_resumed_settings_sit_between_environment_and_flags(profiles: Path) -> None:
    saved = {"budget": {"time_limit": "3h", "exec_timeout": "20m"}, "search": {"workers": None}}
    s = load_settings(
        overrides={"budget": {"time_limit": "4h"}},
        environ={"MLMASTER_BUDGET__EXEC_TIMEOUT": "5m", "MLMASTER_SEARCH__WORKERS": "3"},
        resumed=saved,
    )
    assert s.budget.time_limit == 4 * 3600  # a flag given now wins
    assert s.budget.exec_timeout == 20 * 60  # the run's own setting beats the environment
    assert s.search.workers == 3  # an unset saved value masks nothing


def test_a_bad_resumed_setting_names_the_run_file(profiles: Path) -> None:
    [line] = _problems(
        environ={}, resumed={"search": {"num_drafts": "x"}}, resumed_from="runs/r/settings.json"
    )
    assert line.startswith("search.num_drafts (runs/r/settings.json):")


def test_final_reserve_must_leave_time_to_search(profiles: Path) -> None:
    [line] = _problems(
        overrides={"budget": {"time_limit": "1m", "final_reserve": "2m"}}, environ={}
    )
    assert line.startswith("budget (command line):")
    assert "final_reserve (120 s) must be below time_limit (60 s)" in line


def test_workers_have_an_upper_bound(profiles: Path) -> None:
    [line] = _problems(environ={"MLMASTER_SEARCH__WORKERS": "100000000"})
    assert line.startswith("search.workers (environment MLMASTER_SEARCH__WORKERS):")
    assert "less than or equal" in line


@pytest.mark.parametrize(
    ("name", "value", "fix"),
    [
        ("MLMASTER_BUDGET", "x", "MLMASTER_BUDGET__<KEY>=value"),
        ("MLMASTER_SEARCH__UCT_DECAY", "[[0, 1", "as JSON"),
    ],
)
def test_unreadable_variable_is_named_with_its_fix(
    profiles: Path, name: str, value: str, fix: str
) -> None:
    [line] = _problems(environ={name: value, "MLMASTER_BUDGET__TIME_LIMIT": "1h"})
    assert line.startswith(f"{name} (environment): ")
    assert fix in line
