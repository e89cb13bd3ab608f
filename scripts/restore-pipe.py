#!/usr/bin/env python3
"""restore-pipe.py: restore.sh's and restore-verification.sh's parallel load, the commands lib.sh runs with
`python3 -S` (restore_python), several at once during a restore. No AWS here: a file of its own, so that each of
those processes compiles only this (aws-helper.py, the resident AWS helper, is three times its size: 1.6 MB of
resident memory more in each of them, measured 2026-12-05, and the restore's peak is held to 150 MB).
"""
import os
import sys

# restore.sh loads the tables of a verified dump into staging schemas with parallel COPY streams, then moves
# them into place in one transaction of its own (see scripts/README.md). Two commands, started by lib.sh:
#   restore-pipe.py restore-stage SCHEMA_SQL DATA_LIST OUT_DIR STAGE_PREFIX [unlogged]
#       reads the restore script of everything but the data (pg_restore --clean --schema-only -f SCHEMA_SQL) and
#       the TABLE DATA lines of the archive's list; writes OUT_DIR/stage.sql (CREATE SCHEMA <STAGE_PREFIX>_<n>
#       and each table's own CREATE TABLE there), OUT_DIR/swap.sql (SCHEMA_SQL with each such CREATE TABLE
#       replaced by ALTER TABLE <staging>.<table> SET SCHEMA <schema>, its "SET lock_timeout = 0" removed and
#       the empty staging schemas dropped at the end) and OUT_DIR/stage.map ("<schema as written>\t<staging>").
#       Exit 0, or 10 with the reason on stdout when a table cannot be staged (a type, default or check that
#       names another object, INHERITS, PARTITION, storage options): the caller restores in one stream then.
#       "unlogged": the staging tables are CREATE UNLOGGED TABLE (restore-verification.sh's scratch database
#       only; never a restore's target), unless a table of SCHEMA_SQL is not staged.
#   restore-pipe.py restore-load WORKERS ERR_DIR MAP_FILE SETVAL_FILE < pg_restore --data-only output
#       starts WORKERS psql sessions (libpq variables from the environment) and hands each COPY block's rows to
#       whichever session is ready, in line-aligned chunks, into the staging table of that block; the
#       sequences' setval statements go to SETVAL_FILE (for the swap). Exit 0 when
#       every session loaded and exited 0; 3 when a session failed (its stderr in ERR_DIR/worker-<n>.err,
#       ERR_DIR/failed names it); 1 on anything unexpected in the stream (ERR_DIR/load.err).
import select as _select


class _Re:
    """The re module, imported at first use: restore-stage and restore-load parse text, restore-spool and
    restore-fanout (started with the download, on the restore's critical path) never do, and importing re is a
    quarter of their start (4 of 15 ms of CPU; bench/README.md section 5, h34-pystart)."""

    def __getattr__(self, name):
        import re
        return getattr(re, name)


_re = _Re()


def _split_qualified(name):
    """("schema", "table") as written (quotes kept) from pg_dump's schema.table."""
    quoted = False
    for i, char in enumerate(name):
        if char == '"':
            quoted = not quoted
        elif char == "." and not quoted:
            return name[:i], name[i + 1:]
    return None, name


_STAGED_TYPE = r'^[A-Za-z_][A-Za-z0-9_ ]*(\([0-9, ]+\))?[A-Za-z ]*(\[\])*( COLLATE (pg_catalog\.)?"[^"]+")?$'


def _staged_body(body):
    """The staging table's columns (name, type, collation, NOT NULL) and the clauses the swap adds once the
    dump is verified (ALTER COLUMN ... SET DEFAULT, ADD CONSTRAINT ... CHECK), from the lines of pg_dump's
    CREATE TABLE; None when a line is not of that form (a generated column, anything unexpected). The staging
    tables are loaded while the dump is still being verified: nothing in them may evaluate an expression of
    the archive (a default evaluated by a COPY without that column, a check evaluated on every row)."""
    columns, later = [], []
    for raw in body:
        line = raw.strip()
        if not line:
            continue
        if line.endswith(","):
            line = line[:-1]
        if line.startswith("CONSTRAINT ") and " CHECK " in line:
            later.append(f"ADD {line}")
            continue
        found = _re.match(r'^("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*) (.+)$', line)
        if not found or line.startswith("CONSTRAINT "):
            return None
        name, rest = found.group(1), found.group(2)
        if " GENERATED " in f" {rest} ":
            return None
        not_null = rest.endswith(" NOT NULL")
        if not_null:
            rest = rest[: -len(" NOT NULL")]
        column_type, default = rest, None
        if " DEFAULT " in rest:
            column_type, default = rest.split(" DEFAULT ", 1)
        # A type of pg_catalog (user types are qualified: refused by the caller), its modifiers, arrays, a
        # collation: no expression.
        if not _re.match(_STAGED_TYPE, column_type):
            return None
        if default is not None:
            later.append(f"ALTER COLUMN {name} SET DEFAULT {default}")
        columns.append(f"    {name} {column_type}{' NOT NULL' if not_null else ''}")
    return columns, later


def restore_stage(argv):
    schema_sql, data_list, out_dir, prefix = argv[:4]
    # "unlogged" (restore-verification.sh's scratch database only, thrown away after the verdict): the staging
    # tables are created UNLOGGED, so their load and the swap's index builds write no WAL. Never for a
    # restore's target, which must survive a crash. Only when every table of the archive is staged: a table
    # created by the swap would be permanent, and a permanent table's foreign key cannot name an unlogged one.
    unlogged = argv[4:5] == ["unlogged"]
    with open(data_list, encoding="utf-8") as handle:
        wanted = {tuple(line.split()[5:7]) for line in handle if _re.match(r"^\d+; \d+ \d+ TABLE DATA ", line)}
    with open(schema_sql, encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    header = _re.compile(r"^-- Name: (.+); Type: TABLE; Schema: (.+); Owner: ")
    staged, swap, stage, staging_of = {}, [], [], {}
    i, entry = 0, None
    while i < len(lines):
        line = lines[i]
        found = header.match(line)
        if found:
            entry = (found.group(2), found.group(1))
        if line == "SET lock_timeout = 0;":
            i += 1
            continue
        if line.startswith("CREATE TABLE ") and line.endswith(" (") and entry in wanted:
            qualified = line[len("CREATE TABLE "):-2]
            schema, table = _split_qualified(qualified)
            end = i + 1
            while end < len(lines) and lines[end] != ");" and (lines[end].startswith("    ") or lines[end] == ""):
                end += 1
            staged_body = _staged_body(lines[i + 1:end])
            if staged_body is None or schema is None or end >= len(lines) or lines[end] != ");" \
                    or "." in "\n".join(staged_body[0]).replace("pg_catalog.", ""):
                print(f"table {entry[0]}.{entry[1]} cannot be staged (its definition names other objects or has options)")
                return 10
            columns, later = staged_body
            if schema not in staging_of:
                staging_of[schema] = f"{prefix}_{len(staging_of) + 1}"
                stage.append(f"CREATE SCHEMA {staging_of[schema]};")
            stage.append("\n".join([f"CREATE %sTABLE {staging_of[schema]}.{table} ("] + [",\n".join(columns)] + [");"]))
            swap.append(f"ALTER TABLE {staging_of[schema]}.{table} SET SCHEMA {schema};")
            swap.extend(f"ALTER TABLE ONLY {qualified} {clause};" for clause in later)
            staged[entry] = qualified
            i = end + 1
            continue
        swap.append(line)
        i += 1
    missing = sorted(wanted - set(staged))
    if missing:
        print(f"table {missing[0][0]}.{missing[0][1]} cannot be staged (no plain CREATE TABLE in the archive)")
        return 10
    swap.extend(f"DROP SCHEMA {name};" for name in staging_of.values())
    if unlogged and any(line.startswith(("CREATE TABLE ", "CREATE UNLOGGED TABLE ")) for line in swap):
        unlogged = False
    persistence = "UNLOGGED " if unlogged else ""
    stage = [line.replace("CREATE %sTABLE ", f"CREATE {persistence}TABLE ", 1) for line in stage]
    with open(os.path.join(out_dir, "stage.sql"), "w", encoding="utf-8") as handle:
        handle.write("SELECT pg_catalog.set_config('search_path', '', false);\n" + "\n".join(stage) + "\n")
    with open(os.path.join(out_dir, "swap.sql"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(swap) + "\n")
    with open(os.path.join(out_dir, "stage.map"), "w", encoding="utf-8") as handle:
        handle.write("".join(f"{schema}\t{name}\n" for schema, name in staging_of.items()))
    return 0


class _PsqlWorker:
    """A psql session fed through a pipe (when libpq cannot be loaded by ctypes)."""

    def __init__(self, number, err_dir):
        self.number = number
        self.err_path = os.path.join(err_dir, f"worker-{number}.err")
        with open(self.err_path, "wb") as err:
            import subprocess  # only for this fallback: a module the other restore commands do without
            self.process = subprocess.Popen(
                ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err,
            )
        self.fd = self.process.stdin.fileno()
        try:
            import fcntl
            fcntl.fcntl(self.fd, 1031, 1024 * 1024)  # F_SETPIPE_SZ: fewer wake-ups
        except OSError:
            pass
        os.set_blocking(self.fd, False)
        self.pending = memoryview(b"")
        self.table = None  # the staging table of the COPY this session is in
        self.rows = {}

    def start(self, statements):
        self.pending = memoryview(b"".join(s + b";\n" for s in statements))
        return self.flush()

    def busy(self):
        return bool(self.pending)

    def flush(self):
        """Writes what the pipe takes; False when the session is gone."""
        try:
            written = os.write(self.fd, self.pending)
        except BlockingIOError:
            return True
        except BrokenPipeError:
            return False
        self.pending = self.pending[written:]
        return True

    def readable(self):
        return False

    def statement(self, sql):
        """Ends the COPY it is in and runs sql (a SET of the dump); False when the session is gone."""
        self.pending = memoryview((b"\\.\n" if self.table else b"") + sql + b"\n")
        self.table = None
        return self.flush()

    def copy(self, table, header, buffer, size):
        """Sends the first size bytes of buffer (whole rows) into table's COPY."""
        if self.table != table:
            self.pending = memoryview((b"\\.\n" if self.table else b"") + header + b"\n")
            self.table = table
            while self.pending:
                if not self.flush():
                    return False
                if self.pending:
                    _select.select([], [self.fd], [])
        self.pending = memoryview(buffer)[:size]
        return self.flush()

    def end_copy(self):
        if self.table:
            self.pending = memoryview(b"\\.\n")
            self.table = None
        return self.flush()

    def finish(self):
        """0 when the session loaded everything and ended well."""
        os.set_blocking(self.fd, True)
        try:
            self.process.stdin.close()
        except BrokenPipeError:
            pass
        return self.process.wait()

    def kill(self):
        self.process.kill()
        self.process.wait()


class _Libpq:
    """The few libpq calls of the loader, through ctypes: libpq5 comes with psql (postgresql-client)."""

    lib = None
    NOTICE = None

    @classmethod
    def load(cls):
        if cls.lib is None and os.environ.get("RESTORE_LOADER") != "psql":
            import ctypes
            import ctypes.util
            cls.NOTICE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p)
            for name in ("libpq.so.5", ctypes.util.find_library("pq")):
                if not name:
                    continue
                try:
                    lib = ctypes.CDLL(name)
                except OSError:
                    continue
                vp, cp, ci = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
                for fn, args, res in (
                    ("PQconnectdb", [cp], vp), ("PQstatus", [vp], ci), ("PQerrorMessage", [vp], cp), ("PQfinish", [vp], None),
                    ("PQsetnonblocking", [vp, ci], ci), ("PQsocket", [vp], ci), ("PQexec", [vp, cp], vp),
                    ("PQresultStatus", [vp], ci), ("PQresultErrorMessage", [vp], cp), ("PQcmdTuples", [vp], cp), ("PQclear", [vp], None),
                    ("PQputCopyData", [vp, cp, ci], ci), ("PQputCopyEnd", [vp, cp], ci), ("PQflush", [vp], ci), ("PQgetResult", [vp], vp),
                    ("PQsetNoticeProcessor", [vp, cls.NOTICE, vp], vp),
                ):
                    getattr(lib, fn).argtypes = args
                    getattr(lib, fn).restype = res
                cls.lib = lib
                break
        return cls.lib


class _PqWorker:
    """A session of the loader's own, through libpq: the rows go from this process to the server's socket, with
    no psql in between (a process, a pipe and a parse of every byte less per session). Nonblocking: a session
    whose rows are still in libpq's buffer is busy; the next chunk goes to another."""

    COMMAND_OK, TUPLES_OK, COPY_IN = 1, 2, 4

    def __init__(self, number, err_dir, lib):
        self.number, self.lib = number, lib
        self.err_path = os.path.join(err_dir, f"worker-{number}.err")
        self.conn = lib.PQconnectdb(b"")
        # The server's messages outside a result (a FATAL sent to an idle session that is then ended, e.g.
        # "terminating connection due to administrator command") go to the session's error file, not to stderr.
        self.notices = _Libpq.NOTICE(lambda _arg, message: self.error(message))
        lib.PQsetNoticeProcessor(self.conn, self.notices, None)
        self.table = None
        self.rows = {}
        self.fd = lib.PQsocket(self.conn)

    def error(self, message):
        with open(self.err_path, "ab") as err:
            err.write((message or b"").rstrip(b"\n") + b"\n")
        return False

    def start(self, statements):
        if self.lib.PQstatus(self.conn) != 0:  # CONNECTION_OK
            return self.error(self.lib.PQerrorMessage(self.conn))
        for sql in statements:
            if not self.exec(sql, self.COMMAND_OK):
                return False
        self.lib.PQsetnonblocking(self.conn, 1)
        return True

    def exec(self, sql, *want):
        result = self.lib.PQexec(self.conn, sql)
        ok = result and self.lib.PQresultStatus(result) in want
        if not ok:
            # The connection's message: also what libpq read before the result (a FATAL sent before it closed).
            self.error(self.lib.PQerrorMessage(self.conn) or self.lib.PQresultErrorMessage(result))
        self.lib.PQclear(result)
        return ok

    def busy(self):
        return self.lib.PQflush(self.conn) == 1

    def flush(self):
        if self.lib.PQflush(self.conn) < 0:
            return self.error(self.lib.PQerrorMessage(self.conn))
        return True

    def readable(self):
        """The server wrote during a COPY: an error (or the connection closed), found at once."""
        return self.table is not None

    def wait_flushed(self):
        while True:
            flushed = self.lib.PQflush(self.conn)
            if flushed == 0:
                return True
            if flushed < 0:
                return self.error(self.lib.PQerrorMessage(self.conn))
            _select.select([], [self.fd], [])

    def end_copy(self):
        """Ends the COPY the session is in and counts its rows; False with the server's error."""
        if self.table is None:
            return True
        table, self.table = self.table, None
        while True:
            ended = self.lib.PQputCopyEnd(self.conn, None)
            if ended < 0:
                return self.error(self.lib.PQerrorMessage(self.conn))
            if ended == 1:
                break
            _select.select([], [self.fd], [])
        if not self.wait_flushed():
            return False
        ok = True
        while True:
            result = self.lib.PQgetResult(self.conn)
            if not result:
                return ok
            if self.lib.PQresultStatus(result) == self.COMMAND_OK:
                self.rows[table] = self.rows.get(table, 0) + int(self.lib.PQcmdTuples(result) or 0)
            else:
                ok = self.error(self.lib.PQerrorMessage(self.conn) or self.lib.PQresultErrorMessage(result))
            self.lib.PQclear(result)

    def statement(self, sql):
        return self.end_copy() and self.exec(sql, self.COMMAND_OK, self.TUPLES_OK)  # SET, or SELECT set_config(...)

    def copy(self, table, header, buffer, size):
        """Sends the first size bytes of buffer (whole rows) into table's COPY."""
        if self.table != table:
            if not self.end_copy() or not self.exec(header.rstrip(b";"), self.COPY_IN):
                return False
            self.table = table
        while True:
            queued = self.lib.PQputCopyData(self.conn, buffer, size)
            if queued == 1:
                return True
            if queued < 0:
                return self.error(self.lib.PQerrorMessage(self.conn))
            # 0: libpq could not grow its buffer for the rows: send what it holds first, then queue them.
            if not self.wait_flushed():
                return False

    def finish(self):
        ok = self.end_copy()
        self.lib.PQfinish(self.conn)
        self.conn = None
        return 0 if ok else 3

    def kill(self):
        if self.conn:
            self.lib.PQfinish(self.conn)
            self.conn = None


def _line_finder():
    """find(buffer, needle) -> offset or -1: glibc's memmem through ctypes (2.5 times faster than bytes.find on
    the load's rows: Python's search for a short needle steps a few bytes at a time, and was the loader's largest
    CPU cost); bytes.find where there is no memmem."""
    try:
        import ctypes
        memmem = ctypes.CDLL(None).memmem
        memmem.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
        memmem.restype = ctypes.c_void_p
    except (OSError, AttributeError):
        return lambda buffer, needle: buffer.find(needle)

    def find(buffer, needle):
        base = ctypes.c_char_p(buffer)
        address = ctypes.cast(base, ctypes.c_void_p).value
        found = memmem(address, len(buffer), needle, len(needle))
        return -1 if found is None else found - address

    return find


_find = _line_finder()


def _copy_end(buffer):
    """The offset of the line "\\." that ends a COPY's rows in buffer, or -1."""
    if buffer.startswith(b"\\.\n"):
        return 0
    at = _find(buffer, b"\n\\.\n")
    return at + 1 if at >= 0 else -1


class _WorkerGone(Exception):
    pass


def restore_load(argv):
    count, err_dir, map_file, setval_file = int(argv[0]), argv[1], argv[2], argv[3]
    counts_file = argv[4] if len(argv) > 4 else None
    setvals = open(setval_file, "wb")  # noqa: SIM115: closed at the end
    with open(map_file, encoding="utf-8") as handle:
        staging_of = dict(line.rstrip("\n").split("\t") for line in handle if line.strip())
    lib = _Libpq.load()
    workers = [_PqWorker(n + 1, err_dir, lib) if lib else _PsqlWorker(n + 1, err_dir) for n in range(count)]

    def fail(code, message):
        with open(os.path.join(err_dir, "load.err" if code == 1 else "failed"), "w", encoding="utf-8") as handle:
            handle.write(message + "\n")
        for worker in workers:
            worker.kill()
        return code

    def check(worker, ok):
        if not ok:
            raise _WorkerGone(f"worker-{worker.number}")

    def ready_worker():
        """A session with nothing pending: the rows go to whichever is ready first. A session the server wrote
        to in the middle of a COPY (an error, a closed connection) ends its COPY here and reports."""
        while True:
            for worker in workers:
                if not worker.busy():
                    return worker
            readable, writable, _ = _select.select([w.fd for w in workers if w.readable()], [w.fd for w in workers], [])
            for worker in workers:
                if worker.fd in readable:
                    check(worker, worker.end_copy())
                if worker.fd in writable:
                    check(worker, worker.flush())

    try:
        # A session that cannot start (the server refuses it, or does not answer within PGCONNECT_TIMEOUT: a frozen
        # server) is the database's failure, exit 3 naming the session, as one that fails later: until h34-hangs it
        # was an uncaught _WorkerGone (a traceback, exit 1), which restore.sh reported as pg_restore's "Broken pipe".
        for worker in workers:
            check(worker, worker.start([b"SET client_connection_check_interval = '1s'", b"SET synchronous_commit = off"]))
    except _WorkerGone as gone:
        return fail(3, str(gone))
    stdin = sys.stdin.buffer.fileno()
    try:
        import fcntl
        fcntl.fcntl(stdin, 1031, 1024 * 1024)  # F_SETPIPE_SZ: the rows' pipe holds a whole chunk, fewer reads
    except OSError:
        pass
    chunk_size, buffer, copy_to, eof = 1024 * 1024, b"", None, False
    # need: the bytes to have in buffer before it is parsed; more than it holds when its last line is not whole
    # (a row longer than a chunk: it was parsed again and again without a read, forever).
    need = chunk_size
    copy_header = _re.compile(rb"^COPY (.+?) ((?:\(.*\) )?FROM stdin;)$")
    try:
        while True:
            if not eof and len(buffer) < need:
                # The pipe's reads (pg_restore writes a few KiB at a time) joined once per chunk: buffer + data
                # at each read copied the growing buffer again, several times the data's size in all.
                # 256 KiB reads (os.read allocates what it is asked for: 1 MiB reads cost the loader 2-3 MB more).
                pieces, size = [buffer], len(buffer)
                while size < need:
                    data = os.read(stdin, 256 * 1024)
                    if not data:
                        eof = True
                        break
                    pieces.append(data)
                    size += len(data)
                buffer = b"".join(pieces)
            need = chunk_size
            if copy_to is None:
                cut = buffer.find(b"\n")
                if cut < 0:
                    if not eof:
                        need = len(buffer) + 1
                        continue
                    if buffer.strip():
                        return fail(1, f"the data stream ends inside a line: {buffer[:80]!r}")
                    break
                line, buffer = buffer[:cut], buffer[cut + 1:]
                found = copy_header.match(line)
                if found:
                    schema, table = _split_qualified(found.group(1).decode("utf-8"))
                    if schema not in staging_of:
                        return fail(1, f"the data of {found.group(1).decode('utf-8')} has no staging table")
                    staged = f"{staging_of[schema]}.{table}"
                    copy_to = (staged, f"COPY {staged} {found.group(2).decode('utf-8')}".encode("utf-8"))
                elif line.startswith(b"SELECT pg_catalog.setval("):
                    setvals.write(line + b"\n")  # the sequences' values: for the swap, after the tables moved
                elif line.startswith((b"SET ", b"SELECT pg_catalog.set_config(")):
                    # The dump's session settings (client_encoding above all): every session, outside any COPY.
                    for worker in workers:
                        while worker.busy():
                            check(worker, worker.flush())
                            _select.select([], [worker.fd], [])
                        check(worker, worker.statement(line))
                elif line and not line.startswith((b"--", b"\\restrict", b"\\unrestrict")):
                    return fail(1, f"unexpected statement in the data section: {line[:120].decode('utf-8', 'replace')}")
                continue
            # Inside a COPY: rows up to the line "\.".
            end = _copy_end(buffer)
            if end >= 0:
                size, rest, closing = end, buffer[end + 3:], True
            else:
                size = buffer.rfind(b"\n") + 1
                if size == 0:
                    if eof:
                        return fail(1, "the data stream ends inside a COPY")
                    need = len(buffer) + 1
                    continue
                rest, closing = buffer[size:], False
            if size:
                # The rows are the first size bytes of buffer, passed without a copy.
                worker = ready_worker()
                check(worker, worker.copy(copy_to[0], copy_to[1], buffer, size))
            buffer = rest
            if closing:
                copy_to = None
        for worker in workers:
            while worker.busy():
                check(worker, worker.flush())
                _select.select([], [worker.fd], [])
            check(worker, worker.end_copy())
    except _WorkerGone as gone:
        return fail(3, str(gone))
    setvals.close()
    failed = [w for w in workers if w.finish() != 0]
    if failed:
        return fail(3, f"worker-{failed[0].number}")
    if counts_file:
        totals = {}
        for worker in workers:
            for table, rows in worker.rows.items():
                totals[table] = totals.get(table, 0) + rows
        with open(counts_file, "w", encoding="utf-8") as handle:
            handle.write("".join(f"{table}\t{rows}\n" for table, rows in sorted(totals.items())))
    return 0


def restore_spool(argv):
    """restore-spool SPOOL SHA_OUT: stdin (the download) into the file SPOOL and onto stdout (gpg), hashed on the
    way: SHA_OUT gets the hex sha256 of every byte read once the input ended. What tee -p SPOOL | sha256sum did
    in two processes (OpenSSL's sha256 is several times faster than coreutils' on this hardware). A reader of
    stdout that went away (gpg failed) does not stop the spool nor the hash: the verdict sees every byte.
    Exit 1 (the cause on stderr) when SPOOL cannot be written (a full scratch disk)."""
    import hashlib
    spool_path, sha_path = argv
    digest = hashlib.sha256()
    buffer = bytearray(1024 * 1024)
    view = memoryview(buffer)
    stdin, stdout, to_stdout = sys.stdin.buffer.fileno(), sys.stdout.buffer.fileno(), True
    try:
        spool = os.open(spool_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        while True:
            got = os.readv(stdin, [buffer])
            if not got:
                break
            chunk = view[:got]
            digest.update(chunk)
            done = 0
            while done < got:
                done += os.write(spool, chunk[done:])
            done = 0
            while to_stdout and done < got:
                try:
                    done += os.write(stdout, chunk[done:])
                except BrokenPipeError:
                    to_stdout = False
        os.close(spool)
    except OSError as err:
        print(f"restore-spool: {spool_path}: {err.strerror}", file=sys.stderr)
        return 1
    with open(sha_path + ".tmp", "w", encoding="ascii") as handle:
        handle.write(digest.hexdigest() + "\n")
    os.rename(sha_path + ".tmp", sha_path)
    return 0


def restore_fanout(argv):
    """restore-fanout FIFO...: stdin onto stdout and onto each FIFO (tee -p FIFO... >stdout), for the readers of
    the archive's first bytes (its table of contents): once every FIFO's reader has gone, the rest moves from
    pipe to pipe with splice(2), never copied through this process (a gigabyte through tee's 8 KiB reads and
    writes cost a quarter of a CPU second). Exit 1 when stdout's reader went away before the end."""
    outputs = [os.open(path, os.O_WRONLY) for path in argv]
    stdin, stdout = sys.stdin.buffer.fileno(), sys.stdout.buffer.fileno()
    buffer = bytearray(256 * 1024)
    view = memoryview(buffer)

    def write_all(fd, chunk):
        done = 0
        while done < len(chunk):
            done += os.write(fd, chunk[done:])

    try:
        while outputs:
            got = os.readv(stdin, [buffer])
            if not got:
                return 0
            for fd in list(outputs):
                try:
                    write_all(fd, view[:got])
                except BrokenPipeError:
                    os.close(fd)
                    outputs.remove(fd)
            write_all(stdout, view[:got])
        splice = getattr(os, "splice", None)
        while True:
            if splice:
                try:
                    moved = splice(stdin, stdout, 1024 * 1024)
                except OSError:
                    splice = None
                    continue
            else:
                moved = os.readv(stdin, [buffer])
                write_all(stdout, view[:moved])
            if not moved:
                return 0
    except BrokenPipeError:
        return 1


RESTORE_COMMANDS = {"restore-stage": restore_stage, "restore-load": restore_load, "restore-spool": restore_spool,
                    "restore-fanout": restore_fanout}
if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in RESTORE_COMMANDS:
        print(f"usage: restore-pipe.py {{{'|'.join(RESTORE_COMMANDS)}}} ARGS...", file=sys.stderr)
        sys.exit(2)
    sys.exit(RESTORE_COMMANDS[sys.argv[1]](sys.argv[2:]))
