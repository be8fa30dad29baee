"""The human spellings settings accept: durations, sizes, CPU and GPU lists."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlmaster.settings.units import format_ids, parse_duration, parse_id_list, parse_size


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("12h", 43200),
        ("90m", 5400),
        ("45s", 45),
        ("1h30m", 5400),
        ("250ms", 0.25),
        ("30", 30),
        (7.5, 7.5),
        ("2d", 172800),
    ],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["12x", "h", "-5", "1h 30", True, None, "12h-3m"])
def test_bad_durations_say_how_to_write_one(bad: object) -> None:
    with pytest.raises(ValueError, match=r"duration"):
        parse_duration(bad)


@pytest.mark.parametrize(
    ("text", "size"), [("512M", 512 * 2**20), ("8G", 8 * 2**30), ("8GiB", 8 * 2**30), ("100", 100)]
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_bad_size() -> None:
    with pytest.raises(ValueError, match="not a size"):
        parse_size("lots")


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("0-3", [0, 1, 2, 3]),
        ("0,2,4-7", [0, 2, 4, 5, 6, 7]),
        ("all", "all"),
        ("none", "none"),
        ("5,1,1", [1, 5]),
        ([3, 1], [1, 3]),
    ],
)
def test_id_lists(text: object, ids: object) -> None:
    assert parse_id_list(text, what="CPU") == ids


@pytest.mark.parametrize("bad", ["3-1", "a", "1,,x", [-1], [True]])
def test_bad_id_lists(bad: object) -> None:
    with pytest.raises(ValueError, match="CPU"):
        parse_id_list(bad, what="CPU")


@given(st.sets(st.integers(0, 300), min_size=1))
def test_id_list_round_trips_through_its_compact_form(ids: set[int]) -> None:
    assert parse_id_list(format_ids(sorted(ids)), what="CPU") == sorted(ids)


@pytest.mark.parametrize("bad", ["nan", "inf", "1e400", float("nan"), float("inf"), "-inf", 1e300])
def test_durations_must_be_finite_and_sane(bad: object) -> None:
    with pytest.raises(ValueError, match="not a usable duration"):
        parse_duration(bad)


@pytest.mark.parametrize("bad", [0, "0", "0M", "0.1", float("nan"), float("inf"), 1e400, "9e99"])
def test_sizes_must_be_at_least_a_byte_and_finite(bad: object) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_size(bad)


@pytest.mark.parametrize("bad", ["0-1000000", "99999", [0, 10**9], 10**6])
def test_ids_beyond_any_machine_are_refused_in_a_short_line(bad: object) -> None:
    with pytest.raises(ValueError, match="does not exist on any machine") as caught:
        parse_id_list(bad, what="CPU")
    assert len(str(caught.value)) < 120


def test_id_listings_compress_ranges() -> None:
    assert format_ids([5, 0, 1, 2, 3, 9, 10]) == "0-3,5,9-10"
    assert format_ids(list(range(8000))) == "0-7999"
