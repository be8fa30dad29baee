"""Head-and-tail capture keeps at most the cap and says how much it cut."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mlmaster.execution.capture import HeadTail


def test_short_output_is_kept_whole():
    sink = HeadTail(100)
    sink.feed(b"hello ")
    sink.feed(b"world")
    out = sink.result()
    assert out.text == "hello world"
    assert (out.total_bytes, out.cut_bytes) == (11, 0)


_ASCII = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=300)


@given(st.lists(_ASCII, max_size=30), st.integers(2, 200))
def test_keeps_the_first_and_last_bytes_within_the_cap(texts: list[str], cap: int):
    sink = HeadTail(cap)
    for text in texts:
        sink.feed(text.encode())
    whole = "".join(texts).encode()
    out = sink.result()
    assert out.total_bytes == len(whole)
    kept = min(len(whole), cap)
    assert out.cut_bytes == len(whole) - kept
    head, tail = cap // 2, cap - cap // 2
    if len(whole) > cap:
        assert out.head == whole[:head].decode()
        assert out.tail == whole[-tail:].decode()
        assert f"[... {out.cut_bytes} bytes cut ...]" in out.text
    else:
        assert out.text == whole.decode()
