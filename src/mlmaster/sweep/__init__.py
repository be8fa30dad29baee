"""Sweeps: many runs (competitions x seeds) at once, on one machine or a Ray cluster, graded and
summarised as MLE-bench reports them.

::

    plan.py      what to run: SweepPlan (competitions, seeds, splits, resources) in sweep.json
    status.py    what has run: each run's state read from the sweep directory
    carve.py     disjoint CPU sets and GPUs for runs that share one machine (pure)
    task.py      one run of a sweep: run it (or resume it), grade it, write its outcome
    backends/    where tasks run: ``local`` (processes here) and ``ray`` (a cluster)
    report.py    the aggregate: per competition and split, valid/median/medal rates over seeds
    runner.py    the loop: plan -> tasks -> backend -> progress -> report

The sweep directory is the only shared state; a sweep is resumed from it alone::

    <sweep>/sweep.json                   the plan
    <sweep>/<competition>/seed-<n>/      a run directory (journal, best/, report.html, ...)
    <sweep>/<competition>/seed-<n>.json  the run's outcome and grade, once it has ended
    <sweep>/<competition>/seed-<n>.log   the run's console output
    <sweep>/<competition>/seed-<n>.where.json  where it executes (host, pid) while it runs
    <sweep>/report.{json,md,html}        the aggregate report
"""
