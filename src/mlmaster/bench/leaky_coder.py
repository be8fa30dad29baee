"""A coder for the benchmark only: the offline coder's honest scripts, some made to leak.

It never runs in ``mlmaster run`` (no setting names it). It answers like the offline coder,
then, for a seeded share of the nodes, edits the script so that the score it prints is
optimistic the way an LLM's scripts often are, while its predictions stay as they were: the
holdout exists for these scripts, and the honest offline coder never writes one.

The stated model (:class:`LeakRates`, printed next to the results):

* **training score**: every validation row is also in its fold's training rows, so the printed
  score is an in-sample score (a script that "validates" on what it fit); the test predictions
  are the same fold models' average, each fit on every row. A threshold or cut-off tuned on
  those in-sample predictions is tuned on the training fit, as such a script would.
* **best fold**: the script reports its luckiest of k validation folds instead of the
  out-of-fold score over every row (a script tuned on, or reporting, its best split).
* A draft leaks with ``draft_training`` / ``draft_best_fold``; the child of a leaking script
  (improve or debug) keeps its parent's leak, since an edit keeps the validation code; the
  child of an honest one starts a leak with ``edit_training`` / ``edit_best_fold``.
"""

from __future__ import annotations

import random

from pydantic import BaseModel

from mlmaster.llm.requests import CodeAnswer, Coder, CodeRequest

MARKER = "# benchmark leak: "
MAIN_GUARD = 'if __name__ == "__main__":'

# Appended to the offline script's runtime (before its main call): each redefines one function
# of :mod:`mlmaster.offline.script_body`, which the script looks up by name when it runs.
TRAINING_SCORE = '''
_honest_splitter = splitter


class _SeenRows:
    """Each fold validates on rows it also trained on."""

    def __init__(self, inner):
        self.inner = inner

    def split(self, X, y=None):
        every = np.arange(len(X))
        return [(every, valid) for _, valid in self.inner.split(X, y)]


def splitter(cfg, y, classifier):
    return _SeenRows(_honest_splitter(cfg, y, classifier))
'''

BEST_FOLD = '''
_honest_score = competition_score


def _rows(values, rows):
    return [values[i] for i in rows] if isinstance(values, list) else values[rows]


def competition_score(cfg, truths, preds):
    """The best of the folds' scores instead of the score over every row."""
    folds = KFold(cfg["recipe"]["folds"], shuffle=True, random_state=0)
    scores = [
        _honest_score(cfg, [_rows(t, r) for t in truths], [_rows(p, r) for p in preds])
        for _, r in folds.split(np.arange(len(truths[0])))
    ]
    return min(scores) if cfg["lower_is_better"] else max(scores)
'''

LEAKS = {"training-score": TRAINING_SCORE, "best-fold": BEST_FOLD}


class LeakRates(BaseModel):
    """How often a script leaks (see the module docstring)."""

    draft_training: float = 0.2
    draft_best_fold: float = 0.2
    edit_training: float = 0.05
    edit_best_fold: float = 0.05


def leak_in(code: str | None) -> str | None:
    """The leak a script carries (by its marker line), or None."""
    for kind in LEAKS:
        if code and f"{MARKER}{kind}" in code:
            return kind
    return None


def choose_leak(request: CodeRequest, rates: LeakRates) -> str | None:
    """The leak this node's script gets: its parent's, else a seeded draw."""
    parent = request.parent
    inherited = leak_in(parent.code) if parent is not None else None
    if inherited is not None:
        return inherited
    draw = random.Random(f"leak:{request.seed}:{request.node_id}").random()
    training, best_fold = (
        (rates.draft_training, rates.draft_best_fold)
        if parent is None
        else (rates.edit_training, rates.edit_best_fold)
    )
    if draw < training:
        return "training-score"
    if draw < training + best_fold:
        return "best-fold"
    return None


def with_leak(code: str, kind: str) -> str:
    """The offline script with ``kind``'s redefinitions placed before its main call."""
    at = code.rfind(MAIN_GUARD)
    if at < 0:  # not an offline modelling script (e.g. a baseline): left as it is
        return code
    return f"{code[:at]}{MARKER}{kind}\n{LEAKS[kind]}\n\n{code[at:]}"


class LeakyCoder:
    """A :class:`~mlmaster.llm.requests.Coder` wrapping another, leaking at ``rates``."""

    def __init__(self, inner: Coder, rates: LeakRates | None = None) -> None:
        self.inner = inner
        self.rates = rates or LeakRates()

    async def generate(self, request: CodeRequest) -> CodeAnswer:
        answer = await self.inner.generate(request)
        kind = choose_leak(request, self.rates)
        if answer.code is None or kind is None:
            return answer
        return answer.model_copy(update={"code": with_leak(answer.code, kind)})
