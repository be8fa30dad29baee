"""The bundled offline suite: nine small competitions built from data in installed packages.

``build_suite(dest)`` writes them in MLE-bench's prepared layout; ``suite.references``
regenerates their frozen leaderboards from reference solutions.
"""

from mlmaster.competition.suite.build import SuiteBuildReport, build_suite
from mlmaster.competition.suite.catalog import CATALOG, SUITE_IDS, SuiteCompetition

__all__ = ["CATALOG", "SUITE_IDS", "SuiteBuildReport", "SuiteCompetition", "build_suite"]
