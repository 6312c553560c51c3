"""Log file integrity validation (issue 4, items 4 and 5), end to end, judged by the real
`aws cloudtrail validate-logs`: a trail with validation on delivers log files and signed,
chained digests; the AWS CLI, talking to billtrail's CloudTrail API (`--endpoint-url`) and S3
API (`AWS_ENDPOINT_URL_S3`), finds every digest and log file valid, and so does
`billtrail validate`; after tampering both report it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from pathlib import Path

import pytest

# Digests every 3 s, log files every second: a chain of several digests in seconds.
FAST = {"BILLTRAIL_TRAIL_DIGEST_INTERVAL": "3s", "BILLTRAIL_TRAIL_DELIVERY_INTERVAL": "1s"}
BUCKET = "digest-bucket"


def _utc(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _keys(srv, prefix: str) -> list[str]:
    root = srv.data_dir / "buckets" / BUCKET
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*.json.gz")
        if str(p.relative_to(root)).startswith(prefix)
    )


def _ratio(text: str, name: str) -> tuple[int, int] | None:
    m = re.search(rf"^(\d+)/(\d+) {name} files valid", text, re.M)
    return (int(m.group(1)), int(m.group(2))) if m else None


@pytest.fixture
def trail(server_factory):
    """A server with a logging, validating trail that has delivered a few log files and been
    stopped (so its chain ends with a final digest and stays put)."""
    srv = server_factory(extra_env=FAST)
    out = srv.aws("s3", "mb", f"s3://{BUCKET}")
    assert out.returncode == 0, out.stderr
    created = srv.aws_json(
        "cloudtrail", "create-trail", "--name", "signed-trail", "--s3-bucket-name", BUCKET,
        "--enable-log-file-validation",
    )
    arn = created["TrailARN"]
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    srv.aws_json("cloudtrail", "start-logging", "--name", "signed-trail")
    account = arn.split(":")[4]
    logs_prefix = f"AWSLogs/{account}/CloudTrail/"
    digests_prefix = f"AWSLogs/{account}/CloudTrail-Digest/"
    # Calls spread over several digest intervals, so that digests seal log files in turn.
    for _ in range(4):
        for _ in range(3):
            srv.aws_json("cloudtrail", "describe-trails")
        time.sleep(2)
    srv.aws_json("cloudtrail", "stop-logging", "--name", "signed-trail")
    # Wait for the final digest: nothing new for a while, every delivered log file sealed.
    deadline = time.monotonic() + 60
    seen, stable_since = None, time.monotonic()
    while time.monotonic() < deadline:
        now = (_keys(srv, logs_prefix), _keys(srv, digests_prefix))
        if now != seen:
            seen, stable_since = now, time.monotonic()
        status = srv.aws_json("cloudtrail", "get-trail-status", "--name", "signed-trail")
        if time.monotonic() - stable_since > 5 and status.get("LatestDigestDeliveryTime"):
            break
        time.sleep(0.5)
    logs, digests = seen
    assert len(logs) >= 2 and len(digests) >= 3, (logs, digests, srv.log_tail())
    return srv, arn, start, logs, digests


def _validate_logs(srv, arn: str, start: dt.datetime, verbose: bool = True):
    args = ["cloudtrail", "validate-logs", "--trail-arn", arn, "--start-time", _utc(start),
            "--endpoint-url", srv.endpoint]
    if verbose:
        args.append("--verbose")
    return srv.aws(*args, timeout=300)


def _billtrail_validate(srv, arn: str, start: dt.datetime):
    return srv.billtrail(
        "validate", "--data-dir", str(srv.data_dir), "--trail-arn", arn, "--start-time", _utc(start),
        "--verbose", timeout=300,
    )


def test_aws_cli_and_billtrail_validate_a_chain(trail):
    srv, arn, start, logs, digests = trail
    assert "AWS_ENDPOINT_URL_S3" in srv.env, "billtrail env exports the S3 endpoint"

    out = _validate_logs(srv, arn, start)
    text = out.stdout + out.stderr
    assert out.returncode == 0, text
    assert _ratio(out.stdout, "digest") == (len(digests), len(digests)), text
    assert _ratio(out.stdout, "log") == (len(logs), len(logs)), text
    assert "INVALID" not in text

    mine = _billtrail_validate(srv, arn, start)
    assert mine.returncode == 0, mine.stdout + mine.stderr
    assert _ratio(mine.stdout, "digest") == (len(digests), len(digests)), mine.stdout
    assert _ratio(mine.stdout, "log") == (len(logs), len(logs)), mine.stdout
    # The same per-file lines, in the same order, as the AWS CLI.
    lines = lambda s: [l for l in s.splitlines() if l.startswith(("Digest file", "Log file"))]
    assert lines(mine.stdout) == lines(out.stdout)
    assert "digest chain links valid" in mine.stdout

    # The public key the digests name is the one ListPublicKeys returns: PKCS#1 DER, MD5.
    import base64
    import gzip
    import hashlib

    keys = srv.aws_json(
        "cloudtrail", "list-public-keys", "--start-time", _utc(start),
        "--end-time", _utc(dt.datetime.now(dt.timezone.utc)),
    )["PublicKeyList"]
    by_fp = {k["Fingerprint"]: k for k in keys}
    first = json.loads(gzip.decompress((srv.data_dir / "buckets" / BUCKET / digests[0]).read_bytes()))
    der = base64.b64decode(by_fp[first["digestPublicKeyFingerprint"]]["Value"])
    assert hashlib.md5(der).hexdigest() == first["digestPublicKeyFingerprint"]
    assert first["previousDigestSignature"] is None, "the first digest is a starting digest"


def test_tampering_is_reported_by_both(trail):
    srv, arn, start, logs, digests = trail
    root = srv.data_dir / "buckets" / BUCKET

    # One byte of a log file, changed in place.
    victim = root / logs[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x55
    with open(victim, "r+b") as f:
        f.write(bytes(data))
    out = _validate_logs(srv, arn, start, verbose=False)
    assert out.returncode != 0, out.stdout + out.stderr
    assert re.search(rf"Log file\ts3://{BUCKET}/{re.escape(logs[0])}\tINVALID: ", out.stderr), out.stderr
    mine = _billtrail_validate(srv, arn, start)
    assert mine.returncode != 0
    assert re.search(rf"Log file\ts3://{BUCKET}/{re.escape(logs[0])}\tINVALID: ", mine.stderr), mine.stderr

    # Bytes appended to another log file in place: its size changes, and both still read it
    # (as S3 would serve a replaced object) and call it invalid.
    grown = logs[1]
    with open(root / grown, "ab") as f:
        f.write(b"\x00" * 17)
    for out in (_validate_logs(srv, arn, start, verbose=False), _billtrail_validate(srv, arn, start)):
        assert out.returncode != 0, out.stdout + out.stderr
        assert re.search(rf"Log file\ts3://{BUCKET}/{re.escape(grown)}\tINVALID: ", out.stderr), out.stderr

    # A deleted digest in the middle of the chain, and a log file sealed by another digest.
    import gzip

    gone_digest = digests[len(digests) // 2]
    sealed_by = {}
    for d in digests:
        for entry in json.loads(gzip.decompress((root / d).read_bytes()))["logFiles"]:
            sealed_by[entry["s3Object"]] = d
    candidates = [l for l in logs[1:] if sealed_by.get(l) not in (None, gone_digest)]
    assert candidates, (sealed_by, gone_digest)
    gone_log = candidates[-1]
    for key in (gone_digest, gone_log):
        (root / key).unlink()
        (root / (key + ".billtrail-meta.json")).unlink(missing_ok=True)

    for out in (_validate_logs(srv, arn, start, verbose=False), _billtrail_validate(srv, arn, start)):
        assert out.returncode != 0, out.stdout + out.stderr
        assert f"Digest file\ts3://{BUCKET}/{gone_digest}\tINVALID: not found" in out.stderr, out.stderr
        assert f"Log file\ts3://{BUCKET}/{gone_log}\tINVALID: not found" in out.stderr, out.stderr


def test_list_public_keys_shapes_and_errors(server):
    from botocore.exceptions import ClientError

    ct = server.client("cloudtrail")
    # No trail validates yet: no key has been needed, so none exists.
    assert ct.list_public_keys()["PublicKeyList"] == []
    now = dt.datetime.now(dt.timezone.utc)
    with pytest.raises(ClientError) as e:
        ct.list_public_keys(StartTime=now, EndTime=now - dt.timedelta(hours=1))
    assert e.value.response["Error"]["Code"] == "InvalidTimeRangeException"
    with pytest.raises(ClientError) as e:
        ct.list_public_keys(NextToken="x")
    assert e.value.response["Error"]["Code"] == "InvalidTokenException"
    # The call is recorded, read-only, on cloudtrail.amazonaws.com.
    events = server.lookup_all([{"AttributeKey": "EventName", "AttributeValue": "ListPublicKeys"}])
    assert events and all(json.loads(ev["CloudTrailEvent"])["readOnly"] for ev in events)
