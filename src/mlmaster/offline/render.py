"""Turning a recipe and a profile into a complete, self-contained Python script."""

from __future__ import annotations

import json
import textwrap
from functools import cache
from importlib import resources

from mlmaster.offline.profile import DataProfile
from mlmaster.offline.recipe import Recipe


@cache
def script_body() -> str:
    """The runtime every script carries (see :mod:`mlmaster.offline.script_body`)."""
    return resources.files("mlmaster.offline").joinpath("script_body.py").read_text("utf-8")


def script_config(recipe: Recipe, profile: DataProfile) -> dict[str, object]:
    """What the script's ``main`` reads: the data's facts and the recipe, as plain JSON."""
    return {
        "train_file": profile.train_file,
        "test_file": profile.test_file,
        "sample_file": profile.sample_file,
        "id_column": profile.id_column,
        "target_columns": profile.target_columns,
        "task": profile.task,
        "metric": profile.metric,
        "lower_is_better": profile.lower_is_better,
        "metric_k": profile.metric_k,
        "output": profile.output,
        "class_columns": profile.class_columns,
        "classes": profile.classes,
        "labels": profile.labels,
        "positive_label": profile.positive_label,
        "negative_label": profile.negative_label,
        "non_negative": profile.non_negative,
        "columns": profile.columns.model_dump(),
        "recipe": recipe.model_dump(),
    }


def comment_block(text: str) -> str:
    wrapped = textwrap.wrap(text, width=96) or [""]
    return "\n".join(f"# {line}" for line in wrapped)


def render_script(recipe: Recipe, profile: DataProfile, plan: str) -> str:
    config = json.dumps(script_config(recipe, profile), indent=1, sort_keys=True)
    return "\n".join(
        [
            comment_block(plan),
            recipe.marker_line(),
            "",
            script_body().rstrip(),
            "",
            "",
            f"CONFIG = json.loads({config!r})",
            "",
            'if __name__ == "__main__":',
            "    main(CONFIG)",
            "",
        ]
    )
