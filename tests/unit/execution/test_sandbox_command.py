"""The bwrap command line: what it mounts, and what it leaves out."""

from __future__ import annotations

from pathlib import Path

from mlmaster.execution.sandbox import bwrap_command


def _mounts(cmd: list[str], flag: str) -> list[str]:
    return [cmd[i + 2] for i, part in enumerate(cmd) if part == flag]


def test_network_off_workspace_writable_data_read_only(tmp_path: Path):
    ws, data = tmp_path / "ws", tmp_path / "data" / "public"
    cmd = bwrap_command(workspace=ws, readonly=[data, Path("/usr/lib/python3")])
    assert "--unshare-net" in cmd and "--unshare-pid" in cmd and "--die-with-parent" in cmd
    assert _mounts(cmd, "--bind") == [str(ws)]
    ro = _mounts(cmd, "--ro-bind")
    assert str(data) in ro
    assert "/usr/lib/python3" not in ro, "already under /usr"
    assert cmd[-1] == "--" and cmd[cmd.index("--chdir") + 1] == str(ws)
    for private in ("/root", "/home", "/work", str(tmp_path)):
        assert private not in ro


def test_gpu_devices_only_for_gpu_slots(tmp_path: Path):
    cpu_only = bwrap_command(workspace=tmp_path, readonly=[])
    with_gpu = bwrap_command(workspace=tmp_path, readonly=[], gpus=[0])
    assert "/proc/driver/nvidia" not in cpu_only
    assert "/proc/driver/nvidia" in with_gpu
