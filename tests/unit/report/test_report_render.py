"""The HTML report: drawn tree, escaping, colours, chart, sizes from 0 to 500 nodes."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlmaster.execution.sandbox import SandboxInfo
from mlmaster.journal import RunStarted
from mlmaster.report import load_run, render_report, write_report
from mlmaster.report.chart import best_chart
from mlmaster.report.layout import ROOT, layout_tree
from mlmaster.report.render import embed_json, node_fills

XSS = "</script><script>alert(1)</script><!-- <img src=x onerror=alert(2)>"


class Page(HTMLParser):
    """What a browser's parser would build, as far as the tests need it."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.script_text: list[str] = []
        self.nodes: list[dict[str, str | None]] = []
        self.best_marks = 0
        self.external: list[str] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self.scripts.append(found)
            self._in_script = True
            self.script_text.append("")
        classes = (found.get("class") or "").split()
        if tag == "g" and "node" in classes:
            self.nodes.append(found)
        if tag == "circle" and "best-mark" in classes:
            self.best_marks += 1
        for name in ("src", "href"):
            if found.get(name):
                self.external.append(str(found[name]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text[-1] += data

    def data(self) -> dict:  # type: ignore[type-arg]
        index = next(i for i, s in enumerate(self.scripts) if s.get("id") == "run-data")
        return json.loads(self.script_text[index])


def render(path: Path) -> Page:
    return Page(write_report(path).read_text())


def test_report_is_written_into_the_run_directory(run) -> None:
    run.start()
    run.node("a", metric=0.5)
    path = write_report(run.path)
    assert path == run.path / "report.html"
    assert path.read_text().startswith("<!doctype html>")
    assert [p.name for p in run.path.iterdir() if p.name.startswith(".report-")] == []


def test_zero_nodes(run) -> None:
    run.start()
    html = write_report(run.path).read_text()
    page = Page(html)
    assert page.nodes == []
    assert "No node yet" in html
    assert "No valid node yet" in html
    assert page.data()["nodes"] == {}


def test_one_node_is_drawn_and_marked_best(run) -> None:
    run.start()
    run.node("only", metric=0.42)
    run.end(best="only")
    page = render(run.path)
    assert [n["data-node"] for n in page.nodes] == ["only"]
    assert "best" in (page.nodes[0]["class"] or "")
    assert page.best_marks == 1


def test_five_hundred_nodes_one_element_each(run) -> None:
    run.start()
    for i in range(500):
        parent = None if i % 50 == 0 else f"n{i - 1}"  # ten long chains: deep trees
        run.node(f"n{i}", parent=parent, metric=None if i % 7 == 0 else i / 1000, finished=i)
    run.folder("late", plan_md="in flight")
    page = render(run.path)
    assert len(page.nodes) == 501
    assert len({n["data-node"] for n in page.nodes}) == 501
    assert len(page.data()["nodes"]) == 501
    assert page.best_marks == 1


def test_untrusted_text_stays_inert(run) -> None:
    run.start()
    run.node("a", metric=0.5, plan=XSS, code=XSS, review_summary=XSS, bug_reason=XSS)
    run.node(XSS, metric=0.6, execution={"output_tail": XSS})
    html = write_report(run.path).read_text()
    page = Page(html)

    assert "<script>alert" not in html
    assert "<img" not in html
    assert len(page.scripts) == 2  # the data block and the page's own script, nothing more
    data = page.data()
    assert data["nodes"]["a"]["plan"] == XSS  # the text survives exactly, as data
    assert data["nodes"][XSS]["output_tail"] == XSS
    assert {n["data-node"] for n in page.nodes} == {"a", XSS}


def test_no_network_is_reachable_from_the_page(run) -> None:
    run.start()
    run.node("a", metric=0.5)
    html = write_report(run.path).read_text()
    page = Page(html)
    assert page.external == []
    assert "default-src 'none'" in html
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", html)


def test_header_facts(run) -> None:
    run.start()
    run.node("a", metric=0.25)
    run.node("b", parent="a", metric=None)
    run.end(
        best="a",
        elapsed=3725,
        roles={"coder": {"calls": 2, "input_tokens": 1500, "output_tokens": 500, "cost": 0.125}},
    )
    html = write_report(run.path).read_text()
    assert "toy-competition" in html
    assert "run-1" in html
    assert "ended: time limit reached" in html
    assert "0.25" in html
    assert "higher is better" in html
    assert "2 committed: 1 valid, 1 buggy<" in html
    assert "1:02:05" in html
    assert "2,000 tokens" in html
    assert "$0.1250" in html


def test_valid_nodes_are_coloured_by_rank_and_buggy_red(lower_run) -> None:
    lower_run.start()
    lower_run.node("best", metric=0.1)
    lower_run.node("mid", metric=0.2)
    lower_run.node("worst", metric=0.3)
    lower_run.node("bug", metric=None)
    fills = node_fills(load_run(lower_run.path))
    assert fills["bug"] == "#d73a3a"
    hues = [int(re.match(r"hsl\((\d+)", fills[k]).group(1)) for k in ("best", "mid", "worst")]  # type: ignore[union-attr]
    assert hues[0] > hues[1] > hues[2]  # green for the best, towards yellow for the worst


def test_unknown_validity_has_its_own_colour_count_and_legend(run) -> None:
    run.start()
    run.node("ok", metric=0.5)
    run.node("bug", metric=None)
    run.node("unchecked", metric=0.9, buggy=False, valid_submission=False)
    report = load_run(run.path)
    fills = node_fills(report)
    assert fills["unchecked"] not in (fills["bug"], fills["ok"])
    html = render_report(report)
    assert "3 committed: 1 valid, 1 buggy, 1 of unknown validity<" in html
    assert "validity unknown (no grader verdict)" in html
    assert 'class="node unknown_validity"' in html
    assert "unchecked · draft · unknown validity · 0.9</title>" in html


def test_layout_puts_children_below_and_parents_over_them(run) -> None:
    run.start()
    run.node("a", metric=0.1)
    run.node("b", parent="a", metric=0.2)
    run.node("c", parent="a", metric=0.3)
    run.node("d", metric=None)
    run.node("orphan", parent="missing", metric=0.4)
    tree = layout_tree(load_run(run.path).nodes)
    at = {p.id: p for p in tree.placed}
    assert at["b"].y == at["c"].y > at["a"].y > at[ROOT].y
    assert at["a"].x == (at["b"].x + at["c"].x) / 2
    assert at["orphan"].parent == ROOT
    assert len({(p.x, p.y) for p in tree.placed}) == len(tree.placed)  # no two overlap
    assert all(0 < p.x < tree.width and 0 < p.y < tree.height for p in tree.placed)


def test_layout_survives_a_parent_cycle(run) -> None:
    run.start()
    run.node("a", parent="b", metric=0.1)
    run.node("b", parent="a", metric=0.2)
    tree = layout_tree(load_run(run.path).nodes)
    assert {p.id for p in tree.placed} == {ROOT, "a", "b"}


def test_chart_draws_each_improvement(lower_run) -> None:
    lower_run.start()
    lower_run.node("a", metric=0.5, finished=10)
    lower_run.node("b", metric=0.7, finished=20)
    lower_run.node("c", metric=0.2, finished=30)
    chart = best_chart(load_run(lower_run.path))
    assert chart is not None
    assert [d.node_id for d in chart.dots if d.best] == ["a", "c"]
    points = [tuple(map(float, p.split(","))) for p in chart.line.split()]
    xs = [x for x, _ in points]
    assert xs == sorted(xs)  # time runs left to right
    assert points[-1][1] > points[0][1]  # the best fell (0.5 to 0.2): drawn lower


def test_chart_absent_without_valid_nodes(run) -> None:
    run.start()
    run.node("a", metric=None)
    assert best_chart(load_run(run.path)) is None


MARKUP_TEXT = st.text(alphabet=st.sampled_from("<>&/!-\u2028\u2029\"'\\script x"))


@given(
    st.recursive(
        MARKUP_TEXT | st.text() | st.floats(allow_nan=False) | st.none(), st.lists, max_leaves=8
    )
)
def test_embedded_json_never_holds_markup_and_reads_back(value: object) -> None:
    text = str(embed_json({"v": value}))
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"v": value}


def test_render_report_takes_a_loaded_run(run) -> None:
    run.start()
    run.node("a", metric=0.5)
    assert 'data-node="a"' in render_report(load_run(run.path))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | MARKUP_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(MARKUP_TEXT, inner, max_size=3),
    max_leaves=6,
)
NODE_KEYS = st.sampled_from(
    ["id", "parent_id", "parent", "operator", "status", "plan", "code", "metric", "buggy",
     "valid_submission", "bug_reason", "review_summary", "execution", "finished_at", "tokens",
     "cost", "worker_id"]
)  # fmt: skip


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=st.lists(st.dictionaries(NODE_KEYS, JSON_VALUES), max_size=4))
def test_any_node_records_render(tmp_path_factory, records) -> None:
    """Damaged or unexpected records (odd types, NaN, cycles, odd ids) still give a page."""
    path = tmp_path_factory.mktemp("run")
    (path / "journal.jsonl").write_text(
        "".join(json.dumps({"type": "node_committed", "node": r}) + "\n" for r in records)
    )
    page = Page(write_report(path).read_text())
    assert len(page.scripts) == 2
    page.data()  # the embedded data is valid JSON


def test_counts_name_steps_that_never_committed(run) -> None:
    run.start()
    run.node("a", metric=0.5)
    run.folder("b", plan_md="thinking")
    assert "1 committed: 1 valid, 0 buggy; 1 in flight<" in write_report(run.path).read_text()


def test_holdout_and_script_scores_are_tabled_with_their_gap_and_the_script_rank(run) -> None:
    run.start()  # higher is better
    run.node("a", metric=0.70, holdout_metric=0.70, script_metric=0.95)
    run.node("b", metric=0.80, holdout_metric=0.80, script_metric=0.85)
    run.node("c", parent="a", metric=None)
    run.end(best="b")
    html = write_report(run.path).read_text()
    section = html[html.index('id="selection"') :]
    section = section[: section.index("</section>")]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", section, flags=re.S)[1:]
    cells = [re.findall(r"<td>(.*?)</td>", row, flags=re.S) for row in rows]
    assert [re.sub(r"<[^>]+>", "", c[0]) for c in cells] == ["b (selected)", "a"]
    assert [c[1:] for c in cells] == [["0.8", "0.85", "-0.05", "2"], ["0.7", "0.95", "-0.25", "1"]]
    node = render(run.path).data()["nodes"]["a"]
    assert (node["holdout_metric"], node["script_metric"]) == (0.7, 0.95)


def test_no_holdout_scores_no_selection_table(run) -> None:
    run.start()
    run.node("a", metric=0.70)
    assert 'id="selection"' not in write_report(run.path).read_text()


def _start_with_sandbox(run, sandbox: SandboxInfo) -> None:  # type: ignore[no-untyped-def]
    run.journal.append_sync(
        RunStarted(competition="toy-competition", settings={}, started=1.0, sandbox=sandbox)
    )


def test_an_unsandboxed_run_says_so_and_what_scripts_could_reach(run) -> None:
    _start_with_sandbox(
        run,
        SandboxInfo(
            name="none",
            confined=False,
            user="uid 65534 on the host",
            network=True,
            exposes=["the network", "world-readable host files"],
        ),
    )
    html = write_report(run.path).read_text()
    banner = re.search(r'<p id="unsandboxed"[^>]*>([^<]*)</p>', html)
    assert banner is not None
    assert "without a sandbox, as uid 65534 on the host" in banner.group(1)
    assert "the network; world-readable host files" in banner.group(1)
    assert "none: scripts run as uid 65534 on the host; network reachable" in html


def test_a_sandboxed_run_shows_its_sandbox_and_no_warning(run) -> None:
    _start_with_sandbox(
        run,
        SandboxInfo(name="bwrap", confined=True, user="uid 65534, no capability", network=False),
    )
    html = write_report(run.path).read_text()
    assert 'id="unsandboxed"' not in html
    assert "bwrap: scripts run as uid 65534, no capability; no network" in html
