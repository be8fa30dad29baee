"""Tracebacks as scripts print them, parsed into type, message and failing line."""

from __future__ import annotations

from mlmaster.execution.tracebacks import parse_traceback

NESTED = """\
some warning printed first
Traceback (most recent call last):
  File "/ws/solution.py", line 12, in <module>
    main()
  File "/ws/solution.py", line 9, in main
    y = df["target"]
        ~~^^^^^^^^^^
  File "/venv/lib/python3.11/site-packages/pandas/core/frame.py", line 4102, in __getitem__
    indexer = self.columns.get_loc(key)
KeyError: 'target'
"""

CHAINED = """\
Traceback (most recent call last):
  File "/ws/solution.py", line 3, in <module>
    int("x")
ValueError: invalid literal for int() with base 10: 'x'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/ws/solution.py", line 5, in <module>
    raise RuntimeError("could not parse")
RuntimeError: could not parse
"""

SYNTAX = """\
  File "/ws/solution.py", line 4
    def f(:
          ^
SyntaxError: invalid syntax
"""


def test_reports_the_deepest_frame_in_the_script():
    exc = parse_traceback(NESTED, "solution.py")
    assert exc is not None
    assert (exc.type, exc.message) == ("KeyError", "'target'")
    assert (exc.file, exc.line, exc.code_line) == ("/ws/solution.py", 9, 'y = df["target"]')


def test_without_a_script_name_the_deepest_frame():
    exc = parse_traceback(NESTED)
    assert exc is not None and exc.line == 4102


def test_the_last_of_chained_tracebacks():
    exc = parse_traceback(CHAINED, "solution.py")
    assert exc is not None
    assert (exc.type, exc.message, exc.line) == ("RuntimeError", "could not parse", 5)


def test_syntax_error_without_header():
    exc = parse_traceback(SYNTAX, "solution.py")
    assert exc is not None
    assert (exc.type, exc.message, exc.line) == ("SyntaxError", "invalid syntax", 4)


def test_dotted_type_and_no_message():
    text = 'Traceback (most recent call last):\n  File "/ws/solution.py", line 1, in <module>\n'
    text += "    raise m.Custom\nmodule.sub.Custom\n"
    exc = parse_traceback(text, "solution.py")
    assert exc is not None and (exc.type, exc.message) == ("module.sub.Custom", "")


def test_no_traceback():
    assert parse_traceback("all good\nscore: 0.9\n") is None
