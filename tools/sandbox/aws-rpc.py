#!/usr/bin/env python3
"""aws-rpc.py: the tests' own AWS calls against moto, from one resident botocore process.

The tests set up and inspect moto (buckets, objects, versions, secrets) between script runs; one `aws` CLI
process per call cost half a second each, most of a script test's time. tools/sandbox/scripts.ts starts this
once per moto server and calls it synchronously with curl over a Unix socket:

  POST /call  {"service": "s3", "operation": "list_object_versions", "params": {...}}
  -> 200 the parsed response as JSON (a streaming Body as {"base64": ...}), or 400 with botocore's message.

Usage: aws-rpc.py SOCKET ENDPOINT_URL WATCH_PID (exits when WATCH_PID does). Credentials and region from the
environment (moto accepts any).
"""
import base64
import datetime
import gc
import importlib.util
import json
import os
import sys
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import botocore.exceptions
import botocore.session

sys.dont_write_bytecode = True  # no __pycache__ left in scripts/
# The helper's Unix-socket server (serve: ready-by-rename, 0600, stops with the watched process), reused.
_spec = importlib.util.spec_from_file_location("aws_helper", Path(__file__).resolve().parents[2] / "scripts" / "aws-helper.py")
aws_helper = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(aws_helper)
# The helper pauses the garbage collector for its start-up and resumes it once its S3 client is made (warm_s3),
# which this server never calls: resumed here.
gc.enable()

SESSION = botocore.session.get_session()
CLIENTS = {}
ENDPOINT = sys.argv[2] if len(sys.argv) > 2 else None


def client(service):
    if service not in CLIENTS:
        CLIENTS[service] = SESSION.create_client(service, region_name=os.environ.get("AWS_REGION", "us-east-1"), endpoint_url=ENDPOINT)
    return CLIENTS[service]


def plain(value):
    if hasattr(value, "read"):
        return {"base64": base64.b64encode(value.read()).decode()}
    if isinstance(value, (bytes, bytearray)):
        return {"base64": base64.b64encode(value).decode()}
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def decode(params):
    # {"base64": "..."} in the request is bytes (an object's body).
    if isinstance(params, dict):
        if set(params) == {"base64"}:
            return base64.b64decode(params["base64"])
        return {k: decode(v) for k, v in params.items()}
    if isinstance(params, list):
        return [decode(v) for v in params]
    return params


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        try:
            method = getattr(client(request["service"]), request["operation"])
            answer = plain(method(**decode(request.get("params", {}))))
            answer.pop("ResponseMetadata", None)
            status, data = 200, json.dumps(answer).encode()
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError, AttributeError, TypeError) as error:
            status, data = 400, str(error).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args):
        pass


def main():
    aws_helper.serve(sys.argv[1], int(sys.argv[3]), Handler)


if __name__ == "__main__":
    main()
