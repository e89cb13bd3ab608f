#!/usr/bin/env python3
"""helper-forks.py: the test suite's AWS helpers forked from one process that has botocore imported already.

Each script run starts scripts/aws-helper.py (lib.sh start_aws_helper): a Python start and botocore's import,
about 0.1 s of CPU before the helper's own work, paid some 40 times by a script test file (a third of the
helper's cost; the rest, its models and calls, stays). In the tests (`.mocharc.js` sets
TEST_ONLY_AWS_HELPER_FORKS; tools/sandbox/scripts.ts baseEnv) AWS_HELPER_PYTHON is a small client of this
server instead of the interpreter itself; the server forks a process that runs the script's own
aws-helper.py, from its first line, as `python3 aws-helper.py SOCKET PID` would: the script's environment,
working directory, file descriptors 0 to 3 (3: the script's stderr, AWS_HELPER_PROGRESS_FD), resource
limits, SIGINT disposition and malloc mmap threshold. Only the imports are already done. The bench, the
drill's CLI and production never use it; the tests that start the helper with an interpreter of their own
(AWS_HELPER_PYTHON set: no botocore, the postgres user's) get that interpreter, as before.

  helper-forks.py serve SOCKET WATCH_PID   the server (exits when WATCH_PID does; started by scripts.ts)
  helper-forks.py client SOCKET PYTHON SETTINGS ARGS...
                                          what AWS_HELPER_PYTHON runs (a wrapper written by scripts.ts, run
                                          with -S): `ARGS` = aws-helper.py SOCKET PID is sent to the server;
                                          lib.sh's `-S restore-pipe.py restore-load ...` run here (the
                                          wrapper is python3 -S already) from cached compiled code; anything
                                          else is PYTHON ARGS, exec'd, as the scripts would run it. So is the
                                          helper when the server does not answer, or when the run's
                                          environment sets what an interpreter reads at its start or imports
                                          otherwise than the server's (SETTINGS, NAME=VALUE lines: PYTHONPATH
                                          and its sitecustomize.py, the locale, TZ, HOME).

The client lives as long as its helper: lib.sh stop_aws_helper's KILL of AWS_HELPER_PID (the client; kill_own)
closes the client's end of the connection, and the kernel then ends the helper at once (SIGIO, whose default
action is to terminate: no Python code runs in between, so an upload in flight is never completed, as when the
helper itself is killed). When the helper ends, the client's read ends and so does the client.
"""
import os
import sys


# What is read from the environment when the interpreter starts or a module is imported, not when used: a
# fork inherits the server's. PYTHON* (PYTHONPATH and its sitecustomize.py), the locale, TZ (the time module's
# tzset), HOME (botocore's class-level cache paths: ~/.aws/sso/cache, ~/.aws/boto/cache).
START_SETTINGS = ("LANG", "LC_ALL", "LC_CTYPE", "TZ", "HOME")


def start_settings(environ):
    """The run's START_SETTINGS and PYTHON* variables as NAME=VALUE lines in name order: a run whose settings
    differ from the server's starts its helper as python3 itself."""
    return "\n".join(sorted(f"{name}={value}" for name, value in environ.items() if name.startswith("PYTHON") or name in START_SETTINGS))


def client(server, python, server_settings, args):
    # The helper itself (aws-helper.py SOCKET PID), nothing else: restore.sh's commands, a -S, an unknown form
    # run as lib.sh asked.
    if len(args) == 3 and args[0].endswith("/aws-helper.py") and not args[0].startswith("-") \
            and start_settings(os.environ) == server_settings:
        import json
        import signal
        import socket
        import resource
        conn = None
        try:
            if not hasattr(socket, "send_fds"):  # Python 3.9 or newer
                raise OSError("no socket.send_fds")
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.connect(server)
            fds = []
            for fd in (0, 1, 2, 3):
                try:
                    os.fstat(fd)
                    fds.append(fd)
                except OSError:
                    pass
            request = json.dumps({
                "argv": args,
                "env": dict(os.environ),
                "cwd": os.getcwd(),
                "umask": umask(),
                "fds": fds,
                "limits": {name: resource.getrlimit(getattr(resource, name)) for name in LIMITS},
                "sigint_ignored": signal.getsignal(signal.SIGINT) is signal.SIG_IGN,
                "sigterm_ignored": signal.getsignal(signal.SIGTERM) is signal.SIG_IGN,
            }).encode()
            socket.send_fds(conn, [len(request).to_bytes(8, "big") + request], fds)
        except OSError:
            conn = None
        if conn is not None:
            # Until the helper ends (its end of the connection closes with it).
            while True:
                try:
                    if not conn.recv(4096):
                        break
                except InterruptedError:
                    continue
            os._exit(1)
    if len(args) >= 3 and args[0] == "-S" and args[1].endswith("/restore-pipe.py") and start_settings(os.environ) == server_settings:
        # lib.sh restore_python's commands (`python3 -S restore-pipe.py restore-load ...`, four or five per restore):
        # this is that interpreter already (-S), so the file runs here, as __main__, from its compiled code kept
        # beside the wrapper (Python compiles a script it runs as a file every time).
        run_script(args[1], args[2:])
    os.execv(python, [python, *args])


def main_globals(script):
    """A script's globals when it runs as __main__ (python3 SCRIPT)."""
    import builtins
    return {"__name__": "__main__", "__file__": script, "__builtins__": builtins, "__doc__": None, "__package__": None,
            "__spec__": None, "__loader__": None, "__cached__": None}


def compiled_code(script, cache_dir):
    """The script's compiled code, from a copy kept in cache_dir (named by the file's inode, mtime and size)."""
    import marshal

    stat = os.stat(script)
    cache = os.path.join(cache_dir, f"code-{stat.st_ino}-{stat.st_mtime_ns}-{stat.st_size}")
    try:
        with open(cache, "rb") as handle:
            return marshal.load(handle)
    except (OSError, EOFError, ValueError, TypeError):
        pass
    with open(script, "rb") as handle:
        code = compile(handle.read(), script, "exec")
    pending = f"{cache}.{os.getpid()}"
    with open(pending, "wb") as handle:
        marshal.dump(code, handle)
    os.rename(pending, cache)
    return code


def run_script(script, args):
    code = compiled_code(script, os.path.dirname(os.path.abspath(sys.argv[0])))
    sys.argv = [script, *args]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    exec(code, main_globals(script))
    sys.exit(0)


def umask():
    current = os.umask(0o077)
    os.umask(current)
    return current


LIMITS = ("RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_AS", "RLIMIT_DATA", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_STACK", "RLIMIT_NPROC")


def preload():
    """The modules aws-helper.py imports (its botocore, s3transfer, and stdlib ones): imported once, here, as
    aws-helper.py imports them (the collector paused, pyOpenSSL refused), then frozen: a forked helper's collector
    never walks them (nor touches their pages: they stay shared with this process)."""
    import gc
    gc.disable()
    sys.modules.setdefault("urllib3.contrib.pyopenssl", None)
    import ctypes  # noqa: F401: run_helper's mallopt (lib.sh sets MALLOC_MMAP_THRESHOLD_ for every helper)
    import datetime  # noqa: F401
    import importlib.util  # noqa: F401
    import json  # noqa: F401
    import select  # noqa: F401
    import socketserver  # noqa: F401
    import threading  # noqa: F401
    import time  # noqa: F401
    import http.server  # noqa: F401
    import urllib.parse  # noqa: F401
    try:
        import botocore.client  # noqa: F401
        import botocore.config  # noqa: F401
        import botocore.credentials  # noqa: F401
        import botocore.exceptions  # noqa: F401
        import botocore.loaders  # noqa: F401
        import botocore.session  # noqa: F401
        import s3transfer.manager  # noqa: F401
    except ImportError:
        # The helper then says so itself, in the child, with its own line.
        pass
    else:
        preload_models()
    gc.freeze()
    gc.enable()


# botocore's JSON data files that a helper's clients load (S3's at every start, Secrets Manager's and STS's when
# a run reads a secret or checks its credentials), by path without the extension, parsed once here (about 20 ms
# of a start's CPU with the tests' botocore: endpoints.json 10 ms, S3's model 8 ms, its rule set 3 ms). Each is
# handed out once, to the first load of that very path in a forked helper (its own copy of this process's
# memory); any other path, and a second load of the same one, is botocore's own JSONFileLoader.load_file. A
# helper whose AWS_DATA_PATH or ~/.aws/models holds a file of the same name loads that one first, as before
# (botocore tries its search path in order; these are the paths of its own data directory).
PRELOADED = {}
DATA_FILES = ("endpoints", "sdk-default-configuration", "partitions", "_retry")
SERVICE_FILES = ("service-2", "service-2.sdk-extras", "endpoint-rule-set-1", "endpoint-rule-set-1.sdk-extras")


def preload_models():
    import botocore.loaders

    original = botocore.loaders.JSONFileLoader.load_file
    data = os.path.join(os.path.dirname(botocore.loaders.__file__), "data")
    names = list(DATA_FILES)
    for service in ("s3", "secretsmanager", "sts"):
        version = botocore.loaders.Loader().determine_latest_version(service, "service-2")
        # S3's paginators too (the listings: s3_keys, s3_hidden).
        kinds = SERVICE_FILES + (("paginators-1", "paginators-1.sdk-extras") if service == "s3" else ())
        names.extend(f"{service}/{version}/{kind}" for kind in kinds)
    reader = botocore.loaders.JSONFileLoader()
    for name in names:
        path = os.path.join(data, name)
        PRELOADED[path] = original(reader, path)

    def load_file(self, file_path):
        if file_path in PRELOADED:
            return PRELOADED.pop(file_path)
        return original(self, file_path)

    botocore.loaders.JSONFileLoader.load_file = load_file


def run_helper(request, conn, compiled):
    """In the forked child: the script's process state, then aws-helper.py as __main__; never returns."""
    import fcntl
    import resource
    import signal
    import traceback

    # Signal dispositions as Python's start left them in the server, but those of the script's (below).
    signal.signal(signal.SIGIO, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN if request["sigint_ignored"] else signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_IGN if request["sigterm_ignored"] else signal.SIG_DFL)
    for name, (soft, hard) in request["limits"].items():
        try:
            resource.setrlimit(getattr(resource, name), (soft, hard))
        except (ValueError, OSError):
            pass
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    if "tempfile" in sys.modules:
        sys.modules["tempfile"].tempdir = None  # found again from TMPDIR on first use, as in a new process
    threshold = request["env"].get("MALLOC_MMAP_THRESHOLD_")
    if threshold and threshold.isdigit():
        # What glibc reads from the environment at a process's start (lib.sh exports it for the helper).
        import ctypes
        ctypes.CDLL(None).mallopt(-3, int(threshold))  # M_MMAP_THRESHOLD
    # The helper dies with its client (see the header): SIGIO's default action, at the connection's end.
    fd = conn.fileno()
    fcntl.fcntl(fd, fcntl.F_SETOWN, os.getpid())
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_ASYNC | os.O_NONBLOCK)
    try:
        if not conn.recv(1, 0):
            os._exit(1)  # the client had already gone
    except BlockingIOError:
        pass
    sys.argv = list(request["argv"])
    if isinstance(compiled, BaseException):
        # A file that cannot be read or compiled: as the interpreter itself says it.
        os.execv(sys.executable, [sys.executable, *sys.argv])
    sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))
    code = 0
    try:
        exec(compiled, main_globals(sys.argv[0]))
    except SystemExit as done:
        if done.code is None:
            code = 0
        elif isinstance(done.code, int):
            code = done.code
        else:
            print(done.code, file=sys.stderr)
            code = 1
    except BaseException:  # noqa: BLE001: as the interpreter would, a traceback and 1
        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def receive(conn):
    import json
    import socket

    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 8)
    if len(data) < 8:
        raise OSError("short request")
    size = int.from_bytes(data[:8], "big")
    body = data[8:]
    while len(body) < size:
        more = conn.recv(size - len(body))
        if not more:
            raise OSError("short request")
        body += more
    return json.loads(body), fds


def serve(path, watch_pid):
    import signal
    import socket

    preload()
    # Descriptors 0 to 3 taken (by /dev/null when free), so that every descriptor received or accepted is above
    # them, and a child's dup2 onto 0 to 3 never overwrites one it still needs.
    for fd in (0, 1, 2, 3):
        try:
            os.fstat(fd)
        except OSError:
            os.dup2(os.open(os.devnull, os.O_RDWR), fd)
    pending = f"{path}.{os.getpid()}"
    os.umask(0o177)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(pending)
    listener.listen(64)
    os.rename(pending, path)
    listener.settimeout(0.5)
    while True:
        # The helpers that ended, reaped here (not by the kernel, SIGCHLD ignored): their CPU then counts in this
        # process's children's time, which `time` and tools/sandbox/file-timing.cjs read.
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
        try:
            os.kill(watch_pid, 0)
        except ProcessLookupError:
            break
        except PermissionError:
            pass
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            continue
        conn.settimeout(None)
        try:
            request, fds = receive(conn)
        except (OSError, ValueError):
            conn.close()
            continue
        try:
            compiled = compiled_code(request["argv"][0], os.path.dirname(path))
        except (OSError, SyntaxError, ValueError) as error:
            compiled = error
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            try:
                listener.close()
                os.umask(request["umask"])
                wanted = request["fds"]
                for received, target in zip(fds, wanted):
                    os.dup2(received, target, inheritable=True)
                for target in (0, 1, 2, 3):
                    if target not in wanted:
                        try:
                            os.close(target)
                        except OSError:
                            pass
                for received in fds:
                    if received not in wanted:
                        os.close(received)
                run_helper(request, conn, compiled)
            finally:
                os._exit(1)
        conn.close()
        for received in fds:
            os.close(received)
    try:
        os.unlink(path)
    except OSError:
        pass


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "client":
        client(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    elif len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit("usage: helper-forks.py serve SOCKET WATCH_PID | client SOCKET PYTHON SETTINGS ARGS...")
