"""The facts a code prompt states about the environment, and the parent's output as shown.

Built from the :class:`~mlmaster.environment.Environment` found at run start: hardware of the
slot (CPUs, GPUs by name and memory, how many scripts share a GPU), memory limit, the scripts'
Python with its packages and versions (ML-relevant first), the network, free disk, the useful
programs on the scripts' PATH (a 7z tool), and the shared cache folder. Without one (unit
tests, benchmarks) only the slot's hardware is stated.
"""

from __future__ import annotations

from mlmaster.environment import Environment
from mlmaster.execution.result import CapturedOutput, ExecutionResult
from mlmaster.llm.requests import Hardware

MAX_PACKAGES = 40  # packages named one by one; the rest are counted
MAX_MODELS = 40  # cached models named one by one; the rest are counted
FALLBACK_PACKAGES = ("numpy", "pandas", "scipy", "scikit-learn", "lightgbm", "xgboost")


def gib(size: int) -> str:
    return f"{size / 1024**3:.1f} GiB"


def environment_lines(hardware: Hardware, environment: Environment | None) -> list[str]:
    """One line per fact, for the prompt's implementation rules."""
    lines = [_hardware_line(hardware, environment)]
    if environment is None:
        lines.append(f"Installed packages: {', '.join(FALLBACK_PACKAGES)}.")
        lines.append("There is no network: do not try to download or install anything.")
        return lines
    python = environment.interpreter
    if python.version is not None:
        shown = python.packages[:MAX_PACKAGES]
        named = ", ".join(f"{p.name} {p.version}" for p in shown)
        more = len(python.packages) - len(shown)
        rest = f"; and {more} more" if more > 0 else ""
        lines.append(f"Python {python.version} with these packages installed: {named}{rest}.")
    if environment.network:
        lines.append("The network is reachable from the script.")
    else:
        lines.append(
            "There is no network: nothing can be downloaded or installed (no pip, no pretrained "
            "weights that are not already on disk); use only the packages above."
        )
    if environment.disk_free is not None:
        lines.append(f"Disk: {gib(environment.disk_free)} free.")
    if environment.programs:
        lines.append(_programs_line(environment.programs))
    if environment.cache_dir is not None:
        lines.append(_cache_line(environment.cache_dir, environment.cached_models))
    return lines


def _programs_line(programs: list[str]) -> str:
    """The command-line tools found on the scripts' PATH (only found ones are named)."""
    first = programs[0]
    return (
        f"Programs on the PATH: {', '.join(programs)}. Open a .7z archive with e.g. "
        f"subprocess.run(['{first}', 'x', archive, '-o./working/extracted', '-y'], check=True) "
        "(the input folder is read-only)."
    )


def _cache_line(cache_dir: str, models: list[str]) -> str:
    """The shared model cache: where it is, that it is read-only, and what it holds."""
    shown = models[:MAX_MODELS]
    held = f"It holds: {', '.join(shown)}" if shown else "No model in it was recognised"
    more = len(models) - len(shown)
    held += f" and {more} more" if more > 0 else ""
    return (
        f"Pre-downloaded model weights are in {cache_dir} (read-only; HF_HOME and TORCH_HOME "
        "point into it, so transformers, timm and torchvision load cached weights by their "
        f"usual names). {held}. Save your own files under ./working, never there."
    )


def _hardware_line(hardware: Hardware, environment: Environment | None) -> str:
    cpus = hardware.cpus
    parts = [f"{cpus} CPU core{'s' if cpus != 1 else ''}"]
    slot = environment.slot(0) if environment is not None and environment.slots else None
    if slot is not None and slot.gpus:
        named = ", ".join(
            f"{g.name}" + (f" ({gib(g.memory_mib * 1024**2)})" if g.memory_mib else "")
            for g in slot.gpus
        )
        parts.append(f"GPU: {named}")
        if slot.gpu_shared_by > 1:
            parts.append(
                f"the GPU is shared with {slot.gpu_shared_by - 1} other script(s) running at "
                f"the same time, so use at most about 1/{slot.gpu_shared_by} of its memory"
            )
    elif hardware.gpus:
        parts.append(f"{len(hardware.gpus)} GPU{'s' if len(hardware.gpus) != 1 else ''}")
    else:
        parts.append("no GPU")
    memory = hardware.memory_limit
    if environment is not None and environment.memory_limit is not None:
        memory = min(memory or environment.memory_limit, environment.memory_limit)
    if memory:
        parts.append(f"{gib(memory)} of memory")
    return f"Hardware: {', '.join(parts)}. Use them (e.g. n_jobs={cpus}) but no more."


def parent_output(execution: ExecutionResult, chars: int) -> str:
    """The parent's stdout and stderr, each as its head and its tail, within ``chars``.

    A crash shows at the end of stderr, a data summary at the start of stdout: both matter,
    so neither stream is cut to its last characters alone.
    """
    streams = [("stdout", execution.stdout), ("stderr", execution.stderr)]
    present = [(name, out) for name, out in streams if out.head or out.tail]
    if not present or chars <= 0:
        return ""
    share = chars // len(present)
    parts = [f"[{name}]\n{_head_and_tail(out, share)}" for name, out in present]
    return "\n".join(parts)


def _head_and_tail(output: CapturedOutput, chars: int) -> str:
    text = output.text
    if len(text) <= chars:
        return text.strip("\n")
    half = max(1, chars // 2)
    cut = len(text) - 2 * half
    return f"{text[:half]}\n[... {cut} characters cut ...]\n{text[-half:]}".strip("\n")
