#!/usr/bin/env python3
"""aws-helper.py: the S3 and Secrets Manager calls of the backup scripts, from one resident process.

Why: every `aws` CLI call pays about half a second of Python start-up and model loading, and a restore makes
five of them before its download starts (a backup eight). lib.sh starts this helper once per script run; it
loads botocore (the library the AWS CLI is built on: the same credential chain, IRSA included, SigV4
signing, retries of throttled and failed requests) and answers the scripts' calls over a Unix socket in the script's private work directory, in
milliseconds. The dump's upload is read here from a fifo (s3transfer's multipart upload, as in the CLI, with
a bounded number of parts in memory); its download is curl on a URL presigned here.

Usage: aws-helper.py SOCKET WATCH_PID (restore-stage and restore-load: restore.sh's parallel load, below). Serves HTTP on SOCKET (created 0600, bound under a temporary name and
renamed once listening, so that its existence means "ready") until WATCH_PID exits or SIGTERM.

Calls (query parameters; errors are HTTP 4xx/5xx whose body is botocore's message, the same text the CLI
prints, e.g. "An error occurred (NoSuchBucket) when calling the ListObjectsV2 operation: ..."):
  GET  /s3/keys?bucket&prefix[&modified]  every key under prefix, one a line, sorted (all pages); with
                                        modified=1 each line is KEY<TAB>LastModified (seconds since 1970)
  GET  /s3/size?bucket&key              the object's size in bytes
  GET  /s3/metadata?bucket&key&name     a user metadata value ("" when the object or value is absent)
  GET  /s3/version?bucket&key           the current version's VersionId ("" in an unversioned bucket)
  GET  /s3/get?bucket&key[&version_id][&range]  the object's bytes (a range like bytes=0-65535); header
                                        X-Object-Size: the whole object's size
  POST /s3/put?bucket&key[&content_type][&meta.NAME=VALUE...]   the request body becomes the object
  POST /s3/put_newer?bucket&key        the body (a manifest) becomes the object (a pointer: latest.json) unless
                                        the stored one names a newer backup (object names sort by time);
                                        a conditional write (If-Match its ETag, If-None-Match * when absent),
                                        read again when another run wrote in between; answers {"written":
                                        true} or {"written": false, "kept": "<the newer one's object_key>"}
  POST /s3/upload?bucket&key&path[&expected_size][&meta.NAME=VALUE...]
                                        streams the fifo (or file) at path into the object, multipart
                                        (parts of S3_PART_SIZE_MB, default 5, larger when expected_size needs
                                        it: S3 allows 10,000 parts; S3_UPLOAD_CONCURRENCY parts in flight,
                                        default 4); answers {"bytes": N} once the object is complete
  POST /s3/delete?bucket&key
  GET  /s3/presign?bucket&key[&version_id][&expires]  a GET URL for curl (default 15 minutes: used at once)
  GET  /secretsmanager/get?id[&version]  {"ARN","Name","VersionId","SecretString"} as JSON
       [&region&endpoint_url[&role_arn&role_session_name]]  the same from another account (the vault's
                                        restore keys): its own region and endpoint ("" for the default), and
                                        the credentials of role_arn (sts:AssumeRole there) when given
Environment: AWS_REGION, AWS_ENDPOINT_URL (tests), and the standard AWS credential chain. OBJECT_LOCK_MODE
(COMPLIANCE or GOVERNANCE) and OBJECT_LOCK_RETAIN_DAYS (the job's data class, set by components/backup-jobs.ts):
every object put or uploaded gets its own S3 Object Lock retain-until date that many days (and one hour, so
that the buckets' policy floor of that many days holds when S3 receives the request) from now (the
bucket's default retention covers the rest); unset, the bucket's default applies alone.
"""
import os
import re
import sys

# --- restore.sh's parallel load (no AWS: run before botocore is imported) ---------------------------------
# restore.sh loads the tables of a verified dump into staging schemas with parallel COPY streams, then moves
# them into place in one transaction of its own (see scripts/README.md). Two commands, started by lib.sh:
#   aws-helper.py restore-stage SCHEMA_SQL DATA_LIST OUT_DIR STAGE_PREFIX [unlogged]
#       reads the restore script of everything but the data (pg_restore --clean --schema-only -f SCHEMA_SQL) and
#       the TABLE DATA lines of the archive's list; writes OUT_DIR/stage.sql (CREATE SCHEMA <STAGE_PREFIX>_<n>
#       and each table's own CREATE TABLE there), OUT_DIR/swap.sql (SCHEMA_SQL with each such CREATE TABLE
#       replaced by ALTER TABLE <staging>.<table> SET SCHEMA <schema>, its "SET lock_timeout = 0" removed and
#       the empty staging schemas dropped at the end) and OUT_DIR/stage.map ("<schema as written>\t<staging>").
#       Exit 0, or 10 with the reason on stdout when a table cannot be staged (a type, default or check that
#       names another object, INHERITS, PARTITION, storage options): the caller restores in one stream then.
#       "unlogged": the staging tables are CREATE UNLOGGED TABLE (restore-verification.sh's scratch database
#       only; never a restore's target), unless a table of SCHEMA_SQL is not staged.
#   aws-helper.py restore-load WORKERS ERR_DIR MAP_FILE SETVAL_FILE < pg_restore --data-only output
#       starts WORKERS psql sessions (libpq variables from the environment) and hands each COPY block's rows to
#       whichever session is ready, in line-aligned chunks, into the staging table of that block; the
#       sequences' setval statements go to SETVAL_FILE (for the swap). Exit 0 when
#       every session loaded and exited 0; 3 when a session failed (its stderr in ERR_DIR/worker-<n>.err,
#       ERR_DIR/failed names it); 1 on anything unexpected in the stream (ERR_DIR/load.err).
import re as _re
import select as _select


def _split_qualified(name):
    """("schema", "table") as written (quotes kept) from pg_dump's schema.table."""
    quoted = False
    for i, char in enumerate(name):
        if char == '"':
            quoted = not quoted
        elif char == "." and not quoted:
            return name[:i], name[i + 1:]
    return None, name


_STAGED_TYPE = _re.compile(r'^[A-Za-z_][A-Za-z0-9_ ]*(\([0-9, ]+\))?[A-Za-z ]*(\[\])*( COLLATE (pg_catalog\.)?"[^"]+")?$')


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
        if not _STAGED_TYPE.match(column_type):
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

    for worker in workers:
        check(worker, worker.start([b"SET client_connection_check_interval = '1s'", b"SET synchronous_commit = off"]))
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
if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] in RESTORE_COMMANDS:
    sys.exit(RESTORE_COMMANDS[sys.argv[1]](sys.argv[2:]))

# The helper's own modules, imported only here: the restore commands above (several processes at once during
# a restore) run without them, about 15 MB less each.
import json  # noqa: E402
import socketserver  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402
from http.server import BaseHTTPRequestHandler  # noqa: E402
from urllib.parse import parse_qs, unquote, urlsplit  # noqa: E402


try:
    import botocore.exceptions
    import botocore.loaders
    import botocore.session
    from botocore.config import Config
    # s3transfer (the dump's multipart upload) is imported by s3_upload, the one call that uses it: checked here
    # without importing it, so that a python3 without it still fails at once, with this line.
    import importlib.util
    if importlib.util.find_spec("s3transfer") is None:
        raise ImportError("s3transfer", name="s3transfer")
except ImportError as missing:
    # lib.sh reports this line (aws-helper.err) when the helper is not running.
    sys.exit(f"{sys.executable} cannot import {missing.name}: install python3-botocore and python3-s3transfer, or name a python3 that has them in AWS_HELPER_PYTHON")

# The services this helper calls: S3, Secrets Manager, and STS (the vault account's role, private_keys_secret);
# and the two that botocore's credential chain calls for an AWS_PROFILE of IAM Identity Center (sso_start_url or
# sso_session: SSO's GetRoleCredentials, SSO OIDC's token refresh). Without them such a profile failed every
# call with "Unknown service: 'sso'" (exit 4), even right after aws sso login.
SERVICES = ("s3", "secretsmanager", "sts", "sso", "sso-oidc")


class UsedServicesLoader(botocore.loaders.Loader):
    """botocore's own data loader (the same search path: AWS_DATA_PATH, ~/.aws/models, botocore's data), except
    that it answers "which services are there" for the services above only. botocore asks that before it loads
    a model, to refuse an unknown one, and answers it by looking into each of its 400-odd service directories
    (2,600 stat calls, a third of the CPU of creating the S3 client)."""

    def list_available_services(self, type_name):
        available = []
        for service in SERVICES:
            try:
                self.list_api_versions(service, type_name)
            except botocore.exceptions.DataNotFoundError:
                continue
            available.append(service)
        return available


# --- faults of the AWS configuration or credentials ----------------------------------------------------------
# A profile that is not in the config files, no credentials at all, expired or invalid credentials: no call of
# the run can succeed until the operator fixes the configuration, and none of them is a storage or source
# error. The first such fault is written to AWS_HELPER_CONFIG_FAULT_FILE (lib.sh: $WORK_DIR/aws-config.fault),
# one line naming the profile or variable and what to do; lib.sh's die then ends the run with exit 2
# (configuration) and that line, whatever step needed AWS (scripts/README.md, "Exit codes").
CONFIG_FILES = (f"AWS_CONFIG_FILE={os.environ.get('AWS_CONFIG_FILE') or '~/.aws/config'}, "
                f"AWS_SHARED_CREDENTIALS_FILE={os.environ.get('AWS_SHARED_CREDENTIALS_FILE') or '~/.aws/credentials'}")
# The error codes AWS answers for credentials it does not accept: expired temporary credentials (S3, STS:
# ExpiredToken; JSON services such as Secrets Manager: ExpiredTokenException), and an unknown access key, a
# wrong secret key or a malformed token (S3: InvalidAccessKeyId, SignatureDoesNotMatch, InvalidToken; STS and
# query services: InvalidClientTokenId; JSON services: UnrecognizedClientException).
EXPIRED_CODES = ("ExpiredToken", "ExpiredTokenException")
INVALID_CODES = ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "InvalidClientTokenId", "UnrecognizedClientException")


def record_config_fault(message):
    """Writes the run's first configuration fault (later ones keep it: one cause); returns message."""
    path = os.environ.get("AWS_HELPER_CONFIG_FAULT_FILE")
    if path:
        try:
            with open(path, "x", encoding="utf-8") as handle:
                handle.write(message + "\n")
        except OSError:
            pass
    return message


def profile_names():
    """The profiles of the config and credentials files, without resolving any (a missing one raises)."""
    try:
        return sorted(botocore.session.Session(profile=None).full_config.get("profiles", {}))
    except Exception:  # noqa: BLE001: only a hint; an unreadable file is said by the call itself
        return []


def profile_not_found(error):
    names = [name for name in profile_names() if name != "default"] or profile_names()
    choice = f"set AWS_PROFILE to one of: {', '.join(names)}" if names else "the files hold no profile"
    return (f"AWS_PROFILE={error.kwargs.get('profile')}: the AWS profile is not in the AWS config files read ({CONFIG_FILES}); "
            f"{choice}, or create it (docs/runbook.md section 6 step 2 for the vault's)")


def credentials_source():
    """(method, advice) of the run's credentials: botocore's name for the provider that gave them, and how to
    renew them there. ("", generic advice) when they cannot be resolved."""
    profile = os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE") or ""
    try:
        method = getattr(SESSION.get_credentials(), "method", "") or ""
    except Exception:  # noqa: BLE001: resolving them is what failed
        method = ""
    if method == "sso" or (profile and "sso" in method):
        return method, f"run aws sso login --profile {profile}, then run again"
    if method == "env":
        return method, ("AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN in the environment: set them to new "
                        "credentials (or unset them and set AWS_PROFILE), then run again")
    if method == "shared-credentials-file":
        return method, (f"the keys of profile {profile or 'default'} in {CONFIG_FILES.split(', ')[1]}: replace them "
                        "(or set AWS_PROFILE to another profile), then run again")
    if method in ("assume-role", "custom-process", "sso-legacy"):
        return method, f"AWS_PROFILE={profile or 'default'} ({method}): renew that profile's source credentials, then run again"
    if method == "assume-role-with-web-identity":
        return method, ("the web identity token (AWS_WEB_IDENTITY_TOKEN_FILE, the job's service account token): check the "
                        "pod's service account and its role (AWS_ROLE_ARN), then run again")
    where = f"AWS_PROFILE={profile}" if profile else "the environment (AWS_ACCESS_KEY_ID, AWS_SESSION_TOKEN)"
    return method, f"renew the credentials of {where}, then run again"


def config_fault(error):
    """The line of a configuration or credentials fault for error (a botocore exception), or None."""
    exceptions = botocore.exceptions
    profile = os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE") or ""
    sso = tuple(getattr(exceptions, name) for name in ("SSOTokenLoadError", "UnauthorizedSSOTokenError", "TokenRetrievalError", "SSOError")
                if hasattr(exceptions, name))
    if isinstance(error, exceptions.ProfileNotFound):
        return profile_not_found(error)
    if sso and isinstance(error, sso):
        return (f"AWS_PROFILE={profile or 'default'}: its SSO session has expired or was never started ({error}): "
                f"run aws sso login --profile {profile or 'default'}, then run again")
    if isinstance(error, exceptions.NoCredentialsError):
        return ("no AWS credentials found (AWS_PROFILE unset or without keys, no AWS_ACCESS_KEY_ID, no web identity "
                f"(AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE), no instance or container role; {CONFIG_FILES}): set "
                "AWS_PROFILE to a profile with credentials, or run in the job's service account")
    if isinstance(error, exceptions.PartialCredentialsError):
        return f"incomplete AWS credentials: {error}: set both the access key and the secret key there, then run again"
    if isinstance(error, exceptions.NoRegionError):
        return "no AWS region: set AWS_REGION (the backup bucket's region), then run again"
    if isinstance(error, exceptions.ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        operation = getattr(error, "operation_name", "") or "a call"
        if code in EXPIRED_CODES:
            method, advice = credentials_source()
            return f"the AWS credentials{f' ({method})' if method else ''} have expired ({code} from {operation}): {advice}"
        if code in INVALID_CODES:
            method, advice = credentials_source()
            return (f"the AWS credentials{f' ({method})' if method else ''} are not valid ({code} from {operation}: an unknown "
                    f"or deleted access key, a wrong secret key or token): {advice}")
        if code in ("400", "403") and operation == "HeadObject":
            # S3 answers a HEAD without a body: an expired token is a bare 400, an unknown key a bare 403 (as is
            # a denied one). STS's GetCallerIdentity (no permission needed) names the credentials' fault, if any.
            return probe_credentials()
    return None


def probe_credentials():
    """The fault line of the run's credentials as STS sees them (GetCallerIdentity), or None when STS accepts
    them or cannot be asked (one attempt, short timeouts: only a diagnosis)."""
    try:
        sts = SESSION.create_client("sts", region_name=os.environ.get("AWS_REGION") or None,
                                    endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
                                    config=Config(connect_timeout=3, read_timeout=5, retries={"max_attempts": 1}))
        sts.get_caller_identity()
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        return config_fault(error) if code in EXPIRED_CODES + INVALID_CODES else None
    except Exception:  # noqa: BLE001: STS unreachable or anything else: no diagnosis
        return None
    return None


SESSION = botocore.session.get_session()
# As botocore's create_loader builds it from the data_path setting (AWS_DATA_PATH), before any model is loaded.
try:
    _DATA_PATH = SESSION.get_config_variable("data_path")
except botocore.exceptions.ProfileNotFound as error:
    # A profile that is not in the config files (a typo, the vault profile not set up on this machine): one
    # line naming it and the files read, which lib.sh reports (aws-helper.err), not a traceback; and a
    # configuration fault (exit 2, below), not a storage error.
    sys.exit(record_config_fault(profile_not_found(error)))
SESSION.register_component("data_loader", UsedServicesLoader(extra_search_paths=[
    os.path.expanduser(os.path.expandvars(path)) for path in _DATA_PATH.split(os.pathsep)
] if _DATA_PATH is not None else []))
CLIENTS = {}
CLIENTS_LOCK = threading.Lock()


def new_client(service, region, endpoint_url, **credentials):
    created = SESSION.create_client(
        service,
        region_name=region,
        endpoint_url=endpoint_url,
        # botocore waits 60 s for each answer, on each of up to 5 attempts: an endpoint that accepts the
        # connection and stops answering held a run for minutes without a word. S3 and Secrets Manager
        # answer these calls in well under a second; the dump's own transfer is curl's (S3_STALL_SECONDS).
        config=Config(
            connect_timeout=int(os.environ.get("AWS_HELPER_CONNECT_TIMEOUT") or 10),
            read_timeout=int(os.environ.get("AWS_HELPER_READ_TIMEOUT") or 20),
        ),
        **credentials,
    )
    created.meta.events.register_first(f"needs-retry.{service}", say_retry)
    created.meta.events.register_first(f"needs-retry.{service}", stop_wait_notice)
    created.meta.events.register(f"before-send.{service}", start_wait_notice)
    return created


def client(service):
    """The run's own account: AWS_REGION, AWS_ENDPOINT_URL (tests) and the standard credential chain."""
    # botocore clients are thread-safe once created; creating them is not, hence the lock.
    with CLIENTS_LOCK:
        if service not in CLIENTS:
            CLIENTS[service] = new_client(service, os.environ.get("AWS_REGION") or None, os.environ.get("AWS_ENDPOINT_URL") or None)
        return CLIENTS[service]


def account_client(service, region, endpoint_url, role_arn, session_name):
    """Another account's (the vault's restore keys): its own region and endpoint, and, when role_arn is given,
    the credentials of that role (sts:AssumeRole at that endpoint with the chain's credentials, as
    `aws sts assume-role` then `aws secretsmanager` with them). Once per run for each such account."""
    key = (service, region, endpoint_url, role_arn)
    with CLIENTS_LOCK:
        if key not in CLIENTS:
            credentials = {}
            if role_arn:
                sts = CLIENTS.get(("sts", region, endpoint_url, None)) or new_client("sts", region, endpoint_url)
                CLIENTS[("sts", region, endpoint_url, None)] = sts
                assumed = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name or "oauth2-dr-aws-helper")["Credentials"]
                credentials = {
                    "aws_access_key_id": assumed["AccessKeyId"],
                    "aws_secret_access_key": assumed["SecretAccessKey"],
                    "aws_session_token": assumed["SessionToken"],
                }
            CLIENTS[key] = new_client(service, region, endpoint_url, **credentials)
        return CLIENTS[key]


# The script's own stderr, when lib.sh hands it over (fd 3, AWS_HELPER_PROGRESS_FD): each retry of a call that
# got no answer is said there as it happens. Without it, an endpoint that accepts connections and stops
# answering held a run for attempts x read timeout (5 x 20 s) without a word.
PROGRESS_FD = int(os.environ.get("AWS_HELPER_PROGRESS_FD") or -1)
SILENT_FAILURES = (
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.ConnectTimeoutError,
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectionClosedError,
)


def max_attempts():
    # The value botocore's retry handler uses: AWS_MAX_ATTEMPTS or the profile's max_attempts, else the retry
    # mode's default (legacy 5, standard and adaptive 3).
    configured = SESSION.get_config_variable("max_attempts")
    if configured:
        return int(configured)
    return 5 if (SESSION.get_config_variable("retry_mode") or "legacy") == "legacy" else 3


def call_target(url, request_dict):
    """ " of s3://bucket/key" or " of secret ID": what the unanswered call was for (the retry line names it, as
    the final error does). The S3 bucket and key are in the path (path-style, the tests' and endpoints') or the
    host (virtual-hosted); the secret in the JSON body."""
    body = (request_dict or {}).get("body")
    if isinstance(body, (bytes, str)) and "SecretId" in (body.decode("utf-8", "replace") if isinstance(body, bytes) else body):
        try:
            return f" of secret {json.loads(body)['SecretId']}"
        except (ValueError, KeyError, TypeError):
            return ""
    if "amazonaws.com" in url.netloc and url.netloc.split(".")[0] not in ("s3", "secretsmanager", "sts"):
        bucket, key = url.netloc.split(".")[0], unquote(url.path.lstrip("/"))
    else:
        bucket, _, key = unquote(url.path.lstrip("/")).partition("/")
    if not bucket:
        return ""
    prefix = parse_qs(url.query).get("prefix", [""])[0]
    return f" of s3://{bucket}/{key or prefix}"


# A call still without an answer after AWS_HELPER_WAIT_NOTICE_SECONDS (default 5) is said once per attempt,
# before its read timeout (20 s) ends it: the wait for a stalled endpoint is never silent for more than that.
# Uploads (PutObject, UploadPart) are left out: they send for as long as their body takes.
WAIT_NOTICE_SECONDS = float(os.environ.get("AWS_HELPER_WAIT_NOTICE_SECONDS") or 5)
WAITING = {}


def progress_line(text):
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    name = os.environ.get("AWS_HELPER_LOG_NAME") or "aws-helper"
    try:
        os.write(PROGRESS_FD, f"{stamp} {name}: {text}\n".encode())
    except OSError:
        pass


def start_wait_notice(request=None, event_name="", **_):
    # Must return None: a before-send handler's answer would be taken as the response.
    operation = event_name.rsplit(".", 1)[-1]
    if PROGRESS_FD < 0 or WAIT_NOTICE_SECONDS <= 0 or request is None or operation in ("PutObject", "UploadPart"):
        return None
    url = urlsplit(request.url or "")
    what = f"{url.scheme}://{url.netloc} to {operation}{call_target(url, {'body': request.body})}"
    started = time.monotonic()
    timer = threading.Timer(WAIT_NOTICE_SECONDS, lambda: progress_line(
        f"waiting for an answer from {what} ({time.monotonic() - started:.0f} s so far; at most "
        f"{os.environ.get('AWS_HELPER_READ_TIMEOUT') or 20} s per attempt, AWS_HELPER_READ_TIMEOUT)"))
    timer.daemon = True
    stop_wait_notice()
    WAITING[threading.get_ident()] = timer
    timer.start()
    return None


def stop_wait_notice(**_):
    timer = WAITING.pop(threading.get_ident(), None)
    if timer is not None:
        timer.cancel()
    return None


def say_retry(attempts=None, caught_exception=None, operation=None, request_dict=None, **_):
    # Runs before botocore's own retry handler and returns None, so it never changes the decision.
    if PROGRESS_FD < 0 or not isinstance(caught_exception, SILENT_FAILURES) or not attempts:
        return None
    url = urlsplit((request_dict or {}).get("url") or "")
    endpoint = f"{url.scheme}://{url.netloc}" if url.netloc else "the endpoint"
    total = max_attempts()
    then = "retrying" if attempts < total else "giving up"
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    name = os.environ.get("AWS_HELPER_LOG_NAME") or "aws-helper"
    line = (f"{stamp} {name}: no answer from {endpoint} to {getattr(operation, 'name', 'a call')}{call_target(url, request_dict)} "
            f"(attempt {attempts} of {total}, AWS_MAX_ATTEMPTS; {caught_exception.__class__.__name__}); {then}\n")
    try:
        os.write(PROGRESS_FD, line.encode())
    except OSError:
        pass
    return None


class CallError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def s3_keys(q, _body):
    keys = []
    paginator = client("s3").get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=q["bucket"], Prefix=q.get("prefix", "")):
        keys.extend((item["Key"], item["LastModified"].timestamp()) for item in page.get("Contents", []))
    if q.get("modified") == "1":
        return "".join(f"{key}\t{modified:.3f}\n" for key, modified in sorted(keys)).encode(), {}
    return "".join(f"{key}\n" for key, _ in sorted(keys)).encode(), {}


def s3_size(q, _body):
    head = client("s3").head_object(Bucket=q["bucket"], Key=q["key"])
    return str(head["ContentLength"]).encode(), {}


def s3_version(q, _body):
    head = client("s3").head_object(Bucket=q["bucket"], Key=q["key"])
    version = head.get("VersionId") or ""
    return ("" if version == "null" else version).encode(), {}


def s3_metadata(q, _body):
    try:
        head = client("s3").head_object(Bucket=q["bucket"], Key=q["key"])
    except botocore.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return b"", {}
        raise
    return head.get("Metadata", {}).get(q["name"], "").encode(), {}


def s3_get(q, _body):
    args = {"Bucket": q["bucket"], "Key": q["key"]}
    if q.get("version_id"):
        args["VersionId"] = q["version_id"]
    if q.get("range"):
        args["Range"] = q["range"]
    answer = client("s3").get_object(**args)
    data = answer["Body"].read()
    size = answer.get("ContentRange", "").rpartition("/")[2] or str(answer["ContentLength"])
    return data, {"X-Object-Size": size}


OBJECT_LOCK_MARGIN_SECONDS = 3600


def object_lock_args():
    """Each object's own retention (S3 Object Lock) from OBJECT_LOCK_MODE and OBJECT_LOCK_RETAIN_DAYS; {} when unset."""
    mode = os.environ.get("OBJECT_LOCK_MODE", "")
    days = os.environ.get("OBJECT_LOCK_RETAIN_DAYS", "")
    if not mode and not days:
        return {}
    if mode not in ("COMPLIANCE", "GOVERNANCE") or not days.isdigit() or int(days) < 1:
        raise CallError(400, f"aws-helper: OBJECT_LOCK_MODE must be COMPLIANCE or GOVERNANCE and OBJECT_LOCK_RETAIN_DAYS a whole number of days of at least 1, not {mode!r} and {days!r}")
    # One hour more than the days: the backup buckets' policies refuse a per-object lock whose remaining
    # retention (s3:object-lock-remaining-retention-days, evaluated when S3 receives the request) is below the
    # class's days; the margin keeps the request's own transit time from rounding it down to days - 1.
    return {"ObjectLockMode": mode, "ObjectLockRetainUntilDate": datetime.now(timezone.utc) + timedelta(days=int(days), seconds=OBJECT_LOCK_MARGIN_SECONDS)}


def s3_put(q, body):
    args = {"Bucket": q["bucket"], "Key": q["key"], "Body": body, **object_lock_args()}
    if q.get("content_type"):
        args["ContentType"] = q["content_type"]
    metadata = {name[len("meta."):]: value for name, value in q.items() if name.startswith("meta.")}
    if metadata:
        args["Metadata"] = metadata
    answer = client("s3").put_object(**args)
    return json.dumps({"ETag": answer.get("ETag")}).encode(), {}


# The time-ordered part of a backup's object name (lib.sh time_ordered_stamp): the UTC second, then hex digits
# (nanoseconds and random ones; 8 random ones in older names).
BACKUP_STAMP = re.compile(r"-(\d{8}T\d{6}Z)-([0-9a-f]+)\.dump\.gpg$")


def backup_stamp(manifest_bytes):
    try:
        key = json.loads(manifest_bytes).get("object_key") or ""
    except (ValueError, AttributeError):
        return None, ""
    found = BACKUP_STAMP.search(key)
    return (found.groups() if found else None), key


CONDITION = threading.local()


def _condition_header(request, **_):
    """before-sign.s3.PutObject: the conditional header of put_object_if, on this thread's call only."""
    condition = getattr(CONDITION, "header", None)
    if condition is not None:
        request.headers[condition[0]] = condition[1]


def put_object_if(s3, args, condition):
    """PutObject with a conditional header (If-Match ETag, If-None-Match *). botocore has the parameters since
    1.35 (2024); Debian bookworm's python3-botocore, which the backup image installs, is 1.29, whose
    put_object refuses them ("Unknown parameter in input: IfNoneMatch"): there the header is added to the
    signed request (S3 honours it the same; a 412 is the same PreconditionFailed ClientError)."""
    header, value = condition
    param = header.replace("-", "")
    if param in s3.meta.service_model.operation_model("PutObject").input_shape.members:
        return s3.put_object(**args, **{param: value})
    s3.meta.events.register("before-sign.s3.PutObject", _condition_header, unique_id="oauth2-dr-condition")
    CONDITION.header = (header, value)
    try:
        return s3.put_object(**args)
    finally:
        CONDITION.header = None


def s3_put_newer(q, body):
    """latest.json never moves backwards: of two overlapping backups, the one that finishes last must not
    replace the newer one's pointer. Read, compare by name, then write only if the object is still the one
    read (If-Match; If-None-Match * when there was none), else read again."""
    s3 = client("s3")
    mine, my_key = backup_stamp(body)
    if mine is None:
        raise CallError(400, f"aws-helper: put_newer needs a manifest with a backup's object_key, not {my_key!r}")
    for _ in range(20):
        try:
            current = s3.get_object(Bucket=q["bucket"], Key=q["key"])
            etag, stored = current["ETag"], current["Body"].read()
        except botocore.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise
            etag, stored = None, b""
        theirs, their_key = backup_stamp(stored) if etag else (None, "")
        if theirs is not None and theirs > mine:
            return json.dumps({"written": False, "kept": their_key}).encode(), {}
        args = {"Bucket": q["bucket"], "Key": q["key"], "Body": body, "ContentType": "application/json", **object_lock_args()}
        try:
            put_object_if(s3, args, ("If-Match", etag) if etag else ("If-None-Match", "*"))
        except botocore.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict"):
                continue  # another run wrote it in between: compare with that one
            raise
        return json.dumps({"written": True}).encode(), {}
    raise CallError(409, f"aws-helper: s3://{q['bucket']}/{q['key']} kept changing while it was being replaced (20 tries)")


class Counting:
    """A read-only stream that counts what it hands out (the size the upload stored), and that stops once the
    upload has failed: s3transfer would otherwise read the stream to its end (a whole dump) before it reports
    a refused part. The upload's own error stays the one reported."""

    def __init__(self, stream):
        self.stream, self.bytes, self.future = stream, 0, None

    def read(self, amount=-1):
        if self.future is not None and self.future.done():
            raise OSError("the upload has stopped")
        data = self.stream.read(amount)
        self.bytes += len(data)
        return data


MIB = 1024 * 1024


def positive_int(name, default, minimum):
    value = os.environ.get(name, str(default))
    if not value.isdigit() or int(value) < minimum:
        raise CallError(400, f"aws-helper: {name} must be a whole number of at least {minimum}, not {value!r}")
    return int(value)


def s3_upload(q, _body):
    from s3transfer.manager import TransferConfig, TransferManager

    part = positive_int("S3_PART_SIZE_MB", 5, 5) * MIB  # S3's smallest part
    expected = int(q.get("expected_size") or 0)
    part = max(part, -(-expected // 9000 // MIB) * MIB)  # S3 allows 10,000 parts; keep a margin
    concurrency = positive_int("S3_UPLOAD_CONCURRENCY", 4, 1)
    # Memory: at most max_in_memory_upload_chunks parts are read ahead of the requests in flight.
    config = TransferConfig(
        multipart_threshold=part, multipart_chunksize=part, max_request_concurrency=concurrency,
        max_in_memory_upload_chunks=concurrency + 1,
    )
    metadata = {name[len("meta."):]: value for name, value in q.items() if name.startswith("meta.")}
    extra = {"Metadata": metadata} if metadata else {}
    manager = TransferManager(client("s3"), config)
    try:
        with open(q["path"], "rb") as stream:
            # Refused once the fifo is open: its writer then fails at once (EPIPE) instead of waiting for a reader.
            extra.update(object_lock_args())
            counted = Counting(stream)
            counted.future = manager.upload(counted, q["bucket"], q["key"], extra_args=extra)
            counted.future.result()
    finally:
        manager.shutdown()
    return json.dumps({"bytes": counted.bytes}).encode(), {}


def s3_delete(q, _body):
    client("s3").delete_object(Bucket=q["bucket"], Key=q["key"])
    return b"", {}


def s3_presign(q, _body):
    # Used at once: a short validity (S3's access logs record query strings).
    params = {"Bucket": q["bucket"], "Key": q["key"]}
    if q.get("version_id"):
        params["VersionId"] = q["version_id"]
    url = client("s3").generate_presigned_url("get_object", Params=params, ExpiresIn=int(q.get("expires", 900)))
    return url.encode(), {}


def secret_get(q, _body):
    args = {"SecretId": q["id"]}
    if q.get("version"):
        args["VersionId"] = q["version"]
    if "endpoint_url" in q or "region" in q or q.get("role_arn"):
        # Another account's secret (lib.sh private_keys_secret: the vault's restore keys).
        secrets = account_client("secretsmanager", q.get("region") or None, q.get("endpoint_url") or None,
                                 q.get("role_arn") or None, q.get("role_session_name"))
    else:
        secrets = client("secretsmanager")
    answer = secrets.get_secret_value(**args)
    fields = ("ARN", "Name", "VersionId", "SecretString")
    return json.dumps({name: answer.get(name) for name in fields}).encode(), {}


CALLS = {
    ("GET", "/s3/keys"): (s3_keys, ("bucket",)),
    ("GET", "/s3/size"): (s3_size, ("bucket", "key")),
    ("GET", "/s3/version"): (s3_version, ("bucket", "key")),
    ("GET", "/s3/metadata"): (s3_metadata, ("bucket", "key", "name")),
    ("GET", "/s3/get"): (s3_get, ("bucket", "key")),
    ("POST", "/s3/put"): (s3_put, ("bucket", "key")),
    ("POST", "/s3/put_newer"): (s3_put_newer, ("bucket", "key")),
    ("POST", "/s3/upload"): (s3_upload, ("bucket", "key", "path")),
    ("POST", "/s3/delete"): (s3_delete, ("bucket", "key")),
    ("GET", "/s3/presign"): (s3_presign, ("bucket", "key")),
    ("GET", "/secretsmanager/get"): (secret_get, ("id",)),
}


def call(method, target, body):
    url = urlsplit(target)
    entry = CALLS.get((method, url.path))
    if entry is None:
        raise CallError(404, f"aws-helper: no call {method} {url.path}")
    handler, required = entry
    q = {name: values[-1] for name, values in parse_qs(url.query, keep_blank_values=True).items()}
    missing = [name for name in required if not q.get(name)]
    if missing:
        raise CallError(400, f"aws-helper: {url.path} needs {', '.join(missing)}")
    try:
        return handler(q, body)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        fault = config_fault(error)
        if fault:
            record_config_fault(fault)
        if not isinstance(error, botocore.exceptions.ClientError):
            # No credentials, no region, an unreachable endpoint: the CLI prints the same text.
            raise CallError(502, str(error)) from error
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 400
        raise CallError(status if status >= 400 else 400, str(error)) from error
    except ValueError as error:
        # A parameter botocore refuses: its own text.
        raise CallError(502, str(error)) from error


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def handle_call(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            data, headers, status = *call(method, self.path, body), 200
        except CallError as error:
            data, headers, status = str(error).encode(), {}, error.status
        except Exception as error:  # noqa: BLE001: the script gets the cause instead of a hang
            data, headers, status = f"aws-helper: {type(error).__name__}: {error}".encode(), {}, 500
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802: http.server's naming
        self.handle_call("GET")

    def do_POST(self):  # noqa: N802
        self.handle_call("POST")

    def log_message(self, *_args):
        # Requests carry object keys and secret ids only, but the answers may hold secrets: log nothing.
        pass


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def watch(pid, path):
    """Ends this process the moment the script is gone (killed without its trap): at once, whatever is in
    flight. An upload still reading the stream is never completed (S3's lifecycle aborts its parts); a
    clean shutdown would wait for s3transfer's threads, which read until the orphaned dump ends."""
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            try:
                os.unlink(path)
            except OSError:
                pass
            os._exit(1)
        except PermissionError:
            pass
        time.sleep(0.5)


def serve(path, pid, handler, on_ready=None):
    """Serves `handler` on the Unix socket `path` (0600; bound under a temporary name and renamed once
    listening, so that its existence means "ready") until process `pid` exits."""
    pending = f"{path}.{os.getpid()}"
    os.umask(0o177)
    server = Server(pending, handler)
    os.rename(pending, path)
    threading.Thread(target=watch, args=(pid, path), daemon=True).start()
    if on_ready:
        on_ready()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def warm_clients():
    # Loading S3's service model takes a tenth of a second: done while the script's first call is on its way
    # (a call that needs the client before it is ready waits on the lock). Secrets Manager's, when needed.
    threading.Thread(target=client, args=("s3",), daemon=True).start()


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: aws-helper.py SOCKET WATCH_PID")
    serve(sys.argv[1], int(sys.argv[2]), Handler, on_ready=warm_clients)


if __name__ == "__main__":
    main()
