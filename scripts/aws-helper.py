#!/usr/bin/env python3
"""aws-helper.py: the S3 and Secrets Manager calls of the backup scripts, from one resident process.

Why: every `aws` CLI call pays about half a second of Python start-up and model loading, and a restore makes
five of them before its download starts (a backup eight). lib.sh starts this helper once per script run; it
loads botocore (the library the AWS CLI is built on: the same credential chain, IRSA included, SigV4
signing, retries of throttled and failed requests) and answers the scripts' calls over a Unix socket in the script's private work directory, in
milliseconds. The dump's upload is read here from a fifo (s3transfer's multipart upload, as in the CLI, with
a bounded number of parts in memory); its download is curl on a URL presigned here.

Usage: aws-helper.py SOCKET WATCH_PID (restore.sh's parallel load is restore-pipe.py's: no AWS in it). Serves HTTP on SOCKET (created 0600, bound under a temporary name and
renamed once listening, so that its existence means "ready") until WATCH_PID exits or SIGTERM.

Calls (query parameters; errors are HTTP 4xx/5xx whose body is botocore's message, the same text the CLI
prints, e.g. "An error occurred (NoSuchBucket) when calling the ListObjectsV2 operation: ..."):
  GET  /s3/keys?bucket&prefix[&modified]  every key under prefix, one a line, sorted (all pages); with
                                        modified=1 each line is KEY<TAB>LastModified (seconds since 1970)
  GET  /s3/hidden?bucket&prefix         the keys under prefix that a delete marker hides (ListObjectVersions: the
                                        key's latest version is a delete marker and an older version holds
                                        data), one a line, sorted: KEY<TAB>VERSION_ID<TAB>WRITTEN<TAB>
                                        MARKER_VERSION_ID<TAB>MARKER_TIME (the newest version with data; times
                                        in ISO 8601 UTC)
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
  GET  /credentials/check               after S3 refused a presigned GET: the fault of the run's credentials as STS
                                        sees them (recorded as the run's configuration fault), "" when none
  GET  /secretsmanager/get?id[&version]  {"ARN","Name","VersionId","SecretString"} as JSON
       [&region&endpoint_url[&role_arn&role_session_name]]  the same from another account (the vault's
                                        restore keys): its own region and endpoint ("" for the default), and
                                        the credentials of role_arn (sts:AssumeRole there) when given, assumed
                                        again before the session ends
Environment: AWS_REGION, AWS_ENDPOINT_URL (tests), and the standard AWS credential chain. OBJECT_LOCK_MODE
(COMPLIANCE or GOVERNANCE) and OBJECT_LOCK_RETAIN_DAYS (the job's data class, set by components/backup-jobs.ts):
every object put or uploaded gets its own S3 Object Lock retain-until date that many days (and one hour, so
that the buckets' policy floor of that many days holds when S3 receives the request) from now (the
bucket's default retention covers the rest); unset, the bucket's default applies alone.
"""
import fcntl
import gc
import io
import os
import re
import sys

# Python's cyclic garbage collector, paused for the start-up (imports, the session, the S3 client: warm_s3). The
# start-up allocates some 84,000 long-lived objects (botocore's modules, S3's model and endpoint rules) and no
# garbage to speak of (about 600 objects in cycles, 0.3 MB), yet the collector ran about a hundred times over
# it (5 to 10 ms of CPU), and the first full collection after it (during the run's next client or calls) walked
# all of it again (15 to 25 ms). warm_s3 moves what the start-up made to the collector's permanent generation
# (gc.freeze: never walked again, never freed: it lives as long as the process anyway) and resumes collecting
# what the calls make. bench/README.md section 5 (h32-helperstart).
gc.disable()


# The helper's own modules. (The restore commands, several processes at once during a restore, are in
# restore-pipe.py: they neither import these nor compile this file, about 15 MB and 1.6 MB less each.)
import json  # noqa: E402
import socket  # noqa: E402
import socketserver  # noqa: E402
import struct  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402
from http.server import BaseHTTPRequestHandler  # noqa: E402
from urllib.parse import parse_qs, unquote, urlsplit  # noqa: E402


# botocore's httpsession imports urllib3.contrib.pyopenssl for one name, orig_util_SSLContext: urllib3's own
# SSLContext (the standard library's ssl.SSLContext), kept there in case pyOpenSSL replaces it; when that import
# fails, botocore takes the same class from urllib3.util.ssl_. Where pyOpenSSL is installed (the backup image:
# Debian's urllib3 1.26 and python3-openssl, which awscli pulls in), the import loaded pyOpenSSL and cryptography
# for nothing: 25 to 50 ms of CPU at every start. Refused here (a None in sys.modules is an ImportError): the
# same SSLContext, and pyOpenSSL was never injected into urllib3 before either (nothing here calls
# inject_into_urllib3). test/scripts/helper-start.test.ts.
sys.modules.setdefault("urllib3.contrib.pyopenssl", None)

try:
    import botocore.awsrequest
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


def iso_utc(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def record_config_fault(message):
    """Writes the run's first configuration fault (later ones keep it: one cause); returns message."""
    return record_first(os.environ.get("AWS_HELPER_CONFIG_FAULT_FILE"), message)


def record_first(path, message):
    """Writes message to path unless it exists (the run's first fault of its kind); returns message."""
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


def credentials_expiry(method):
    """"; valid until <time>, <where that time comes from>" for credentials that carry their expiry (temporary
    ones: AWS_CREDENTIAL_EXPIRATION beside env keys, as `aws configure export-credentials` writes it; web
    identity, assumed role, SSO: the expiry STS or SSO gave), "" when they do not say."""
    try:
        expiry = getattr(SESSION.get_credentials(), "_expiry_time", None)
    except Exception:  # noqa: BLE001: only a detail of the message
        return ""
    if expiry is None:
        return ""
    where = "AWS_CREDENTIAL_EXPIRATION" if method == "env" else f"as issued to {method or 'the credential provider'}"
    return f"; valid until {iso_utc(expiry)}, {where}"


def still_expired_fault():
    """botocore re-read refreshable credentials that were past their expiry and got the same ones (env keys with
    AWS_CREDENTIAL_EXPIRATION, a credential_process that hands out old ones): its RuntimeError, as a fault."""
    method, advice = credentials_source()
    return (f"the AWS credentials{f' ({method})' if method else ''} have expired (botocore refreshed them and they are still "
            f"expired{credentials_expiry(method)}): {advice}")


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
            return f"the AWS credentials{f' ({method})' if method else ''} have expired ({code} from {operation}{credentials_expiry(method)}): {advice}"
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
    except RuntimeError as error:
        return still_expired_fault() if "still expired" in str(error) else None
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


def new_client(service, region, endpoint_url, session=None, **credentials):
    created = (session or SESSION).create_client(
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
    # Before botocore's retry handler, in this order (register_first keeps the order of registration among them):
    # the notice stopped, a host that does not resolve refused (no retry, no "no answer" line), the retry said.
    created.meta.events.register_first(f"needs-retry.{service}", stop_wait_notice)
    created.meta.events.register_first(f"needs-retry.{service}", refuse_unresolved_host)
    created.meta.events.register_first(f"needs-retry.{service}", say_retry)
    created.meta.events.register(f"before-send.{service}", start_wait_notice)
    if service == "s3":
        created.meta.events.register_first("needs-retry.s3", note_bucket_region)
    return created


# The region S3 named (x-amz-bucket-region of a refused request) for a bucket of another region than the client's.
# botocore's region redirector follows such an answer for the calls, but a presigned URL is still signed for the
# client's region (generate_presigned_url: ignore_signing_region), and S3 refuses it (400
# AuthorizationQueryParametersError): the dump's download (curl) failed with "curl: (22) ... error: 400" after
# every call before it had worked. s3_presign signs with the region noted here.
BUCKET_REGIONS = {}


def note_bucket_region(response=None, request_dict=None, **_):
    """needs-retry.s3: notes the region S3 names for a bucket of another region, and says it once per bucket (every
    call of the run then takes a redirect; in a region failure, the primary region's bucket is the one that fails)."""
    if response is None or response[0] is None or response[0].status_code < 300:
        return None
    region = named_bucket_region(response[1])
    context = (request_dict or {}).get("context", {})
    bucket = (context.get("s3_redirect") or {}).get("bucket")
    used = context.get("client_region")
    if region and bucket and region != used and bucket not in BUCKET_REGIONS:
        BUCKET_REGIONS[bucket] = region
        progress_line(f"note: {in_other_region(bucket, region, used)}: its calls are redirected there; set AWS_REGION={region}, "
                      f"or point BUCKET at the backup bucket of {used}")
    return None


def named_bucket_region(answer):
    """The region S3 names in a parsed answer (its x-amz-bucket-region header), or None."""
    return answer.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-amz-bucket-region")


def in_other_region(bucket, region, used):
    """What the note and the error say of a bucket S3 names another region for."""
    return f"the bucket {bucket} is in {region} (S3's x-amz-bucket-region), this run's AWS_REGION is {used}"


def client(service):
    """The run's own account: AWS_REGION, AWS_ENDPOINT_URL (tests) and the standard credential chain."""
    # botocore clients are thread-safe once created; creating them is not, hence the lock.
    with CLIENTS_LOCK:
        if service not in CLIENTS:
            CLIENTS[service] = new_client(service, os.environ.get("AWS_REGION") or None, os.environ.get("AWS_ENDPOINT_URL") or None)
        return CLIENTS[service]


def bucket_client(bucket):
    """The run's S3 client, or, for a bucket S3 said is in another region (BUCKET_REGIONS), a client of that region:
    what a presigned URL must be signed for."""
    region = BUCKET_REGIONS.get(bucket)
    if region is None:
        return client("s3")
    with CLIENTS_LOCK:
        key = ("s3", region)
        if key not in CLIENTS:
            CLIENTS[key] = new_client("s3", region, os.environ.get("AWS_ENDPOINT_URL") or None)
        return CLIENTS[key]


import botocore.credentials  # noqa: E402: part of botocore, checked above; here beside its one use


class AssumedRoleProvider(botocore.credentials.CredentialProvider):
    """The credentials of role_arn, assumed with the run's own (the chain's, themselves refreshed when they are
    refreshable) at that endpoint and region, and assumed again before they expire: botocore's deferred refresh,
    as the CLI does for an assume-role profile (from 15 minutes before the session's end, before each call). A
    session of STS's default hour no longer ends a run that reads the vault later than that (h32: the keys were
    assumed once per run, and a call past the hour failed with ExpiredTokenException, reported as the run's own
    credentials' fault)."""

    METHOD = "assume-role"
    CANONICAL_NAME = "custom-oauth2-dr-assumed-role"

    def __init__(self, region, endpoint_url, role_arn, session_name):
        super().__init__()
        self.fetcher = botocore.credentials.AssumeRoleCredentialFetcher(
            # The STS client of each refresh, signed with the run's credentials as they are then.
            client_creator=lambda service, **keys: new_client(service, region, endpoint_url, **keys),
            source_credentials=SESSION.get_credentials(),
            role_arn=role_arn,
            extra_args={"RoleSessionName": session_name or "oauth2-dr-aws-helper"},
        )

    def load(self):
        return botocore.credentials.DeferredRefreshableCredentials(refresh_using=self.fetcher.fetch_credentials, method=self.METHOD)


def account_client(service, region, endpoint_url, role_arn, session_name):
    """Another account's (the vault's restore keys): its own region and endpoint, and, when role_arn is given,
    the credentials of that role (sts:AssumeRole at that endpoint with the chain's credentials, as
    `aws sts assume-role` then `aws secretsmanager` with them), renewed before they expire (AssumedRoleProvider).
    One client per run for each such account."""
    key = (service, region, endpoint_url, role_arn)
    with CLIENTS_LOCK:
        if key not in CLIENTS:
            session = None
            if role_arn:
                if SESSION.get_credentials() is None:
                    raise botocore.exceptions.NoCredentialsError()
                session = botocore.session.Session()
                session.register_component("data_loader", SESSION.get_component("data_loader"))
                session.register_component("credential_provider", botocore.credentials.CredentialResolver(
                    [AssumedRoleProvider(region, endpoint_url, role_arn, session_name)]))
            CLIENTS[key] = new_client(service, region, endpoint_url, session=session)
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
# Uploads (PutObject, UploadPart) send for as long as their body takes: theirs is said once the request has made
# no progress (no more of its body taken by the peer: handed to the socket less what the socket still holds
# unacknowledged; or, once all of it was, no answer) for that long (UploadWatch); a slow upload that keeps sending
# is not. Until h35 a stalled upload was silent 20 s per attempt.
WAIT_NOTICE_SECONDS = float(os.environ.get("AWS_HELPER_WAIT_NOTICE_SECONDS") or 5)
# Each thread's wait being watched: a call's notice (threading.Timer) or an upload's UploadWatch; cancel() ends either.
WAITING = {}
UPLOADS = ("PutObject", "UploadPart")


def progress_line(text):
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    name = os.environ.get("AWS_HELPER_LOG_NAME") or "aws-helper"
    try:
        os.write(PROGRESS_FD, f"{stamp} {name}: {text}\n".encode())
    except OSError:
        pass


class ProgressBody:
    """An upload's body as the connection reads it (http.client and urllib3 read a file-like body a block at a
    time): how much of it was handed to the socket. Everything else is the body's own (seek and tell for a
    retry's rewind, its length)."""

    def __init__(self, body, watch):
        self._body, self._watch = body, watch

    def read(self, *args):
        data = self._body.read(*args)
        self._watch.handed += len(data)
        return data

    def __getattr__(self, name):
        return getattr(self._body, name)


# The bytes a socket holds that its peer has not acknowledged yet (Linux's SIOCOUTQ, the same number as TIOCOUTQ).
SIOCOUTQ = 0x5411


def unacknowledged(sock):
    try:
        return struct.unpack("i", fcntl.ioctl(sock.fileno(), SIOCOUTQ, b"\0\0\0\0"))[0]
    except (OSError, ValueError, AttributeError):
        return None


class UploadWatch:
    """One attempt of an upload request (PutObject, UploadPart). Its progress is what the peer has taken: the bytes
    of the body handed to the socket less those the socket still holds unacknowledged (a body handed over at once
    can sit in the kernel's buffers for as long as a slow link takes to send it: that is progress, a frozen peer's
    full window is not). Looked at every quarter of WAIT_NOTICE_SECONDS (at most 0.5 s) by a thread of its own;
    said once it has made no progress for WAIT_NOTICE_SECONDS (again after each new stall), naming the object, the
    part and the seconds without progress. cancel() at the attempt's end (needs-retry: answered, failed, retried)."""

    def __init__(self, what, size):
        self.what, self.size = what, size
        self.handed, self.taken = 0, 0
        self.sock = None
        self.last = time.monotonic()
        self.said = False
        self.ended = threading.Event()
        thread = threading.Thread(target=self.run, daemon=True)
        thread.start()

    def progress(self):
        held = unacknowledged(self.sock) if self.sock is not None else 0
        taken = self.handed - (held or 0)
        if self.size is not None:
            taken = min(taken, self.size)
        if taken > self.taken:
            self.taken = taken
            self.last = time.monotonic()
            self.said = False

    def run(self):
        every = min(WAIT_NOTICE_SECONDS / 4, 0.5)
        while not self.ended.wait(every):
            self.progress()
            idle = time.monotonic() - self.last
            if idle < WAIT_NOTICE_SECONDS or self.said:
                continue
            self.said = True
            if self.size is not None and self.taken >= self.size:
                state = f"all {self.size} bytes sent, no answer"
            else:
                state = f"{self.taken}{f' of {self.size}' if self.size is not None else ''} bytes sent"
            progress_line(f"no progress on the upload of {self.what} for {idle:.0f} s ({state}; at most "
                          f"{os.environ.get('AWS_HELPER_READ_TIMEOUT') or 20} s per attempt, AWS_HELPER_READ_TIMEOUT)")

    def cancel(self):
        self.ended.set()


def note_upload_socket(connection):
    """AWSConnection.send's first step: the socket an upload's body goes out on, for its UploadWatch."""
    watch = WAITING.get(threading.get_ident())
    if isinstance(watch, UploadWatch) and watch.sock is None:
        watch.sock = getattr(connection, "sock", None)


_AWS_CONNECTION_SEND = botocore.awsrequest.AWSConnection.send


def _send_noting_socket(self, data):
    note_upload_socket(self)
    return _AWS_CONNECTION_SEND(self, data)


botocore.awsrequest.AWSConnection.send = _send_noting_socket


def upload_target(url, operation):
    """ "s3://bucket/key, part N" (UploadPart) or "s3://bucket/key (one PutObject)"."""
    target = call_target(url, None).replace(" of ", "", 1) or f"{url.scheme}://{url.netloc}{url.path}"
    part = parse_qs(url.query).get("partNumber", [""])[0]
    return f"{target}, part {part}" if operation == "UploadPart" and part else f"{target} (one PutObject)"


def body_size(request):
    length = (request.headers or {}).get("Content-Length")
    try:
        return int(length)
    except (TypeError, ValueError):
        return None


def start_upload_watch(request, operation):
    url = urlsplit(request.url or "")
    watch = UploadWatch(upload_target(url, operation), body_size(request))
    body = request.body
    if isinstance(body, (bytes, bytearray)):
        body = io.BytesIO(body)
    if body is not None and hasattr(body, "read"):
        request.body = ProgressBody(body, watch)
    stop_wait_notice()
    WAITING[threading.get_ident()] = watch


def start_wait_notice(request=None, event_name="", **_):
    # Must return None: a before-send handler's answer would be taken as the response.
    operation = event_name.rsplit(".", 1)[-1]
    if PROGRESS_FD < 0 or WAIT_NOTICE_SECONDS <= 0 or request is None:
        return None
    if operation in UPLOADS:
        start_upload_watch(request, operation)
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
    watch = WAITING.pop(threading.get_ident(), None)
    if watch is not None:
        watch.cancel()
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


class HostNotResolved(botocore.exceptions.BotoCoreError):
    fmt = "cannot resolve host {host} (from {origin}): {error}; not retried"


def name_error(exception):
    """The resolver's definitive "no such name" (EAI_NONAME, EAI_NODATA) behind a connection error, else None. A
    temporary failure (EAI_AGAIN: the resolver did not answer) is not one: retried as before."""
    definitive = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}
    seen, todo = set(), [exception]
    while todo:
        error = todo.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, socket.gaierror):
            return error if error.errno in definitive else None
        todo.extend([getattr(error, "kwargs", {}).get("error"), getattr(error, "original_error", None), error.__cause__, error.__context__])
    return None


def host_origin(host):
    """The setting HOST came from: an endpoint variable whose URL names it, else the region of AWS's own endpoint."""
    # The service-specific variables too (botocore reads them when AWS_ENDPOINT_URL is unset).
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_STS",
                 "RESTORE_PRIVATE_KEYS_ENDPOINT_URL"):
        value = os.environ.get(name) or ""
        if value and urlsplit(value).hostname == host:
            return f"{name}={value}"
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "RESTORE_PRIVATE_KEYS_REGION"):
        value = os.environ.get(name) or ""
        if value and f".{value}." in f".{host}.":
            return f"AWS's endpoint for {name}={value}"
    return "the endpoint of the call"


def refuse_unresolved_host(caught_exception=None, request_dict=None, **_):
    """needs-retry: a host name the resolver says does not exist (a typo in AWS_ENDPOINT_URL, the region) is the
    configuration's, not the network's: said at once, naming the host and the setting, instead of the attempts'
    "no answer (EndpointConnectionError)". Raised here, it ends the call without a retry; the script reports it
    as the storage error it is (exit 4)."""
    if not isinstance(caught_exception, botocore.exceptions.EndpointConnectionError):
        return None
    error = name_error(caught_exception)
    if error is None:
        return None
    url = (request_dict or {}).get("url") or getattr(caught_exception, "kwargs", {}).get("endpoint_url") or ""
    host = urlsplit(url).hostname or url
    refused = HostNotResolved(host=host, origin=host_origin(host), error=error.strerror or str(error))
    # For lib.sh's die: exit 4 whichever service met it first (a Secrets Manager read's step would say 5, 3 or 8).
    record_first(os.environ.get("AWS_HELPER_ENDPOINT_FAULT_FILE"), str(refused))
    raise refused


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


def s3_hidden(q, _body):
    """A DELETE without a version id on a versioned bucket (an operator's mistake, a compromised job) puts a delete
    marker on top of an object: its versions stay (and stay locked), but ListObjectsV2 no longer lists the key.
    restore.sh and the verification ask this before trusting "the newest manifest" of a listing."""
    markers, data = {}, {}
    paginator = client("s3").get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=q["bucket"], Prefix=q.get("prefix", "")):
        for marker in page.get("DeleteMarkers", []):
            if marker.get("IsLatest"):
                markers[marker["Key"]] = marker
        for version in page.get("Versions", []):
            newest = data.get(version["Key"])
            if newest is None or version["LastModified"] > newest["LastModified"]:
                data[version["Key"]] = version
    lines = []
    for key in sorted(markers):
        if key in data:
            version, marker = data[key], markers[key]
            lines.append(f"{key}\t{version.get('VersionId') or 'null'}\t{iso_utc(version['LastModified'])}\t"
                         f"{marker.get('VersionId') or 'null'}\t{iso_utc(marker['LastModified'])}\n")
    return "".join(lines).encode(), {}


def credentials_check(_q, _body):
    """After S3 refused a presigned GET (curl sees only its HTTP status): whether the run's credentials are the
    cause, as STS sees them now. The fault, when there is one, is recorded (exit 2) and answered; "" otherwise."""
    fault = probe_credentials()
    return (record_config_fault(fault) if fault else "").encode(), {}


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
    url = bucket_client(q["bucket"]).generate_presigned_url("get_object", Params=params, ExpiresIn=int(q.get("expires", 900)))
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
    ("GET", "/s3/hidden"): (s3_hidden, ("bucket",)),
    ("GET", "/credentials/check"): (credentials_check, ()),
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


# S3's answers for a bucket of another region than the request's (S3 API reference, "Error responses"; a HEAD's 301
# or 400 has no body, only the x-amz-bucket-region header).
WRONG_REGION_CODES = ("PermanentRedirect", "AuthorizationHeaderMalformed", "AuthorizationQueryParametersError",
                      "IllegalLocationConstraintException", "301")


def wrong_region_hint(error, bucket):
    """The region S3 names for BUCKET and the setting to change, for an error of a bucket in another region than
    AWS_REGION. botocore follows such an answer by itself once (its S3 region redirector: the request signed
    again for the region S3 names, remembered for the bucket's later calls; presigned URLs: bucket_client):
    what reaches here is what was left when that did not succeed (an endpoint of one region, e.g. an S3 VPC
    endpoint, answers 301 again). Without this the run ended with S3's own words only ("must be addressed using
    the specified endpoint"), naming no region. A region S3 names that is this run's is no hint (a HEAD's bare
    400 of an expired token may carry the header)."""
    answer = error.response
    code = answer.get("Error", {}).get("Code")
    region = named_bucket_region(answer) or answer.get("Error", {}).get("Region") or ""
    used = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or client("s3").meta.region_name
    if not bucket or code not in WRONG_REGION_CODES + ("400",) or region == used:
        return ""
    if region:
        return (f" ({in_other_region(bucket, region, used)}: "
                f"set AWS_REGION={region}, or point BUCKET at the backup bucket of {used}, e.g. the DR stack's replica)")
    if code not in ("PermanentRedirect", "301", "IllegalLocationConstraintException"):
        return ""
    return (f" (the bucket {bucket} is not in this run's AWS_REGION={used}, and S3 did not name its region: set AWS_REGION "
            f"to the bucket's region, aws s3api get-bucket-location --bucket {bucket})")


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
    except RuntimeError as error:
        if "still expired" not in str(error):
            raise
        raise CallError(401, record_config_fault(still_expired_fault())) from error
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        fault = config_fault(error)
        if fault:
            record_config_fault(fault)
        if not isinstance(error, botocore.exceptions.ClientError):
            # No credentials, no region, an unreachable endpoint: the CLI prints the same text.
            raise CallError(502, str(error)) from error
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 400
        raise CallError(status if status >= 400 else 400, str(error) + wrong_region_hint(error, q.get("bucket"))) from error
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


def process_state(pid):
    """(state, start time) of process `pid` from /proc/PID/stat (start: clock ticks after boot, field 22), None when
    no process has that pid; comm, in parentheses, may hold spaces and parentheses."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rindex(b")") + 2:].split()
    return fields[0].decode(), fields[19].decode()


def watched_gone(pid, start):
    """Whether the watched process has ended: no process of that pid, a zombie (ended, its parent has not reaped it
    yet), or another process that has its number now (a start time not `start`). Without /proc: os.kill's answer."""
    if not os.path.isdir("/proc/self"):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass
        return False
    try:
        state = process_state(pid)
    except (OSError, ValueError, IndexError):
        return False
    return state is None or state[0] == "Z" or (start is not None and state[1] != start)


def watch(pid, path):
    """Ends this process the moment the script is gone (killed without its trap): at once, whatever is in
    flight. An upload still reading the stream is never completed (S3's lifecycle aborts its parts); a
    clean shutdown would wait for s3transfer's threads, which read until the orphaned dump ends. The script is
    its pid and its start time (AWS_HELPER_WATCH_START from lib.sh, else as read now): until h35 a zombie script
    or another process given its number after it ended counted as the script, and the helper lived on."""
    start = os.environ.get("AWS_HELPER_WATCH_START") or None
    if start is None and os.path.isdir("/proc/self"):
        try:
            state = process_state(pid)
        except (OSError, ValueError, IndexError):
            state = None
        start = state[1] if state else None
    while True:
        if watched_gone(pid, start):
            try:
                os.unlink(path)
            except OSError:
                pass
            os._exit(1)
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


def warm_s3():
    """The S3 client, then the end of the start-up: what it made frozen, the collector resumed (also when the
    client cannot be made: its error is the first call's to say)."""
    try:
        client("s3")
    finally:
        if hasattr(gc, "freeze"):  # Python 3.7 and later
            gc.freeze()
        gc.enable()


def warm_clients():
    # Loading S3's service model takes a tenth of a second: done while the script's first call is on its way
    # (a call that needs the client before it is ready waits on the lock). Secrets Manager's, when needed.
    threading.Thread(target=warm_s3, daemon=True).start()


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: aws-helper.py SOCKET WATCH_PID")
    serve(sys.argv[1], int(sys.argv[2]), Handler, on_ready=warm_clients)


if __name__ == "__main__":
    main()
