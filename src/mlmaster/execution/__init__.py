"""execution part: slots, workspaces, the sandbox, and running one script to its end.

The orchestrator needs :class:`Executor` and :class:`Workspace`; the rest is exported for
tests, the benchmark and anyone wiring a custom topology.
"""

from mlmaster.execution.hardware import Hardware, SlotHardware
from mlmaster.execution.interpreter import default_script_python, resolve_script_python
from mlmaster.execution.result import CapturedOutput, ExecutionResult, ScriptException
from mlmaster.execution.runner import Executor, run_script, script_env
from mlmaster.execution.sandbox import (
    Sandbox,
    SandboxInfo,
    register_sandbox,
    resolve_sandbox,
    sandbox_names,
)
from mlmaster.execution.slots import SlotPool
from mlmaster.execution.topology import (
    SlotSpec,
    default_slot_count,
    detect_cpus,
    detect_gpus,
    plan_slots,
)
from mlmaster.execution.tracebacks import parse_traceback
from mlmaster.execution.workspace import Workspace

__all__ = [
    "CapturedOutput",
    "ExecutionResult",
    "Executor",
    "Hardware",
    "Sandbox",
    "SandboxInfo",
    "ScriptException",
    "SlotHardware",
    "SlotPool",
    "SlotSpec",
    "Workspace",
    "default_script_python",
    "default_slot_count",
    "detect_cpus",
    "detect_gpus",
    "parse_traceback",
    "plan_slots",
    "register_sandbox",
    "resolve_sandbox",
    "resolve_script_python",
    "run_script",
    "sandbox_names",
    "script_env",
]
