"""Whatever bytes arrive, validation answers with a verdict and never raises."""

from __future__ import annotations

from pathlib import Path

from competition_tiny import write_competition
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlmaster.competition.layout import Competition, load_competition
from mlmaster.competition.validation import validate_submission

CSV_PIECES = st.sampled_from(
    [b"id", b"target", b",", b"\n", b"\r\n", b'"', b"r100", b"0.5", b"nan", b"-1", b"\xff", b" "]
)


def _competition(tmp_path_factory_dir: Path) -> Competition:
    write_competition(tmp_path_factory_dir, "logloss")
    return load_competition(tmp_path_factory_dir, "logloss")


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.lists(CSV_PIECES, max_size=60).map(b"".join),
        st.text(max_size=200).map(lambda t: ("id,target\n" + t).encode("utf-8", "surrogatepass")),
    )
)
def test_any_bytes_get_a_verdict(tmp_path: Path, content: bytes) -> None:
    data_dir = tmp_path / "data"
    if not data_dir.exists():
        data_dir.mkdir()
        write_competition(data_dir, "logloss")
    competition = load_competition(data_dir, "logloss")
    path = tmp_path / "fuzz.csv"
    path.write_bytes(content)
    outcome = validate_submission(competition, path)
    assert outcome.message.startswith("Submission ")
    assert outcome.is_valid == (outcome.message == "Submission is valid.")


def test_a_directory_or_unreadable_path_is_invalid(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    competition = _competition(data_dir)
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    outcome = validate_submission(competition, folder)
    assert not outcome.is_valid and "no file at" in outcome.message
