"""Child processes that die with the app: FFmpeg, the local GPU worker, the preview decoder.

    subprocess.Popen(args, ..., **child_kwargs())
    await asyncio.create_subprocess_exec(*args, ..., **child_kwargs())

A crashed, killed or closed app must not leave an FFmpeg encoding for another minute, nor a worker holding GPU memory.

- Linux: the child asks the kernel for SIGKILL when its parent dies (prctl PR_SET_PDEATHSIG), which also covers a
  SIGKILL of the app (no handler of ours runs then). It is set in `preexec_fn`, which Python documents as unsafe
  with threads: between fork and exec only the forking thread exists, and Python code there can deadlock on a lock
  another thread held at the fork. Ours runs no Python that takes a lock: one prebound C call (ctypes, loaded in the
  parent) and getppid. The price is a fork instead of a vfork: measured 1.9 ms instead of 0.8 ms per start for
  a small app, 8 ms at 500 MB resident; nothing next to an FFmpeg run, so hot probes are left without it.
  Caveat of the kernel: "parent" is the *thread* that started the child. Start children from a thread that
  outlives them (the thread that waits for them, the event loop, a pool thread), never from a short-lived one.
- Every POSIX system: `start_new_session`: the child leads its own process group, so a Ctrl-C in the terminal
  (SIGINT to the foreground group) reaches only the app, which then stops FFmpeg on purpose (a clean cancel that
  keeps the previous export) instead of FFmpeg dying half-way on its own; and the app can kill the child's group.
- macOS and other POSIX systems (no parent-death signal): on a normal exit, SIGTERM or SIGHUP the app kills its
  children's process groups (atexit, and a handler installed where the app has none). Limitation: after a SIGKILL
  of the app nothing of ours runs, so a child finishes its own work and exits.
- Windows: CREATE_NEW_PROCESS_GROUP (the console's Ctrl+C reaches only the app), and the app puts itself into a
  kill-on-close job object on first use: children inherit the job, and when the app ends in any way the kernel
  closes the job's last handle and ends every process in it. Breakaway is allowed, so a program started with
  CREATE_BREAKAWAY_FROM_JOB may outlive the app. Where a job cannot be set up (an outer job forbids it), only the
  process group applies. (Not exercised by the tests here, which run on Linux.)
"""
from __future__ import annotations

import atexit
import functools
import logging
import os
import signal
import sys
import threading

log = logging.getLogger(__name__)

__all__ = ["child_kwargs", "pid_alive"]

_PR_SET_PDEATHSIG = 1
_setup_lock = threading.Lock()
_setup_done = False


def child_kwargs(*, creationflags: int = 0) -> dict:
    """Keyword arguments for subprocess.Popen / subprocess.run / asyncio.create_subprocess_exec. Pass any
    Windows `creationflags` you need (e.g. CREATE_NO_WINDOW) here: they are merged."""
    _setup_once()
    if sys.platform == "win32":
        import subprocess
        return {"creationflags": creationflags | subprocess.CREATE_NEW_PROCESS_GROUP}
    kwargs: dict = {"start_new_session": True}
    if _prctl is not None:
        kwargs["preexec_fn"] = functools.partial(_die_with_parent, os.getpid())
    return kwargs


def pid_alive(pid: int) -> bool:
    """True when a process with this id exists (any owner). Never signals it: on Windows os.kill(pid, 0) would
    terminate the process, so the handle is queried instead."""
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return _win_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    except OSError:
        return False
    return True


# --- Linux: parent-death signal ---------------------------------------------------------------------------------
def _load_prctl():
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes
        fn = ctypes.CDLL(None, use_errno=True).prctl
        fn.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        fn.restype = ctypes.c_int
        return fn
    except (OSError, AttributeError) as exc:  # a libc without prctl (unusual): the session is all we get
        log.debug("no prctl: children will not die with the app (%s)", exc)
        return None


_prctl = None  # loaded on first use (ctypes costs a few ms of import time the CLI need not pay before)


def _die_with_parent(parent_pid: int) -> None:
    """Runs in the child between fork and exec (see the module note: no locks here)."""
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the app died before the request: no signal will ever come
        os._exit(1)


# --- macOS / other POSIX: kill the children's groups on the way out -----------------------------------------------
def _setup_once() -> None:
    global _setup_done, _prctl
    if _setup_done:
        return
    with _setup_lock:
        if _setup_done:
            return
        _prctl = _load_prctl()
        _setup_done = True
        if sys.platform == "win32":
            _win_join_kill_on_close_job()
        elif _prctl is None:
            atexit.register(_kill_children)
            if threading.current_thread() is threading.main_thread():
                for sig in (signal.SIGTERM, signal.SIGHUP):
                    if signal.getsignal(sig) is signal.SIG_DFL:  # never replace a handler the app installed
                        signal.signal(sig, _on_fatal_signal)


def _children() -> list[int]:
    """Direct children of this process (pgrep ships with macOS and the BSDs)."""
    import subprocess
    try:
        out = subprocess.run(["pgrep", "-P", str(os.getpid())], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [int(p) for p in out.split() if p.isdigit()]


def _kill_children() -> None:
    for pid in _children():
        try:
            os.killpg(pid, signal.SIGKILL)  # each child leads its own group (start_new_session)
        except OSError:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def _on_fatal_signal(signum, _frame) -> None:
    _kill_children()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)  # die of the same signal, as without the handler


# --- Windows ------------------------------------------------------------------------------------------------------
_win_job = None  # the job handle: kept open for the app's lifetime (closing it ends the children)


def _win_join_kill_on_close_job() -> None:
    global _win_job
    try:
        import ctypes
        from ctypes import wintypes

        class Basic(ctypes.Structure):
            _fields_ = [("PerProcessUserTimeLimit", ctypes.c_int64), ("PerJobUserTimeLimit", ctypes.c_int64),
                        ("LimitFlags", wintypes.DWORD), ("MinimumWorkingSetSize", ctypes.c_size_t),
                        ("MaximumWorkingSetSize", ctypes.c_size_t), ("ActiveProcessLimit", wintypes.DWORD),
                        ("Affinity", ctypes.c_size_t), ("PriorityClass", wintypes.DWORD),
                        ("SchedulingClass", wintypes.DWORD)]

        class Extended(ctypes.Structure):
            _fields_ = [("BasicLimitInformation", Basic), ("IoInfo", ctypes.c_uint64 * 6),
                        ("ProcessMemoryLimit", ctypes.c_size_t), ("JobMemoryLimit", ctypes.c_size_t),
                        ("PeakProcessMemoryUsed", ctypes.c_size_t), ("PeakJobMemoryUsed", ctypes.c_size_t)]

        k32 = ctypes.WinDLL("kernel32", use_last_error=True)
        k32.CreateJobObjectW.restype = wintypes.HANDLE
        k32.GetCurrentProcess.restype = wintypes.HANDLE
        job = k32.CreateJobObjectW(None, None)
        if not job:
            raise OSError(ctypes.get_last_error(), "CreateJobObject")
        info = Extended()
        info.BasicLimitInformation.LimitFlags = 0x2000 | 0x800  # KILL_ON_JOB_CLOSE | BREAKAWAY_OK
        if not k32.SetInformationJobObject(wintypes.HANDLE(job), 9, ctypes.byref(info), ctypes.sizeof(info)):
            raise OSError(ctypes.get_last_error(), "SetInformationJobObject")
        if not k32.AssignProcessToJobObject(wintypes.HANDLE(job), wintypes.HANDLE(k32.GetCurrentProcess())):
            raise OSError(ctypes.get_last_error(), "AssignProcessToJobObject")
        _win_job = job
    except (OSError, AttributeError) as exc:
        log.info("no kill-on-close job (%s): children may outlive a killed app", exc)


def _win_pid_alive(pid: int) -> bool:
    import ctypes
    from ctypes import wintypes
    k32 = ctypes.WinDLL("kernel32", use_last_error=True)
    k32.OpenProcess.restype = wintypes.HANDLE
    handle = k32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return ctypes.get_last_error() == 5  # access denied: it exists
    try:
        code = wintypes.DWORD()
        ok = k32.GetExitCodeProcess(wintypes.HANDLE(handle), ctypes.byref(code))
        return bool(ok) and code.value == 259  # STILL_ACTIVE
    finally:
        k32.CloseHandle(wintypes.HANDLE(handle))
