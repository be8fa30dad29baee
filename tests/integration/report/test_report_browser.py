"""The report in a real headless browser (Debian's chromium): it loads without script errors,
draws one tree element per node, opens a node's panel, and untrusted text stays inert."""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest

from mlmaster.journal import Journal, NodeCommitted, RunEnded, RunStarted
from mlmaster.report import write_report
from mlmaster.search.node import Node

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
)

# Would set body[data-pwned] if the page ever ran it; the plan must stay text.
ATTACK = "</script><script>document.body.dataset.pwned = '1'</script><b>bold?</b>"


def make_run(path: Path, count: int) -> Path:
    (path / "nodes").mkdir(parents=True)
    journal = Journal(path / "journal.jsonl")
    journal.append_sync(RunStarted(competition="toy", lower_is_better=False, started=1e9))
    for i in range(count):
        parent = None if i % 4 == 0 else f"n{i - 1}"
        node = Node.model_validate(
            {
                "id": f"n{i}",
                "parent_id": parent,
                "operator": "draft" if parent is None else "improve",
                "plan": ATTACK,
                "code": f"print({i})",
                "metric": None if i % 3 == 0 else i / count,
                "buggy": i % 3 == 0,
                "valid_submission": i % 3 != 0,
                "finished_at": 1e9 + i,
                "execution": {"exit_code": 0, "runtime": 1.0, "output_tail": "ok"},
            }
        )
        journal.append_sync(NodeCommitted(node=node))
    journal.append_sync(RunEnded(reason="done", best=None, elapsed=float(count)))
    journal.close()
    return path


class Dom(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.body: dict[str, str | None] = {}
        self.tree_nodes = 0
        self.panel: dict[str, str | None] = {}
        self.texts: dict[str, str] = {}
        self._open: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "body":
            self.body = found
        if tag == "g" and "node" in (found.get("class") or "").split():
            self.tree_nodes += 1
        if found.get("id") == "panel":
            self.panel = found
        if tag == "pre" and found.get("id"):
            self._open = str(found["id"])
            self.texts[self._open] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open:
            self.texts[self._open] += data


def dump_dom(report: Path, profile: Path, fragment: str = "") -> Dom:
    url = report.resolve().as_uri() + fragment
    done = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",  # tests run as root in CI containers
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "HOME": str(profile)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return Dom(done.stdout)


def check_loaded(dom: Dom) -> None:
    assert dom.body.get("data-error") is None, dom.body.get("data-error")
    assert dom.body.get("data-ready") == "1", "the page's script did not finish"
    assert dom.body.get("data-pwned") is None, "text from a plan ran as script"


def test_report_loads_and_draws_every_node(tmp_path: Path) -> None:
    report = write_report(make_run(tmp_path / "run", 40))
    dom = dump_dom(report, tmp_path / "profile")
    check_loaded(dom)
    assert dom.tree_nodes == 40
    assert "hidden" in dom.panel  # no node chosen yet


def test_a_node_link_opens_its_panel_with_the_text_inert(tmp_path: Path) -> None:
    report = write_report(make_run(tmp_path / "run", 5))
    dom = dump_dom(report, tmp_path / "profile", "#node=" + quote("n2"))
    check_loaded(dom)
    assert "hidden" not in dom.panel
    assert dom.panel.get("data-shown") == "n2"
    assert dom.texts["panel-plan"] == ATTACK  # shown as the exact text, not as markup
    assert dom.texts["panel-code"] == "print(2)"


def test_empty_and_large_runs_load(tmp_path: Path) -> None:
    for count in (0, 500):
        report = write_report(make_run(tmp_path / f"run{count}", count))
        profile = tmp_path / f"profile{count}"
        dom = dump_dom(report, profile)
        check_loaded(dom)
        assert dom.tree_nodes == count
        shutil.rmtree(profile, ignore_errors=True)
