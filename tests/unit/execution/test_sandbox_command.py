"""The bwrap command line: what it mounts, what it leaves out, who the script is inside."""

from __future__ import annotations

from pathlib import Path

from mlmaster.execution.sandboxes.bwrap import bwrap_command


def _mounts(cmd: list[str], flag: str) -> list[str]:
    return [cmd[i + 2] for i, part in enumerate(cmd) if part == flag]


def _after(cmd: list[str], flag: str) -> str:
    return cmd[cmd.index(flag) + 1]


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


def test_an_unprivileged_user_without_capabilities(tmp_path: Path):
    cmd = bwrap_command(workspace=tmp_path, readonly=[], uid=4321, gid=8765)
    assert "--unshare-user" in cmd
    assert (_after(cmd, "--uid"), _after(cmd, "--gid")) == ("4321", "8765")
    assert _after(cmd, "--cap-drop") == "ALL" and "--cap-add" not in cmd


def test_without_user_namespace_only_the_switch_of_user_is_allowed(tmp_path: Path):
    cmd = bwrap_command(workspace=tmp_path, readonly=[], user_namespace=False)
    assert "--unshare-user" not in cmd and "--uid" not in cmd
    assert _after(cmd, "--cap-drop") == "ALL"
    assert sorted(cmd[i + 1] for i, p in enumerate(cmd) if p == "--cap-add") == [
        "CAP_SETGID",
        "CAP_SETUID",
    ]


def test_gpu_devices_only_for_gpu_slots(tmp_path: Path):
    cpu_only = bwrap_command(workspace=tmp_path, readonly=[])
    with_gpu = bwrap_command(workspace=tmp_path, readonly=[], gpus=[0])
    assert "/proc/driver/nvidia" not in cpu_only
    assert "/proc/driver/nvidia" in with_gpu
