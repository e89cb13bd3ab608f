#!/usr/bin/env python3
"""aws-helper.py: the S3 and Secrets Manager calls of the backup scripts, from one resident process.

Why: every `aws` CLI call pays about half a second of Python start-up and model loading, and a restore makes
five of them before its download starts (a backup eight). lib.sh starts this helper once per script run; it
loads botocore (the library the AWS CLI is built on: the same credential chain, IRSA included, SigV4
signing, retries of throttled and failed requests) and answers the scripts' calls over a Unix socket in the script's private work directory, in
milliseconds. The dump's upload is read here from a fifo (s3transfer's multipart upload, as in the CLI, with
a bounded number of parts in memory); its download is curl on a URL presigned here.

Usage: aws-helper.py SOCKET WATCH_PID. Serves HTTP on SOCKET (created 0600, bound under a temporary name and
renamed once listening, so that its existence means "ready") until WATCH_PID exits or SIGTERM.

Calls (query parameters; errors are HTTP 4xx/5xx whose body is botocore's message, the same text the CLI
prints, e.g. "An error occurred (NoSuchBucket) when calling the ListObjectsV2 operation: ..."):
  GET  /s3/keys?bucket&prefix           every key under prefix, one a line, sorted (all pages)
  GET  /s3/size?bucket&key              the object's size in bytes
  GET  /s3/metadata?bucket&key&name     a user metadata value ("" when the object or value is absent)
  GET  /s3/get?bucket&key[&range]       the object's bytes (a range like bytes=0-65535); header
                                        X-Object-Size: the whole object's size
  POST /s3/put?bucket&key[&content_type][&meta.NAME=VALUE...]   the request body becomes the object
  POST /s3/upload?bucket&key&path[&expected_size][&meta.NAME=VALUE...]
                                        streams the fifo (or file) at path into the object, multipart
                                        (parts of S3_PART_SIZE_MB, default 5, larger when expected_size needs
                                        it: S3 allows 10,000 parts; S3_UPLOAD_CONCURRENCY parts in flight,
                                        default 4); answers {"bytes": N} once the object is complete
  POST /s3/delete?bucket&key
  GET  /s3/presign?bucket&key[&expires] a GET URL for curl (default 15 minutes: it is used at once)
  GET  /secretsmanager/get?id[&version]  {"ARN","Name","VersionId","SecretString"} as JSON
Environment: AWS_REGION, AWS_ENDPOINT_URL (tests), and the standard AWS credential chain. OBJECT_LOCK_MODE
(COMPLIANCE or GOVERNANCE) and OBJECT_LOCK_RETAIN_DAYS (the job's data class, set by components/backup-jobs.ts):
every object put or uploaded gets its own S3 Object Lock retain-until date that many days from now (the
bucket's default retention covers the rest); unset, the bucket's default applies alone.
"""
import json
import os
import socketserver
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

try:
    import botocore.exceptions
    import botocore.session
    from s3transfer.manager import TransferConfig, TransferManager
except ImportError as missing:
    # lib.sh reports this line (aws-helper.err) when the helper is not running.
    sys.exit(f"{sys.executable} cannot import {missing.name}: install python3-botocore and python3-s3transfer, or name a python3 that has them in AWS_HELPER_PYTHON")

SESSION = botocore.session.get_session()
CLIENTS = {}
CLIENTS_LOCK = threading.Lock()


def client(service):
    # botocore clients are thread-safe once created; creating them is not, hence the lock.
    with CLIENTS_LOCK:
        if service not in CLIENTS:
            CLIENTS[service] = SESSION.create_client(
                service,
                region_name=os.environ.get("AWS_REGION") or None,
                endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
            )
        return CLIENTS[service]


class CallError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def s3_keys(q, _body):
    keys = []
    paginator = client("s3").get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=q["bucket"], Prefix=q.get("prefix", "")):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return "".join(f"{key}\n" for key in sorted(keys)).encode(), {}


def s3_size(q, _body):
    head = client("s3").head_object(Bucket=q["bucket"], Key=q["key"])
    return str(head["ContentLength"]).encode(), {}


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
    if q.get("range"):
        args["Range"] = q["range"]
    answer = client("s3").get_object(**args)
    data = answer["Body"].read()
    size = answer.get("ContentRange", "").rpartition("/")[2] or str(answer["ContentLength"])
    return data, {"X-Object-Size": size}


def object_lock_args():
    """Each object's own retention (S3 Object Lock) from OBJECT_LOCK_MODE and OBJECT_LOCK_RETAIN_DAYS; {} when unset."""
    mode = os.environ.get("OBJECT_LOCK_MODE", "")
    days = os.environ.get("OBJECT_LOCK_RETAIN_DAYS", "")
    if not mode and not days:
        return {}
    if mode not in ("COMPLIANCE", "GOVERNANCE") or not days.isdigit() or int(days) < 1:
        raise CallError(400, f"aws-helper: OBJECT_LOCK_MODE must be COMPLIANCE or GOVERNANCE and OBJECT_LOCK_RETAIN_DAYS a whole number of days of at least 1, not {mode!r} and {days!r}")
    return {"ObjectLockMode": mode, "ObjectLockRetainUntilDate": datetime.now(timezone.utc) + timedelta(days=int(days))}


def s3_put(q, body):
    args = {"Bucket": q["bucket"], "Key": q["key"], "Body": body, **object_lock_args()}
    if q.get("content_type"):
        args["ContentType"] = q["content_type"]
    metadata = {name[len("meta."):]: value for name, value in q.items() if name.startswith("meta.")}
    if metadata:
        args["Metadata"] = metadata
    answer = client("s3").put_object(**args)
    return json.dumps({"ETag": answer.get("ETag")}).encode(), {}


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
    url = client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": q["bucket"], "Key": q["key"]}, ExpiresIn=int(q.get("expires", 900))
    )
    return url.encode(), {}


def secret_get(q, _body):
    args = {"SecretId": q["id"]}
    if q.get("version"):
        args["VersionId"] = q["version"]
    answer = client("secretsmanager").get_secret_value(**args)
    fields = ("ARN", "Name", "VersionId", "SecretString")
    return json.dumps({name: answer.get(name) for name in fields}).encode(), {}


CALLS = {
    ("GET", "/s3/keys"): (s3_keys, ("bucket",)),
    ("GET", "/s3/size"): (s3_size, ("bucket", "key")),
    ("GET", "/s3/metadata"): (s3_metadata, ("bucket", "key", "name")),
    ("GET", "/s3/get"): (s3_get, ("bucket", "key")),
    ("POST", "/s3/put"): (s3_put, ("bucket", "key")),
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
    except botocore.exceptions.ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 400
        raise CallError(status if status >= 400 else 400, str(error)) from error
    except (botocore.exceptions.BotoCoreError, ValueError) as error:
        # No credentials, no region, an unreachable endpoint: the CLI prints the same text.
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
