"""Settings: one typed model, loaded from defaults, profiles, environment and flags."""

from mlmaster.settings.load import SettingsLoadError, available_profiles, load_settings
from mlmaster.settings.model import (
    BudgetSettings,
    EndpointSettings,
    ExecutionSettings,
    GraderSettings,
    LLMSettings,
    LogSettings,
    MemorySettings,
    RunSettings,
    SearchSettings,
    Settings,
)
from mlmaster.settings.units import parse_duration, parse_id_list, parse_size

__all__ = [
    "BudgetSettings",
    "EndpointSettings",
    "ExecutionSettings",
    "GraderSettings",
    "LLMSettings",
    "LogSettings",
    "MemorySettings",
    "RunSettings",
    "SearchSettings",
    "Settings",
    "SettingsLoadError",
    "available_profiles",
    "load_settings",
    "parse_duration",
    "parse_id_list",
    "parse_size",
]
