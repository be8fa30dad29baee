"""GPU slots on a machine that has GPUs: detection, and each slot's view of the devices.

The script asks the CUDA driver itself (through ctypes, no framework needed) how many devices
it sees, so the check covers both ``CUDA_VISIBLE_DEVICES`` and, under bwrap, the device nodes
the sandbox passes through.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable

import pytest
from exec_support import SANDBOXES

from mlmaster.execution.runner import Executor
from mlmaster.execution.topology import detect_gpus, parse_nvidia_smi_list
from mlmaster.execution.workspace import Workspace

_NVIDIA_SMI = shutil.which("nvidia-smi")
pytestmark = pytest.mark.skipif(_NVIDIA_SMI is None, reason="nvidia-smi missing: no GPU here")


COUNT_DEVICES = """\
import ctypes, os
cuda = ctypes.CDLL("libcuda.so.1")
status = cuda.cuInit(0)
count = ctypes.c_int(0)
if status == 0:
    cuda.cuDeviceGetCount(ctypes.byref(count))
print(f"devices={count.value} init={status} visible={os.environ['CUDA_VISIBLE_DEVICES']!r}")
"""


def test_detection_agrees_with_nvidia_smi():
    assert _NVIDIA_SMI is not None
    listed = subprocess.run([_NVIDIA_SMI, "-L"], capture_output=True, text=True, check=True)
    expected = parse_nvidia_smi_list(listed.stdout)
    assert expected, listed.stdout
    assert detect_gpus({}) == expected


@pytest.mark.parametrize("sandbox", SANDBOXES)
async def test_each_slot_sees_exactly_its_gpus(
    sandbox: str,
    make_executor: Callable[..., Executor],
    make_workspace: Callable[[str], Workspace],
):
    gpus = detect_gpus({})
    with_gpu = make_executor(sandbox, gpus=gpus[:1])
    result = await with_gpu.run(make_workspace(COUNT_DEVICES), timeout=120)
    assert result.exit_code == 0, result.stderr.text
    assert f"devices=1 init=0 visible='{gpus[0]}'" in result.stdout.text

    without = make_executor(sandbox, gpus=[])
    result = await without.run(make_workspace(COUNT_DEVICES), timeout=120)
    assert result.exit_code == 0, result.stderr.text
    assert "devices=0" in result.stdout.text and "visible=''" in result.stdout.text
