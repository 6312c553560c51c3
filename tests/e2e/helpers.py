"""Helpers for the end-to-end suite: raw SigV4-signed HTTP, AWS error parsing,
botocore model look-ups, and small record/response utilities.

Everything here talks to a real `billtrail serve` over loopback. Nothing is mocked:
requests are signed with botocore's own SigV4 signer and sent with http.client (or a
bare socket where we need to watch the connection itself).
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
import select
import shlex
import socket
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.loaders import Loader
from botocore.model import ServiceModel

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"

CLOUDTRAIL_TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"
JSON_11 = "application/x-amz-json-1.1"
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
EVENT_TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

# The seed's SetContactAddress example (../shared/seed/billing-cloudtrail.txt): its
# requestParameters are, by contract, exactly the request members of SetContactAddress.
SEED_CONTACT_ADDRESS = {
    "website": "https://amazon.com",
    "city": "Seattle",
    "postalCode": "98108",
    "fullName": "Jane Doe",
    "phoneNumber": "206-555-0100",
    "countryCode": "US",
    "addressLine1": "Nowhere Estates",
    "addressLine2": "100 Main Street",
    "company": "AnyCompany",
    "state": "Washington",
    "addressLine3": "Anytown, USA",
    "secondaryPhone": "206-555-0101",
}
SEED_CONTACT_MEMBERS = set(SEED_CONTACT_ADDRESS) | {"districtOrCounty"}

# Top-level record keys in the order CloudTrail writes them (reference §1.2 and the
# eventVersion 1.09+ examples). Optional keys are placed where AWS puts them; the check
# is that the keys a record has appear in this relative order.
RECORD_KEY_ORDER = [
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "errorCode",
    "errorMessage",
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "requestID",
    "eventID",
    "readOnly",
    "resources",
    "eventType",
    "apiVersion",
    "managementEvent",
    "recipientAccountId",
    "sharedEventID",
    "vpcEndpointId",
    "vpcEndpointAccountId",
    "eventCategory",
    "addendum",
    "tlsDetails",
    "sessionCredentialFromConsole",
]
# Always present in a management-event record of eventVersion 1.11 made by an API call.
RECORD_REQUIRED_KEYS = [
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "requestParameters",
    "responseElements",
    "requestID",
    "eventID",
    "readOnly",
    "eventType",
    "managementEvent",
    "recipientAccountId",
    "eventCategory",
]


def assert_record_key_order(record: dict) -> None:
    keys = list(record)
    unknown = [k for k in keys if k not in RECORD_KEY_ORDER]
    assert not unknown, f"record has keys CloudTrail does not write: {unknown}"
    positions = [RECORD_KEY_ORDER.index(k) for k in keys]
    assert positions == sorted(positions), f"record keys out of CloudTrail order: {keys}"
    assert keys[0] == "eventVersion", keys
    missing = [k for k in RECORD_REQUIRED_KEYS if k not in record]
    assert not missing, f"record lacks always-present keys: {missing}"


def parse_event_time(s: str) -> dt.datetime:
    assert EVENT_TIME_RE.match(s), f"eventTime {s!r} is not YYYY-MM-DDTHH:MM:SSZ"
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_env_exports(text: str) -> dict[str, str]:
    """Parse `export K=V` lines (V may be single- or double-quoted, shell style)."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("export "):
            continue
        for word in shlex.split(line[len("export ") :], comments=True):
            if "=" in word:
                k, v = word.split("=", 1)
                out[k] = v
    return out


# ---------------------------------------------------------------------------------
# botocore models

_LOADER: Loader | None = None


def loader() -> Loader:
    global _LOADER
    if _LOADER is None:
        _LOADER = Loader(extra_search_paths=[str(MODELS)])
    return _LOADER


def service_model(name: str) -> ServiceModel:
    return ServiceModel(loader().load_service_model(name, "service-2"), service_name=name)


def target_prefix(name: str) -> str:
    if name == "cloudtrail":
        return CLOUDTRAIL_TARGET
    prefix = service_model(name).metadata.get("targetPrefix")
    assert prefix, f"models/{name} has no targetPrefix"
    return prefix


def signing_name(name: str) -> str:
    md = service_model(name).metadata
    return md.get("signingName") or md.get("endpointPrefix") or name


# ---------------------------------------------------------------------------------
# raw signed requests


class FixedTimeSigV4Auth(SigV4Auth):
    """SigV4 signer whose clock is a parameter, for clock-skew tests."""

    def __init__(self, credentials, service_name, region_name, when: dt.datetime):
        super().__init__(credentials, service_name, region_name)
        self._when = when

    def add_auth(self, request):
        request.context["timestamp"] = self._when.strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        canonical_request = self.canonical_request(request)
        string_to_sign = self.string_to_sign(request, canonical_request)
        signature = self.signature(string_to_sign, request)
        self._inject_signature_to_request(request, signature)


def signed_headers(
    endpoint: str,
    creds: Credentials | None,
    service: str,
    target: str | None,
    body: bytes,
    region: str = "us-east-1",
    when: dt.datetime | None = None,
    content_type: str = JSON_11,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """Headers for POST / at `endpoint`, signed for `service` (unsigned when creds is None)."""
    headers = {"Content-Type": content_type}
    if target is not None:
        headers["X-Amz-Target"] = target
    if extra:
        headers.update(extra)
    req = AWSRequest(method="POST", url=endpoint.rstrip("/") + "/", data=body, headers=headers)
    if creds is not None:
        if when is None:
            SigV4Auth(creds, service, region).add_auth(req)
        else:
            FixedTimeSigV4Auth(creds, service, region, when).add_auth(req)
    out = dict(req.headers.items())
    # http.client would add its own Host; send the exact one that was signed.
    out.setdefault("Host", endpoint.split("://", 1)[1].rstrip("/"))
    return out


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    reason: str = ""

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else {}

    @property
    def error_code(self) -> str | None:
        return error_code_of(self.body, self.headers)

    @property
    def request_id(self) -> str | None:
        return self.headers.get("x-amzn-requestid")

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.body[:300]!r}>"


def error_code_of(body: bytes, headers: dict[str, str] | None = None) -> str | None:
    """The AWS error code, parsed the way botocore's JSON parser does."""
    code = None
    try:
        doc = json.loads(body.decode("utf-8")) if body else {}
    except (ValueError, UnicodeDecodeError):
        doc = {}
    if isinstance(doc, dict):
        code = doc.get("__type") or doc.get("code") or doc.get("Code")
    if not code and headers:
        code = headers.get("x-amzn-errortype")
    if not code:
        return None
    code = str(code).split(":", 1)[0]
    return code.rsplit("#", 1)[-1]


def error_message_of(body: bytes) -> str:
    try:
        doc = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return ""
    if isinstance(doc, dict):
        return str(doc.get("message") or doc.get("Message") or "")
    return ""


def _split_host(endpoint: str) -> tuple[str, int]:
    hostport = endpoint.split("://", 1)[1].rstrip("/")
    host, port = hostport.rsplit(":", 1)
    return host, int(port)


def send(
    endpoint: str,
    headers: dict[str, str],
    body: bytes,
    method: str = "POST",
    path: str = "/",
    timeout: float = 30,
) -> Response:
    """One request on a fresh connection. Raises on a dropped connection."""
    host, port = _split_host(endpoint)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        return _roundtrip(conn, method, path, headers, body)
    finally:
        conn.close()


def _roundtrip(conn, method, path, headers, body) -> Response:
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    has_len = False
    for k, v in headers.items():
        if k.lower() == "content-length":
            has_len = True
        conn.putheader(k, v)
    if not has_len:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body if body else None)
    r = conn.getresponse()
    data = r.read()
    return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data, r.reason)


def signed_call(
    endpoint: str,
    creds: Credentials | None,
    service: str,
    operation: str | None,
    body: bytes | dict,
    region: str = "us-east-1",
    when: dt.datetime | None = None,
    target: str | None = None,
    timeout: float = 30,
) -> Response:
    """POST one AWS JSON 1.1 request for `service`/`operation` (or an explicit target)."""
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    if target is None and operation is not None:
        target = f"{target_prefix(service)}.{operation}"
    sn = "cloudtrail" if service == "cloudtrail" else signing_name(service)
    headers = signed_headers(endpoint, creds, sn, target, body, region=region, when=when)
    return send(endpoint, headers, body, timeout=timeout)


class DroppedConnection(Exception):
    pass


@dataclass
class KeepAliveClient:
    """A keep-alive connection that tells a dropped connection from a closed idle one.

    A request that fails on a reused connection is retried once on a fresh one (the
    server may close an idle keep-alive connection at any time, which is legitimate);
    a request that gets no response on a fresh connection is a dropped connection.
    """

    endpoint: str
    timeout: float = 30
    _conn: http.client.HTTPConnection | None = field(default=None, repr=False)
    _used: bool = False

    def _fresh(self):
        if self._conn is not None:
            self._conn.close()
        host, port = _split_host(self.endpoint)
        self._conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
        self._used = False

    def request(self, headers: dict[str, str], body: bytes) -> Response:
        for attempt in (0, 1):
            if self._conn is None:
                self._fresh()
            reused = self._used
            try:
                resp = _roundtrip(self._conn, "POST", "/", headers, body)
            except (http.client.HTTPException, OSError) as e:
                self._fresh()
                if reused and attempt == 0:
                    continue
                raise DroppedConnection(f"{type(e).__name__}: {e}") from e
            self._used = True
            if resp.headers.get("connection", "").lower() == "close":
                self._conn.close()
                self._conn = None
            return resp
        raise AssertionError("unreachable")

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def post_large(endpoint: str, headers: dict[str, str], body: bytes, timeout: float = 60) -> Response | None:
    """POST a large body over a bare socket, stopping the upload as soon as the server
    answers (a server may reject an oversized body before reading it). Returns the
    response, or None when the connection closed without any response."""
    host, port = _split_host(endpoint)
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        head = "POST / HTTP/1.1\r\n"
        hdrs = dict(headers)
        hdrs["Content-Length"] = str(len(body))
        hdrs["Connection"] = "close"
        head += "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
        sock.sendall(head.encode("latin-1"))
        view = memoryview(body)
        sent = 0
        deadline = time.monotonic() + timeout
        while sent < len(body) and time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock], [], 1.0)
            if readable:
                break  # the server answered early
            if writable:
                try:
                    sent += sock.send(view[sent : sent + 65536])
                except (BrokenPipeError, ConnectionResetError):
                    break
        raw = b""
        try:
            sock.settimeout(timeout)
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                raw += chunk
                if _complete_http_response(raw):
                    break
        except (ConnectionResetError, socket.timeout):
            pass
        if not raw:
            return None
        return _parse_http_response(raw)
    finally:
        sock.close()


def _complete_http_response(raw: bytes) -> bool:
    if b"\r\n\r\n" not in raw:
        return False
    head, rest = raw.split(b"\r\n\r\n", 1)
    m = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    if m:
        return len(rest) >= int(m.group(1))
    return False


def _parse_http_response(raw: bytes) -> Response:
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return Response(status, headers, rest, parts[2] if len(parts) > 2 else "")


def http_get(endpoint: str, path: str, timeout: float = 5) -> Response:
    host, port = _split_host(endpoint)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read(), r.reason)
    finally:
        conn.close()


# ---------------------------------------------------------------------------------
# response and record utilities


def walk(obj: Any) -> Iterator[Any]:
    """Every value in a JSON-like tree, depth first (the root included)."""
    yield obj
    if isinstance(obj, dict):
        for v in obj.values():
            yield from walk(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from walk(v)


def dicts_containing(obj: Any, wanted: dict[str, Any]) -> list[dict]:
    """Dicts in `obj` whose items include every (key, value) of `wanted`; keys are
    compared case-insensitively."""
    want = {k.lower(): v for k, v in wanted.items()}
    found = []
    for d in walk(obj):
        if isinstance(d, dict):
            low = {str(k).lower(): v for k, v in d.items()}
            if all(k in low and low[k] == v for k, v in want.items()):
                found.append(d)
    return found


def event_ids_in(obj: Any) -> list[str]:
    """Distinct event IDs found in a JSON document of events or records, in document order."""
    ids: list[str] = []
    for d in walk(obj):
        if isinstance(d, dict):
            for k in ("EventId", "eventID", "eventId", "event_id", "EventID"):
                v = d.get(k)
                if isinstance(v, str) and UUID_RE.match(v):
                    ids.append(v)
                    break
            else:
                ct = d.get("CloudTrailEvent")
                if isinstance(ct, str):
                    ids.append(json.loads(ct)["eventID"])
    return list(dict.fromkeys(ids))


def record_of(event: dict) -> dict:
    """The CloudTrail record (parsed CloudTrailEvent) of one LookupEvents entry."""
    ct = event["CloudTrailEvent"]
    assert isinstance(ct, str), "CloudTrailEvent must be a JSON string"
    return json.loads(ct)


def random_city() -> str:
    return "City-" + uuid.uuid4().hex[:12]


def grep_tree(root: Path, needle: bytes) -> list[Path]:
    """Files under root whose bytes contain needle."""
    hits = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink():
            try:
                if needle in p.read_bytes():
                    hits.append(p)
            except OSError:
                pass
    return hits


PROM_SAMPLE = re.compile(
    r"^[a-zA-Z_:][a-zA-Z0-9_:]*"
    r"(\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\]|\\.)*\"(,\s*)?)*\})?"
    r"\s+([-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?|NaN|[-+]?Inf)"
    r"(\s+-?\d+)?$"
)
PROM_COMMENT = re.compile(r"^#\s+(HELP\s+[a-zA-Z_:][a-zA-Z0-9_:]*(\s.*)?|TYPE\s+[a-zA-Z_:][a-zA-Z0-9_:]*\s+(counter|gauge|histogram|summary|untyped))$")


def prometheus_problems(text: str) -> tuple[int, list[str]]:
    """(number of samples, lines that are not valid Prometheus text format)."""
    samples, bad = 0, []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("#"):
            if line.startswith("# HELP") or line.startswith("# TYPE"):
                if not PROM_COMMENT.match(line):
                    bad.append(line)
            continue
        if PROM_SAMPLE.match(line):
            samples += 1
        else:
            bad.append(line)
    return samples, bad


def chunks(seq: list, n: int) -> Iterable[list]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


# ---------------------------------------------------------------------------------
# model-driven inputs (for operations whose members the contract leaves to our model)

_MISSING = object()


def default_for(shape) -> Any:
    t = shape.type_name
    if t == "string":
        enum = shape.metadata.get("enum") or getattr(shape, "enum", None)
        if enum:
            return enum[0]
        return "x" * max(1, int(shape.metadata.get("min", 1)))
    if t in ("integer", "long"):
        return max(1, int(shape.metadata.get("min", 1)))
    if t in ("float", "double"):
        return 1.0
    if t == "boolean":
        return True
    if t == "timestamp":
        return int(time.time())
    if t == "list":
        n = max(1, int(shape.metadata.get("min", 0)))
        return [default_for(shape.member) for _ in range(n)]
    if t == "map":
        return {}
    if t == "structure":
        return fill_input(shape)
    if t == "blob":
        return "eA=="
    return "x"


def fill_input(shape, exact: dict[str, Any] | None = None, contains: list[tuple[str, Any]] | None = None) -> dict:
    """A request for a botocore structure shape. A member whose lower-case name is a key
    of `exact`, or contains a key of `contains`, gets that value; other required members
    get a plausible default; nested structures are filled the same way."""
    exact = {k.lower(): v for k, v in (exact or {}).items()}
    contains = contains or []
    out: dict[str, Any] = {}
    for name, m in shape.members.items():
        low = name.lower()
        required = name in shape.required_members
        if m.type_name == "structure":
            sub = fill_input(m, exact, contains)
            if sub or required:
                out[name] = sub
            continue
        hint = exact.get(low, _MISSING)
        if hint is _MISSING:
            hint = next((v for k, v in contains if k in low), _MISSING)
        if hint is not _MISSING and m.type_name == "string":
            out[name] = hint
        elif required:
            out[name] = default_for(m)
    return out


def member_paths(shape, pred, prefix: tuple = ()) -> list[tuple]:
    """Paths (tuples of member names) of the members whose name satisfies pred."""
    found = []
    for name, m in shape.members.items():
        if pred(name):
            found.append(prefix + (name,))
        if m.type_name == "structure":
            found.extend(member_paths(m, pred, prefix + (name,)))
    return found


def get_path(obj: Any, path: tuple) -> Any:
    for p in path:
        if not isinstance(obj, dict) or p not in obj:
            return _MISSING
        obj = obj[p]
    return obj


MISSING = _MISSING
