"""Shared fixtures for every test folder."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _root_log_handlers_restored() -> Iterator[None]:
    """Each test takes away the root logger's handlers it added.

    A run routes logging into its run directory's log file until something reconfigures it;
    a test's run directory is removed after the test (or its module), and a later test in the
    same worker that logs would then write into a file that is gone.
    """
    root = logging.getLogger()
    before = list(root.handlers)
    yield
    for handler in list(root.handlers):
        if handler not in before:
            root.removeHandler(handler)
            handler.close()
