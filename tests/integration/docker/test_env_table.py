"""The README's environment-variable table is the one the settings model renders."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mlmaster.settings.envdoc import END_MARKER, START_MARKER, render_env_table, replace_table
from mlmaster.settings.model import Settings

README = Path(__file__).resolve().parents[3] / "README.md"


def _readme_table() -> str:
    text = README.read_text(encoding="utf-8")
    start, end = text.index(START_MARKER) + len(START_MARKER), text.index(END_MARKER)
    return text[start:end].lstrip("\n")


def test_readme_table_is_current() -> None:
    assert _readme_table() == render_env_table(), (
        "the README's environment table is stale; run: python -m mlmaster.settings.envdoc README.md"
    )


def _leaf_keys(model: type, prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():  # type: ignore[attr-defined]
        annotation = field.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            keys += _leaf_keys(annotation, f"{prefix}{name}__")
        else:
            keys.append(f"MLMASTER_{prefix}{name}".upper())
    return keys


def test_every_setting_has_a_row_with_its_type_and_default() -> None:
    rows = {
        line.split("|")[1].strip().strip("`"): line for line in render_env_table().splitlines()[2:]
    }
    for key in _leaf_keys(Settings):
        assert key in rows, key
    assert "`12h`" in rows["MLMASTER_BUDGET__TIME_LIMIT"]
    assert "duration" in rows["MLMASTER_BUDGET__TIME_LIMIT"]
    assert "one of offline, openai, replay" in rows["MLMASTER_LLM__CODER__PROVIDER"]
    assert "size" in rows["MLMASTER_EXECUTION__MEMORY_LIMIT"]
    assert "`unset`" in rows["MLMASTER_RUN__COMPETITION"]
    assert "MLMASTER_PROFILE" in rows


@pytest.mark.parametrize(
    "variable", ["MLMASTER_BUDGET__EXEC_TIMEOUT", "MLMASTER_LLM__CODER__MODEL"]
)
def test_each_variable_named_in_the_table_sets_its_setting(variable: str) -> None:
    # The names are not just formatted: the settings loader reads them.
    from mlmaster.settings.load import load_settings

    value = "45s" if "TIMEOUT" in variable else "some-model"
    settings = load_settings(environ={variable: value})
    if "TIMEOUT" in variable:
        assert settings.budget.exec_timeout == 45.0
    else:
        assert settings.llm.coder.model == "some-model"


def test_replace_table_keeps_the_text_around_it() -> None:
    readme = f"intro\n{START_MARKER}\nold\n{END_MARKER}\noutro\n"
    assert replace_table(readme, "new\n") == f"intro\n{START_MARKER}\nnew\n{END_MARKER}\noutro\n"
    with pytest.raises(ValueError, match="lacks the markers"):
        replace_table("no markers here", "new\n")


def test_check_mode_reports_a_stale_table(tmp_path: Path) -> None:
    stale = tmp_path / "README.md"
    stale.write_text(f"# x\n{START_MARKER}\n| old |\n{END_MARKER}\n", encoding="utf-8")
    command = [sys.executable, "-m", "mlmaster.settings.envdoc"]
    check = subprocess.run([*command, "--check", str(stale)], capture_output=True, text=True)
    assert check.returncode == 1 and "stale" in check.stderr
    write = subprocess.run([*command, str(stale)], capture_output=True, text=True)
    assert write.returncode == 0
    assert "MLMASTER_RUN__COMPETITION" in stale.read_text()
    again = subprocess.run([*command, "--check", str(stale)], capture_output=True, text=True)
    assert again.returncode == 0
