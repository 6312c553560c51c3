"""The core (issue 2), end to end: the real `billtrail` binary driven by the real AWS CLI
and boto3. A signed billing call becomes exactly one CloudTrail record; LookupEvents
finds it wire-compatibly; bad input and bad signatures are rejected with the AWS error
and never take the server down; kill -9 loses no acknowledged call.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import math
import os
import random
import re
import stat
import subprocess
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from configparser import ConfigParser
from dataclasses import dataclass
from pathlib import Path

import pytest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import BIN, BilltrailServer, no_retry_config, running_server
from helpers import (
    CLOUDTRAIL_TARGET,
    HIDDEN,
    JSON_11,
    MODELS,
    SEED_CONTACT_ADDRESS,
    SEED_CONTACT_MEMBERS,
    UUID_RE,
    DroppedConnection,
    KeepAliveClient,
    assert_record_key_order,
    dicts_containing,
    event_ids_in,
    fill_input,
    get_path,
    grep_tree,
    http_get,
    member_paths,
    parse_env_exports,
    parse_event_time,
    post_large,
    prometheus_problems,
    random_city,
    record_of,
    send,
    service_model,
    signed_call,
    signed_headers,
    signing_name,
    target_prefix,
    walk,
)

BILLING_SOURCE = "billingconsole.amazonaws.com"
CLOUDTRAIL_SOURCE = "cloudtrail.amazonaws.com"
# Read-only flags of the first slice, from ../shared/seed/billing-operations.tsv.
SLICE_READ_ONLY = {
    "GetAddresses": True,
    "GetSupportedCountryCodes": True,
    "SetAccountPreferences": False,
    "SetContactAddress": False,
    "ValidateAddress": True,
}
AUTH_BAD_SIGNATURE = {"InvalidSignatureException", "SignatureDoesNotMatch"}
AUTH_UNKNOWN_KEY = {"UnrecognizedClientException", "InvalidClientTokenId"}
AUTH_MISSING = {"MissingAuthenticationToken", "MissingAuthenticationTokenException"}
AUTH_EXPIRED = {"InvalidSignatureException", "SignatureDoesNotMatch", "SignatureExpired", "SignatureExpiredException", "RequestExpired"}


# ---------------------------------------------------------------------------------
# small helpers


def seed_with(**overrides) -> dict:
    d = dict(SEED_CONTACT_ADDRESS)
    d.update(overrides)
    return d


def billing(srv: BilltrailServer, **kw):
    return srv.client("billingconsole", **kw)


def attr(key: str, value: str) -> dict:
    return {"AttributeKey": key, "AttributeValue": value}


def client_error(exc: ClientError) -> tuple[str, int, dict]:
    err = exc.response.get("Error", {})
    md = exc.response.get("ResponseMetadata", {})
    return err.get("Code", ""), md.get("HTTPStatusCode", 0), md.get("HTTPHeaders", {})


def cli_error_code(stderr: str) -> str | None:
    m = re.search(r"An error occurred \(([^)]+)\)", stderr)
    return m.group(1) if m else None


def strip_metadata(resp: dict) -> dict:
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


def assert_alive(srv: BilltrailServer) -> None:
    assert srv.alive(), f"billtrail serve died\n{srv.log_tail()}"
    assert http_get(srv.endpoint, "/health").status == 200, "GET /health is not 200"


def epoch(t) -> float:
    return t.timestamp() if isinstance(t, dt.datetime) else float(t)


def ids(events) -> list[str]:
    return [e["EventId"] for e in events]


def non_lookup(events) -> list[dict]:
    return [e for e in events if e["EventName"] != "LookupEvents"]


def validate_address_input(good: bool) -> dict:
    shape = service_model("billingconsole").operation_model("ValidateAddress").input_shape
    values = {
        "addressline1": "410 Terry Ave N",
        "city": "Seattle",
        "state": "WA",
        "stateorregion": "WA",
        "postalcode": "98109",
        "countrycode": "US",
        "fullname": "Jane Doe",
        "phonenumber": "206-555-0100",
    }
    if not good:
        values.update({"countrycode": "ZZ", "postalcode": "!!!"})
    body = fill_input(shape, exact=values)
    assert body, "ValidateAddress takes no address members"
    return body


def validity(resp: dict):
    """True/False when the response says whether the address is valid, None if silent."""
    resp = strip_metadata(resp)
    for d in walk(resp):
        if isinstance(d, dict):
            for k, v in d.items():
                if isinstance(v, bool) and "valid" in k.lower():
                    return v
    for d in walk(resp):
        if isinstance(d, dict):
            for k, v in d.items():
                if isinstance(v, str) and re.search(r"valid|status|result", k, re.I):
                    up = v.upper()
                    if "INVALID" in up or "FAIL" in up or "NOT_VALID" in up:
                        return False
                    if "VALID" in up or up in ("OK", "SUCCESS", "VERIFIED"):
                        return True
    return None


def account_preferences_shape():
    return service_model("billingconsole").operation_model("SetAccountPreferences").input_shape


def account_name_member() -> str:
    names = [m for m in account_preferences_shape().members if "name" in m.lower()]
    assert names, "SetAccountPreferences has no account name member (the seed: it updates name, email and password)"
    return names[0]


def account_id_of(srv: BilltrailServer) -> str:
    """The management account's ID, as recorded on a call the root user makes now."""
    billing(srv).get_supported_country_codes()
    ev = srv.lookup_all([attr("EventName", "GetSupportedCountryCodes")])
    assert ev, "no GetSupportedCountryCodes record"
    return record_of(ev[0])["recipientAccountId"]


# ---------------------------------------------------------------------------------
# the shipped model


def test_billingconsole_model_ships_the_first_slice():
    files = list(MODELS.glob("billingconsole/*/service-2.json"))
    assert files, f"no models/billingconsole/<api-version>/service-2.json under {MODELS}"
    sm = service_model("billingconsole")
    assert sm.metadata.get("protocol") == "json" and sm.metadata.get("jsonVersion") == "1.1", sm.metadata
    assert sm.metadata.get("targetPrefix"), "no targetPrefix"
    assert sm.metadata.get("signatureVersion") == "v4"
    missing = set(SLICE_READ_ONLY) - set(sm.operation_names)
    assert not missing, f"operations missing from the model: {missing}"
    members = set(sm.operation_model("SetContactAddress").input_shape.members)
    assert members == SEED_CONTACT_MEMBERS, f"SetContactAddress members differ from the seed's requestParameters: {members ^ SEED_CONTACT_MEMBERS}"


# ---------------------------------------------------------------------------------
# bootstrap, env, config


def test_env_exports_and_cli_profile_files(server):
    exp = server.exported
    assert exp["AWS_PROFILE"] == "billtrail"
    assert "AWS_DATA_PATH" in exp, "billtrail env must export AWS_DATA_PATH"
    aws_dir = server.data_dir / "aws"
    assert Path(exp["AWS_CONFIG_FILE"]).resolve() == (aws_dir / "config").resolve()
    assert Path(exp["AWS_SHARED_CREDENTIALS_FILE"]).resolve() == (aws_dir / "credentials").resolve()
    for f in (aws_dir / "config", aws_dir / "credentials"):
        mode = stat.S_IMODE(f.stat().st_mode)
        assert mode == 0o600, f"{f} has mode {oct(mode)}, want 0600"
    cfg = ConfigParser()
    cfg.read(aws_dir / "config")
    prof = cfg["profile billtrail"]
    assert prof.get("region") == "us-east-1"
    assert re.fullmatch(rf"http://(127\.0\.0\.1|localhost):{server.port}/?", prof.get("endpoint_url", "")), prof.get("endpoint_url")
    creds = ConfigParser()
    creds.read(aws_dir / "credentials")
    key, secret = creds["billtrail"]["aws_access_key_id"], creds["billtrail"]["aws_secret_access_key"]
    assert re.fullmatch(r"[A-Z0-9]{16,128}", key), key
    assert len(secret) >= 20
    assert secret not in server.log_text(), "the secret access key was written to the server log"
    assert len(grep_tree(server.data_dir, secret.encode())) == 1, (
        "the secret access key is stored in cleartext outside DATA_DIR/aws/credentials: "
        f"{grep_tree(server.data_dir, secret.encode())}"
    )


def test_eval_env_points_the_cli_at_the_server(server):
    """`eval "$(billtrail env)"` alone is enough for the AWS CLI (its own AWS_DATA_PATH included)."""
    from conftest import _aws_cli

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PATH"] = f"{Path(_aws_cli()).parent}:{env.get('PATH', '')}"
    env["AWS_MAX_ATTEMPTS"] = "1"
    script = 'eval "$("$BT_BIN" env --data-dir "$BT_DATA")" && aws billingconsole get-supported-country-codes --output json'
    env.update(BT_BIN=str(BIN), BT_DATA=str(server.data_dir))
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "US" in [v for v in walk(json.loads(out.stdout)) if isinstance(v, str)]


def test_env_vars_replace_flags(server_factory):
    srv = server_factory(start=False)
    srv.use_flags = False
    srv.start()
    assert (srv.data_dir / "aws" / "config").exists(), "BILLTRAIL_DATA_DIR was not used"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.startswith("BILLTRAIL_")}
    env["BILLTRAIL_DATA_DIR"] = str(srv.data_dir)
    out = subprocess.run([str(BIN), "env"], capture_output=True, text=True, env=env, timeout=30)
    assert out.returncode == 0, out.stderr
    assert parse_env_exports(out.stdout) == srv.exported
    billing(srv).get_addresses()


def test_restart_keeps_account_keys_state_and_records(server):
    city = random_city()
    billing(server).set_contact_address(**seed_with(city=city))
    acct, key = account_id_of(server), server.access_key
    before = server.lookup_all([attr("EventName", "SetContactAddress")])
    server.restart()
    assert server.access_key == key
    assert account_id_of(server) == acct
    assert dicts_containing(billing(server).get_addresses(), seed_with(city=city)), "address lost across a restart"
    after = server.lookup_all([attr("EventName", "SetContactAddress")])
    assert ids(after) == ids(before) and len(after) == 1


def test_health_and_metrics(server):
    assert http_get(server.endpoint, "/health").status == 200
    billing(server).get_addresses()
    r = http_get(server.endpoint, "/metrics")
    assert r.status == 200
    ctype = r.headers.get("content-type", "")
    # The Prometheus text format (text/plain; version=0.0.4) or its standard successor,
    # OpenMetrics text, which every Prometheus server scrapes too.
    assert ctype.startswith("text/plain") or ctype.startswith("application/openmetrics-text"), ctype
    text = r.body.decode()
    if ctype.startswith("application/openmetrics-text"):
        assert text.rstrip("\n").endswith("# EOF"), "OpenMetrics text must end with # EOF"
    n, bad = prometheus_problems(text)
    assert not bad, f"not Prometheus text format: {bad[:5]}"
    assert n >= 1, "no samples in /metrics"


# ---------------------------------------------------------------------------------
# the record (the first "done when")


def test_set_contact_address_record_matches_the_seed(server):
    t0 = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    out = server.aws("billingconsole", "set-contact-address", "--cli-input-json", json.dumps(SEED_CONTACT_ADDRESS))
    assert out.returncode == 0, out.stderr
    for _ in range(2):
        server.aws_json("billingconsole", "get-addresses")
    look = server.aws_json(
        "cloudtrail", "lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue=SetContactAddress"
    )
    t1 = dt.datetime.now(dt.timezone.utc)
    events = look["Events"]
    assert len(events) == 1, f"want exactly one SetContactAddress event, got {len(events)}"
    ev = events[0]
    ct = ev["CloudTrailEvent"]
    r = json.loads(ct)
    assert ct == json.dumps(r, separators=(",", ":"), ensure_ascii=False), "CloudTrailEvent is not compact JSON"

    assert_record_key_order(r)
    assert r["eventVersion"] == "1.11"
    ui = r["userIdentity"]
    acct = ui.get("accountId", "")
    assert re.fullmatch(r"\d{12}", acct), ui
    assert list(ui)[:5] == ["type", "principalId", "arn", "accountId", "accessKeyId"], list(ui)
    assert ui["type"] == "Root"
    assert ui["principalId"] == acct
    assert ui["arn"] == f"arn:aws:iam::{acct}:root"
    assert ui["accessKeyId"] == server.access_key
    when = parse_event_time(r["eventTime"])
    assert t0 <= when <= t1, (t0, when, t1)
    assert r["eventSource"] == BILLING_SOURCE
    assert r["eventName"] == "SetContactAddress"
    assert r["awsRegion"] == "us-east-1"
    assert r["sourceIPAddress"] == "127.0.0.1"
    assert "aws-cli/" in r["userAgent"], r["userAgent"]
    rp = r["requestParameters"]
    assert set(rp) == SEED_CONTACT_MEMBERS, f"requestParameters members: {set(rp) ^ SEED_CONTACT_MEMBERS}"
    for k in SEED_CONTACT_MEMBERS:
        assert rp[k] == SEED_CONTACT_ADDRESS.get(k), f"requestParameters.{k} = {rp[k]!r}"
    assert rp["districtOrCounty"] is None
    assert r["responseElements"] is None
    assert isinstance(r["requestID"], str) and r["requestID"]
    assert UUID_RE.match(r["eventID"]), r["eventID"]
    assert r["readOnly"] is False
    assert r["eventType"] == "AwsApiCall"
    assert r["managementEvent"] is True
    assert r["recipientAccountId"] == acct
    assert r["eventCategory"] == "Management"
    assert "errorCode" not in r and "errorMessage" not in r
    assert "tlsDetails" not in r, "tlsDetails on a plain-HTTP call"

    assert ev["EventId"] == r["eventID"]
    assert ev["EventName"] == "SetContactAddress"
    assert ev["ReadOnly"] == "false"
    assert ev["AccessKeyId"] == server.access_key
    assert ev["EventSource"] == BILLING_SOURCE
    assert ev["Username"] == "root"
    assert isinstance(ev["EventTime"], (int, float)), ev["EventTime"]
    assert int(ev["EventTime"]) == int(when.timestamp())


def test_get_addresses_returns_what_was_set(server):
    server.aws("billingconsole", "set-contact-address", "--cli-input-json", json.dumps(SEED_CONTACT_ADDRESS)).check_returncode()
    got = server.aws_json("billingconsole", "get-addresses")
    assert dicts_containing(got, SEED_CONTACT_ADDRESS), f"get-addresses does not return the contact address: {got}"
    city = random_city()
    billing(server).set_contact_address(**seed_with(city=city, addressLine3="Other"))
    got = server.aws_json("billingconsole", "get-addresses")
    assert dicts_containing(got, seed_with(city=city, addressLine3="Other")), got
    assert not dicts_containing(got, SEED_CONTACT_ADDRESS), "the old contact address is still returned"


def test_supported_country_codes(server):
    got = server.aws_json("billingconsole", "get-supported-country-codes")
    codes = [v for v in walk(got) if isinstance(v, str)]
    assert "US" in codes and "ZZ" not in codes, got
    assert all(re.fullmatch(r"[A-Z]{2}", c) for c in codes if len(c) == 2)


def test_validate_address_good_and_bad(server):
    good = validate_address_input(good=True)
    out = server.aws_json("billingconsole", "validate-address", "--cli-input-json", json.dumps(good))
    assert validity(out) is not False, f"a good address was judged invalid: {out}"
    bad = validate_address_input(good=False)
    bc = billing(server, config=no_retry_config(parameter_validation=False))
    try:
        resp = bc.validate_address(**bad)
    except ClientError as e:
        code, status, headers = client_error(e)
        assert 400 <= status < 500, (code, status)
        assert "x-amzn-requestid" in headers
    else:
        assert validity(resp) is False, f"a bad address (country ZZ) was not rejected: {strip_metadata(resp)}"


def test_set_account_preferences_never_reveals_the_password(server):
    shape = account_preferences_shape()
    pw_paths = member_paths(shape, lambda n: "password" in n.lower())
    assert pw_paths, "SetAccountPreferences has no password member (the seed: it updates name, email and password)"
    secrets = {p: f"Pw{i}-{uuid.uuid4().hex}-!x" for i, p in enumerate(pw_paths)}
    body: dict = {}
    for p, secret in secrets.items():
        d = body
        for part in p[:-1]:
            d = d.setdefault(part, {})
        d[p[-1]] = secret
    out = server.aws("billingconsole", "set-account-preferences", "--cli-input-json", json.dumps(body))
    if out.returncode != 0:
        # The current password is not known to the test, so a refusal is fine; a crash is not.
        code = cli_error_code(out.stderr)
        assert code and code not in ("InternalServerException", "InternalFailure"), out.stderr
    # A name-only change needs no password and must succeed.
    name = account_name_member()
    server.aws("billingconsole", "set-account-preferences", "--cli-input-json", json.dumps({name: "billtrail e2e"})).check_returncode()

    events = server.lookup_all([attr("EventName", "SetAccountPreferences")])
    assert len(events) == 2, "one record per call"
    recs = [record_of(e) for e in events]
    with_pw = [r for r in recs if (r.get("requestParameters") or {}).get(name) != "billtrail e2e"]
    named = [r for r in recs if (r.get("requestParameters") or {}).get(name) == "billtrail e2e"]
    assert len(with_pw) == 1 and len(named) == 1, [r.get("requestParameters") for r in recs]
    for p in pw_paths:
        assert get_path(with_pw[0]["requestParameters"], p) == HIDDEN, f"requestParameters.{'.'.join(p)} is not {HIDDEN}"
    assert "errorCode" not in named[0]

    history = json.dumps(server.lookup_all(), default=str)
    log = server.log_text()
    for secret in secrets.values():
        assert secret not in history, "a password appears in event history"
        assert secret not in log, "a password is in the server log"
        hits = grep_tree(server.data_dir, secret.encode())
        assert not hits, f"a password is stored in cleartext in {hits}"
    server.stop()  # everything flushed to disk: look again
    for secret in secrets.values():
        hits = grep_tree(server.data_dir, secret.encode())
        assert not hits, f"a password is stored in cleartext in {hits}"


def test_root_password_shown_once_on_a_terminal_then_changed(server_factory):
    srv = server_factory(start=False)
    srv.tty = True
    srv.start()
    shape = account_preferences_shape()
    pw = [p[-1] for p in member_paths(shape, lambda n: "password" in n.lower()) if len(p) == 1]
    cur = [m for m in pw if re.search(r"current|old", m, re.I)]
    new = [m for m in pw if m not in cur]
    assert len(cur) == 1 and len(new) == 1, f"want one new-password and one current-password member, got {pw}"
    cur, new = cur[0], new[0]
    deadline, text, m = time.monotonic() + 10, "", None
    while time.monotonic() < deadline and not m:
        text = srv.terminal_path.read_text(errors="replace") if srv.terminal_path.exists() else ""
        m = re.search(r"password[^:\n]*:\s*(\S+)", text, re.I)
        time.sleep(0.1)
    assert m, f"the first start showed no console password on its terminal:\n{text}"
    first = m.group(1)
    assert first not in srv.log_text(), "the console password went to the log"

    second = "New-" + uuid.uuid4().hex + "-!x"
    third = "Third-" + uuid.uuid4().hex + "-!x"
    ok = srv.aws("billingconsole", "set-account-preferences", "--cli-input-json", json.dumps({new: second, cur: first}))
    assert ok.returncode == 0, ok.stderr
    stale = srv.aws("billingconsole", "set-account-preferences", "--cli-input-json", json.dumps({new: third, cur: first}))
    assert stale.returncode != 0, "the replaced password still works"
    assert cli_error_code(stale.stderr) not in (None, "InternalServerException", "InternalFailure"), stale.stderr
    again = srv.aws("billingconsole", "set-account-preferences", "--cli-input-json", json.dumps({new: third, cur: second}))
    assert again.returncode == 0, again.stderr

    events = srv.lookup_all([attr("EventName", "SetAccountPreferences")])
    recs = [record_of(e) for e in events]
    assert len(recs) == 3 and sum("errorCode" in r for r in recs) == 1
    for r in recs:
        assert r["requestParameters"][new] == HIDDEN and r["requestParameters"][cur] == HIDDEN, r["requestParameters"]
    history = json.dumps(srv.lookup_all(), default=str)
    srv.stop()
    for secret in (first, second, third):
        assert secret not in history, "a password appears in event history"
        assert secret not in srv.log_text(), "a password is in the server log"
        hits = grep_tree(srv.data_dir, secret.encode())
        assert not hits, f"a password is stored in cleartext in {hits}"
    srv.start()  # shown once: a restart shows no password
    time.sleep(0.5)
    assert len(re.findall(r"password[^:\n]*:\s*\S+", srv.terminal_path.read_text(errors="replace"), re.I)) == 1


def test_first_slice_read_only_flags_and_one_record_per_call(server):
    bc = billing(server)
    bc.get_addresses()
    bc.get_supported_country_codes()
    bc.set_contact_address(**SEED_CONTACT_ADDRESS)
    bc.validate_address(**validate_address_input(good=True))
    bc.set_account_preferences(**{account_name_member(): "billtrail e2e"})
    events = non_lookup(server.lookup_all())
    assert Counter(e["EventName"] for e in events) == Counter(list(SLICE_READ_ONLY)), [e["EventName"] for e in events]
    for e in events:
        r = record_of(e)
        assert e["EventSource"] == r["eventSource"] == BILLING_SOURCE
        assert r["readOnly"] is SLICE_READ_ONLY[e["EventName"]], e["EventName"]
        assert e["ReadOnly"] == ("true" if SLICE_READ_ONLY[e["EventName"]] else "false")
        assert r["awsRegion"] == "us-east-1"
        assert_record_key_order(r)


def test_billing_calls_are_recorded_in_us_east_1_from_any_region(server):
    billing(server, region_name="eu-west-1").get_addresses()
    events = server.lookup_all([attr("EventName", "GetAddresses")])
    assert len(events) == 1
    assert record_of(events[0])["awsRegion"] == "us-east-1"
    assert not [e for e in server.lookup_all(region="eu-west-1") if e["EventSource"] == BILLING_SOURCE], (
        "billing events leaked into eu-west-1's event history"
    )
    for e in server.lookup_all([attr("EventName", "LookupEvents")], region="eu-west-1"):
        assert record_of(e)["awsRegion"] == "eu-west-1"


# ---------------------------------------------------------------------------------
# LookupEvents over a fixed history


@dataclass
class History:
    srv: BilltrailServer
    truth: list  # every event but LookupEvents, newest first
    a_ids: set
    b_ids: set
    a_max: float
    b_min: float


@pytest.fixture(scope="module")
def hist(tmp_path_factory):
    """8 billing calls in two phases at least two seconds apart."""
    with running_server(tmp_path_factory.mktemp("history")) as srv:
        bc = billing(srv)
        bc.set_contact_address(**seed_with(city=random_city()))
        bc.set_contact_address(**seed_with(city=random_city()))
        bc.get_addresses()
        bc.get_addresses()
        bc.get_supported_country_codes()
        a_end = time.time()
        time.sleep(2.2)
        bc.set_contact_address(**seed_with(city=random_city()))
        bc.validate_address(**validate_address_input(good=True))
        bc.get_addresses()
        truth = non_lookup(srv.lookup_all())
        mid = a_end + 1.1
        a = [e for e in truth if epoch(e["EventTime"]) <= mid]
        b = [e for e in truth if epoch(e["EventTime"]) > mid]
        yield History(
            srv,
            truth,
            set(ids(a)),
            set(ids(b)),
            max((epoch(e["EventTime"]) for e in a), default=0),
            min((epoch(e["EventTime"]) for e in b), default=0),
        )


def test_history_has_one_record_per_call_newest_first(hist):
    names = Counter(e["EventName"] for e in hist.truth)
    assert names == Counter(SetContactAddress=3, GetAddresses=3, GetSupportedCountryCodes=1, ValidateAddress=1), names
    assert len(hist.a_ids) == 5 and len(hist.b_ids) == 3, (len(hist.a_ids), len(hist.b_ids))
    times = [epoch(e["EventTime"]) for e in hist.truth]
    assert times == sorted(times, reverse=True), "events are not newest first"
    assert len(set(ids(hist.truth))) == len(hist.truth)


def _check_filter(hist: History, key: str, value: str, expect: set, extra_ok=lambda e: False):
    got = hist.srv.lookup_all([attr(key, value)])
    got_ids = ids(got)
    assert len(got_ids) == len(set(got_ids)), f"{key}={value}: duplicate events"
    extra = [e for e in got if e["EventId"] not in expect and not extra_ok(e)]
    assert not extra, f"{key}={value}: unexpected events {[(e['EventName'], e['EventId']) for e in extra]}"
    missing = expect - set(got_ids)
    assert not missing, f"{key}={value}: missing {len(missing)} events"
    return got


def _is_lookup(e) -> bool:
    return e["EventName"] == "LookupEvents"


@pytest.mark.parametrize(
    "key",
    ["EventId", "EventName", "ReadOnly", "Username", "EventSource", "AccessKeyId", "ResourceType", "ResourceName"],
)
def test_lookup_each_attribute_key_filters(hist, key):
    truth = hist.truth
    srv = hist.srv
    bogus = "nomatch-" + uuid.uuid4().hex
    if key == "ReadOnly":
        # ReadOnly takes only true or false; another value is refused or matches nothing.
        try:
            assert srv.lookup_all([attr(key, bogus)]) == []
        except ClientError as e:
            code, status, _ = client_error(e)
            assert code in {"InvalidLookupAttributesException", "ValidationException"} and status == 400, (code, status)
    else:
        assert srv.lookup_all([attr(key, bogus)]) == [], f"{key}={bogus} matched events"
    if key == "EventId":
        for e in (truth[0], truth[-1]):
            got = _check_filter(hist, key, e["EventId"], {e["EventId"]})
            assert got[0]["CloudTrailEvent"] == e["CloudTrailEvent"]
    elif key == "EventName":
        for name in ("SetContactAddress", "GetAddresses", "ValidateAddress"):
            _check_filter(hist, key, name, {e["EventId"] for e in truth if e["EventName"] == name})
        assert srv.lookup_all([attr(key, "setcontactaddress")]) == [], "attribute values are case-sensitive"
    elif key == "ReadOnly":
        got = _check_filter(hist, key, "false", {e["EventId"] for e in truth if e["ReadOnly"] == "false"})
        assert {e["EventName"] for e in got} == {"SetContactAddress"}
        got = _check_filter(hist, key, "true", {e["EventId"] for e in truth if e["ReadOnly"] == "true"}, _is_lookup)
        assert all(e["ReadOnly"] == "true" for e in got)
    elif key == "Username":
        _check_filter(hist, key, "root", set(ids(truth)), _is_lookup)
    elif key == "EventSource":
        _check_filter(hist, key, BILLING_SOURCE, set(ids(truth)))
        got = srv.lookup_all([attr(key, CLOUDTRAIL_SOURCE)])
        assert got and all(e["EventName"] == "LookupEvents" and e["EventSource"] == CLOUDTRAIL_SOURCE for e in got)
    elif key == "AccessKeyId":
        _check_filter(hist, key, srv.access_key, set(ids(truth)), _is_lookup)
    else:  # ResourceType, ResourceName: billing events of the slice name no resources
        field = key
        with_res = {}
        for e in truth:
            for res in e.get("Resources") or []:
                if res.get(field):
                    with_res.setdefault(res[field], set()).add(e["EventId"])
        for value, expect in with_res.items():
            _check_filter(hist, key, value, expect, _is_lookup)


def test_lookup_attributes_combine_with_and(hist):
    srv, truth = hist.srv, hist.truth
    assert srv.lookup_all([attr("EventName", "SetContactAddress"), attr("ReadOnly", "true")]) == []
    got = srv.lookup_all([attr("ReadOnly", "true"), attr("EventName", "GetAddresses")])
    assert set(ids(got)) == {e["EventId"] for e in truth if e["EventName"] == "GetAddresses"}
    got = srv.lookup_all([attr("EventSource", BILLING_SOURCE), attr("EventName", "ValidateAddress")])
    assert len(got) == 1 and got[0]["EventName"] == "ValidateAddress"


def test_lookup_time_windows(hist):
    srv = hist.srv
    start_b = dt.datetime.fromtimestamp(math.floor(hist.b_min), dt.timezone.utc)
    end_a = dt.datetime.fromtimestamp(math.ceil(hist.a_max), dt.timezone.utc)
    start_a = dt.datetime.fromtimestamp(math.floor(min(epoch(e["EventTime"]) for e in hist.truth)), dt.timezone.utc)

    got = non_lookup(srv.lookup_all(StartTime=start_b))
    assert set(ids(got)) == hist.b_ids
    got = srv.lookup_all(EndTime=end_a)
    assert set(ids(got)) == hist.a_ids, "EndTime window"
    got = srv.lookup_all(StartTime=start_a, EndTime=end_a)
    assert set(ids(got)) == hist.a_ids
    got = non_lookup(srv.lookup_all([attr("EventName", "SetContactAddress")], StartTime=start_b))
    assert len(got) == 1 and got[0]["EventId"] in hist.b_ids
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    assert srv.lookup_all(StartTime=future) == []
    past = dt.datetime(2001, 1, 1, tzinfo=dt.timezone.utc)
    assert srv.lookup_all(EndTime=past) == []


def test_lookup_page_size_1_visits_every_event_once_newest_first(hist):
    ct = hist.srv.client("cloudtrail")
    seen, names, times, pages = [], {}, [], 0
    kw = {"MaxResults": 1}
    for _ in range(500):
        out = ct.lookup_events(**kw)
        pages += 1
        evs = out["Events"]
        tok = out.get("NextToken")
        assert len(evs) <= 1, f"MaxResults=1 returned {len(evs)} events"
        if tok:
            assert len(evs) == 1, "a page with a NextToken but no event"
        seen += ids(evs)
        names.update({e["EventId"]: e["EventName"] for e in evs})
        times += [epoch(e["EventTime"]) for e in evs]
        if not tok:
            break
        kw = {"MaxResults": 1, "NextToken": tok}
    else:
        pytest.fail("pagination did not end")
    assert len(seen) == len(set(seen)), f"an event was visited twice: {[k for k, c in Counter(seen).items() if c > 1]}"
    assert times == sorted(times, reverse=True), "pages are not newest first"
    visited = {i for i in seen if names[i] != "LookupEvents"}
    assert visited == set(ids(hist.truth)), "pagination skipped events or invented some"


def test_cli_page_size_1_one_event_per_request(hist):
    marker = "btpage" + uuid.uuid4().hex[:8]
    out = hist.srv.aws_json(
        "cloudtrail", "lookup-events", "--page-size", "1",
        "--lookup-attributes", f"AttributeKey=EventSource,AttributeValue={BILLING_SOURCE}",
        env={"AWS_EXECUTION_ENV": marker},
    )
    got = ids(out["Events"])
    assert len(got) == len(set(got)) and set(got) == set(ids(hist.truth)), "the CLI's paged listing differs from the history"
    times = [epoch(e["EventTime"]) for e in out["Events"]]
    assert times == sorted(times, reverse=True)
    recs = [record_of(e) for e in hist.srv.lookup_all([attr("EventName", "LookupEvents")])]
    mine = [r for r in recs if marker in r.get("userAgent", "")]
    n = len(hist.truth)
    assert n <= len(mine) <= n + 1, f"{n} events paged in {len(mine)} LookupEvents requests"
    for r in mine:
        assert r["eventSource"] == CLOUDTRAIL_SOURCE and r["eventName"] == "LookupEvents"
        assert r["readOnly"] is True and r["eventType"] == "AwsApiCall" and r["awsRegion"] == "us-east-1"
        assert_record_key_order(r)


def test_lookup_events_calls_are_recorded(hist):
    got = hist.srv.lookup_all([attr("EventName", "LookupEvents")])
    assert got, "LookupEvents calls are not recorded"
    for e in got:
        assert e["EventSource"] == CLOUDTRAIL_SOURCE and e["ReadOnly"] == "true" and e["Username"] == "root"
        assert record_of(e)["readOnly"] is True


def _expect_lookup_error(hist, codes: set, **params):
    ct = hist.srv.client("cloudtrail", config=no_retry_config(parameter_validation=False))
    with pytest.raises(ClientError) as ei:
        ct.lookup_events(**params)
    code, status, headers = client_error(ei.value)
    assert code in codes, f"{params}: got {code}, want one of {codes}"
    assert 400 <= status < 500, f"{params}: HTTP {status}"
    assert "x-amzn-requestid" in headers
    return code


@pytest.mark.parametrize("n", [0, 51, -1])
def test_lookup_max_results_out_of_range(hist, n):
    _expect_lookup_error(hist, {"InvalidMaxResultsException", "ValidationException"}, MaxResults=n)


def test_lookup_start_after_end(hist):
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    _expect_lookup_error(hist, {"InvalidTimeRangeException"}, StartTime=now, EndTime=now - dt.timedelta(hours=1))


def test_lookup_bad_attribute_and_category(hist):
    _expect_lookup_error(hist, {"InvalidLookupAttributesException", "ValidationException"}, LookupAttributes=[attr("NoSuchKey", "x")])
    _expect_lookup_error(hist, {"InvalidLookupAttributesException", "ValidationException"}, LookupAttributes=[attr("EventName", "x" * 2001)])
    _expect_lookup_error(hist, {"InvalidEventCategoryException", "ValidationException"}, EventCategory="bogus")


def test_next_token_is_bound_to_its_query_and_tamper_proof(hist):
    ct = hist.srv.client("cloudtrail")
    first = ct.lookup_events(MaxResults=1, LookupAttributes=[attr("EventSource", BILLING_SOURCE)])
    tok = first["NextToken"]
    second = ct.lookup_events(MaxResults=1, LookupAttributes=[attr("EventSource", BILLING_SOURCE)], NextToken=tok)
    assert len(first["Events"]) == len(second["Events"]) == 1
    assert first["Events"][0]["EventId"] != second["Events"][0]["EventId"]
    assert {first["Events"][0]["EventId"], second["Events"][0]["EventId"]} <= set(ids(hist.truth))
    codes = {"InvalidNextTokenException"}
    _expect_lookup_error(hist, codes, MaxResults=1, LookupAttributes=[attr("EventName", "GetAddresses")], NextToken=tok)
    _expect_lookup_error(hist, codes, MaxResults=1, NextToken=tok)
    i = len(tok) // 2
    flipped = tok[:i] + ("A" if tok[i] != "A" else "B") + tok[i + 1 :]
    _expect_lookup_error(hist, codes, MaxResults=1, LookupAttributes=[attr("EventSource", BILLING_SOURCE)], NextToken=flipped)
    _expect_lookup_error(hist, codes, MaxResults=1, LookupAttributes=[attr("EventSource", BILLING_SOURCE)], NextToken="garbage")


def test_lookup_default_page_is_50(server):
    bc = billing(server)
    for _ in range(53):
        bc.get_addresses()
    ct = server.client("cloudtrail")
    out = ct.lookup_events(LookupAttributes=[attr("EventName", "GetAddresses")])
    assert len(out["Events"]) == 50 and out.get("NextToken")
    rest = ct.lookup_events(LookupAttributes=[attr("EventName", "GetAddresses")], NextToken=out["NextToken"])
    assert len(rest["Events"]) == 3 and not rest.get("NextToken")
    assert not set(ids(out["Events"])) & set(ids(rest["Events"]))


def test_event_history_keeps_events_for_the_retention_period_only(server_factory):
    srv = server_factory(start=False, extra_env={"BILLTRAIL_EVENTS_RETENTION": "3s"})
    srv.start()
    billing(srv).get_addresses()
    assert len(srv.lookup_all([attr("EventName", "GetAddresses")])) == 1
    time.sleep(4.5)
    billing(srv).get_supported_country_codes()
    assert srv.lookup_all([attr("EventName", "GetAddresses")]) == [], "an event past retention is still in event history"
    assert len(srv.lookup_all([attr("EventName", "GetSupportedCountryCodes")])) == 1


# ---------------------------------------------------------------------------------
# errors


def test_missing_required_member_is_a_recorded_validation_error(server):
    bc = billing(server)
    bc.set_contact_address(**SEED_CONTACT_ADDRESS)
    shape = service_model("billingconsole").operation_model("SetContactAddress").input_shape
    required = list(shape.required_members)
    assert required, "SetContactAddress has no required members"
    drop = "fullName" if "fullName" in required else required[0]
    body = seed_with(city=random_city() if drop != "city" else "Seattle", addressLine3="changed")
    del body[drop]
    raw = billing(server, config=no_retry_config(parameter_validation=False))
    with pytest.raises(ClientError) as ei:
        raw.set_contact_address(**body)
    code, status, headers = client_error(ei.value)
    assert (code, status) == ("ValidationException", 400)
    assert headers.get("x-amzn-requestid"), headers
    assert dicts_containing(bc.get_addresses(), SEED_CONTACT_ADDRESS), "a failed call changed the address"
    events = server.lookup_all([attr("EventName", "SetContactAddress")])
    assert len(events) == 2, "the failed call must be recorded, once"
    failed = [record_of(e) for e in events if "errorCode" in record_of(e)]
    assert len(failed) == 1, "exactly the failed call carries errorCode"
    assert failed[0]["errorCode"] == "ValidationException"
    assert isinstance(failed[0].get("errorMessage"), str) and failed[0]["errorMessage"]
    assert failed[0]["responseElements"] is None
    assert_record_key_order(failed[0])


@pytest.mark.parametrize("bad", [12345, True, ["Seattle"], {"name": "Seattle"}])
def test_wrong_member_type_is_rejected(server, bad):
    bc = billing(server)
    bc.set_contact_address(**SEED_CONTACT_ADDRESS)
    raw = billing(server, config=no_retry_config(parameter_validation=False))
    with pytest.raises(ClientError) as ei:
        raw.set_contact_address(**seed_with(city=bad))
    code, status, _ = client_error(ei.value)
    assert code in {"SerializationException", "ValidationException"} and status == 400, (code, status)
    assert dicts_containing(bc.get_addresses(), SEED_CONTACT_ADDRESS)
    assert_alive(server)


def test_unknown_operation(server):
    creds = server.credentials
    for service, target in [
        ("cloudtrail", CLOUDTRAIL_TARGET + ".NoSuchOperation"),
        ("billingconsole", target_prefix("billingconsole") + ".NoSuchOperation"),
        ("cloudtrail", "com.example.Nothing_20990101.GetNothing"),
    ]:
        r = signed_call(server.endpoint, creds, service, None, b"{}", target=target)
        assert r.error_code == "UnknownOperationException", (target, r)
        assert 400 <= r.status < 500 and r.request_id, r
    assert_alive(server)


@pytest.mark.parametrize("body", [b"{", b"not json", b'{"MaxResults": 5,}', b'{"LookupAttributes": [', b"\xff\xfe{}"])
def test_malformed_json_is_a_serialization_error(server, body):
    r = signed_call(server.endpoint, server.credentials, "cloudtrail", "LookupEvents", body)
    assert r.status == 400 and r.error_code == "SerializationException", r
    assert r.request_id
    r = signed_call(server.endpoint, server.credentials, "billingconsole", "SetContactAddress", body)
    assert r.status == 400 and r.error_code == "SerializationException", r
    assert_alive(server)


def test_wrong_secret_is_rejected(server):
    out = server.aws(
        "billingconsole", "get-addresses",
        env={"AWS_ACCESS_KEY_ID": server.access_key, "AWS_SECRET_ACCESS_KEY": "wrongwrongwrongwrongwrongwrongwrong00000"},
    )
    assert out.returncode != 0 and cli_error_code(out.stderr) in AUTH_BAD_SIGNATURE, out.stderr
    bad = Credentials(server.access_key, "x" * 40)
    r = signed_call(server.endpoint, bad, "cloudtrail", "LookupEvents", {})
    assert r.error_code in AUTH_BAD_SIGNATURE and 400 <= r.status < 500 and r.request_id, r
    assert_alive(server)


def test_unknown_access_key_is_rejected(server):
    out = server.aws("billingconsole", "get-addresses", env={"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "x"})
    assert out.returncode != 0 and cli_error_code(out.stderr) in AUTH_UNKNOWN_KEY, out.stderr
    r = signed_call(server.endpoint, Credentials("AKIA" + uuid.uuid4().hex[:16].upper(), "y" * 40), "cloudtrail", "LookupEvents", {})
    assert r.error_code in AUTH_UNKNOWN_KEY and 400 <= r.status < 500 and r.request_id, r
    assert_alive(server)


def test_tampered_body_after_signing_is_rejected(server):
    body = json.dumps({"MaxResults": 5}).encode()
    headers = signed_headers(server.endpoint, server.credentials, "cloudtrail", CLOUDTRAIL_TARGET + ".LookupEvents", body)
    r = send(server.endpoint, headers, json.dumps({"MaxResults": 6}).encode())
    assert r.error_code in AUTH_BAD_SIGNATURE and 400 <= r.status < 500, r
    assert_alive(server)


@pytest.mark.parametrize("minutes", [-16, 16])
def test_clock_skew_beyond_15_minutes_is_rejected(server, minutes):
    now = dt.datetime.now(dt.timezone.utc)
    ok = signed_call(server.endpoint, server.credentials, "cloudtrail", "LookupEvents", {}, when=now + dt.timedelta(minutes=-14 if minutes < 0 else 14))
    assert ok.status == 200, f"a request {'14 min old' if minutes < 0 else '14 min ahead'} must pass: {ok}"
    r = signed_call(server.endpoint, server.credentials, "cloudtrail", "LookupEvents", {}, when=now + dt.timedelta(minutes=minutes))
    assert 400 <= r.status < 500 and r.request_id, r
    msg = r.body.decode(errors="replace").lower()
    # AWS words it "Signature expired: ..." for a past date, "Signature not yet current: ..." for a future one.
    said = "expired" in (r.error_code or "").lower() or any(w in msg for w in ("expired", "not yet current", "skew"))
    assert r.error_code in AUTH_EXPIRED and said, r
    assert_alive(server)


def test_missing_authorization(server):
    r = signed_call(server.endpoint, None, "cloudtrail", "LookupEvents", {})
    assert r.error_code in AUTH_MISSING and 400 <= r.status < 500 and r.request_id, r
    r = signed_call(server.endpoint, None, "billingconsole", "GetAddresses", {})
    assert r.error_code in AUTH_MISSING and 400 <= r.status < 500, r
    assert_alive(server)


def _fuzz_cases(rng: random.Random, n: int):
    """(service, operation, body, kind): bodies that are each certainly invalid."""
    contact_shape = service_model("billingconsole").operation_model("SetContactAddress").input_shape
    required = list(contact_shape.required_members)
    bounded = [m for m, s in contact_shape.members.items() if s.type_name == "string" and "max" in s.metadata]
    seed = json.dumps(SEED_CONTACT_ADDRESS).encode()
    lookup = json.dumps({"LookupAttributes": [attr("EventName", "SetContactAddress")], "MaxResults": 5, "StartTime": 1700000000}).encode()
    wrong = [12345, True, ["x"], {"a": "b"}]
    lookup_wrong = {
        "MaxResults": ["ten", [5], {"n": 5}, True],
        "LookupAttributes": ["EventName", {"AttributeKey": "EventName"}, [1, 2], [{"AttributeKey": 5, "AttributeValue": "x"}]],
        "StartTime": ["yesterday", [1], {"t": 1}, True],
        "NextToken": [12345, ["t"], {"t": 1}, True],
    }
    kinds = ["random_bytes", "truncated", "wrong_type", "huge_string", "bad_utf8", "deep_nesting", "non_object", "missing_required"]
    for i in range(n):
        contact = i % 2 == 0
        kind = rng.choice(kinds if contact else kinds[:-1])
        svc, op = ("billingconsole", "SetContactAddress") if contact else ("cloudtrail", "LookupEvents")
        if kind == "random_bytes":
            while True:
                body = rng.randbytes(rng.randint(1, 2048))
                try:
                    if not isinstance(json.loads(body), dict):
                        break
                except ValueError:
                    break
        elif kind == "truncated":
            src = seed if contact else lookup
            body = src[: rng.randint(1, len(src) - 1)]
        elif kind == "wrong_type":
            if contact:
                body = json.dumps(seed_with(**{rng.choice(sorted(SEED_CONTACT_ADDRESS)): rng.choice(wrong)})).encode()
            else:
                d = json.loads(lookup)
                k = rng.choice(sorted(lookup_wrong))
                d[k] = rng.choice(lookup_wrong[k])
                body = json.dumps(d).encode()
        elif kind == "huge_string":
            if contact and bounded:
                m = rng.choice(bounded)
                mx = int(contact_shape.members[m].metadata["max"])
                body = json.dumps(seed_with(**{m: "A" * rng.randint(mx + 1, mx + 100_000)})).encode()
            else:
                svc, op = "cloudtrail", "LookupEvents"
                body = json.dumps({"LookupAttributes": [attr("EventName", "A" * rng.randint(2001, 100_000))]}).encode()
        elif kind == "bad_utf8":
            junk = bytes(rng.choice([0xFF, 0xFE, 0xC3, 0x80, 0xED, 0xA0]) for _ in range(rng.randint(1, 8)))
            field = b"city" if contact else b"NextToken"
            body = b'{"' + field + b'": "' + junk + b'"}'
        elif kind == "deep_nesting":
            depth = rng.randint(200, 50_000)
            inner = b"[" * depth + b"]" * depth
            body = (b'{"city": ' if contact else b'{"LookupAttributes": ') + inner + b"}"
        elif kind == "non_object" or not required:
            body = rng.choice([b"[]", b'"text"', b"123", b"true", b"[{}]"])
        else:  # missing_required (contact only)
            d = dict(SEED_CONTACT_ADDRESS)
            for m in rng.sample(required, rng.randint(1, len(required))):
                d.pop(m, None)
            body = json.dumps(d).encode()
        yield svc, op, body, kind


def test_10000_malformed_bodies_get_4xx_and_never_kill_the_server(server):
    seed = int(os.environ.get("BILLTRAIL_FUZZ_SEED", random.randrange(1 << 30)))
    total = int(os.environ.get("BILLTRAIL_FUZZ_COUNT", "10000"))
    cases = list(_fuzz_cases(random.Random(seed), total))
    creds = server.credentials
    targets = {"billingconsole": target_prefix("billingconsole"), "cloudtrail": CLOUDTRAIL_TARGET}
    names = {"billingconsole": signing_name("billingconsole"), "cloudtrail": "cloudtrail"}
    bad, dropped = [], []
    lock = threading.Lock()

    def run(part):
        client = KeepAliveClient(server.endpoint)
        try:
            for svc, op, body, kind in part:
                h = signed_headers(server.endpoint, creds, names[svc], f"{targets[svc]}.{op}", body)
                try:
                    r = client.request(h, body)
                except DroppedConnection as e:
                    with lock:
                        dropped.append((kind, op, str(e), body[:80]))
                    if not server.alive():
                        return
                    continue
                if not (400 <= r.status < 500) or not r.error_code:
                    with lock:
                        bad.append((kind, op, r.status, r.body[:200], body[:80]))
        finally:
            client.close()

    workers = 4
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, [cases[i::workers] for i in range(workers)]))
    ctx = f"(BILLTRAIL_FUZZ_SEED={seed})"
    assert server.alive(), f"the server died {ctx}\n{server.log_tail()}"
    assert not dropped, f"{len(dropped)} dropped connections {ctx}: {dropped[:5]}"
    assert not bad, f"{len(bad)} bodies without a 4xx AWS error {ctx}: {bad[:5]}"
    assert_alive(server)
    assert "panicked" not in server.log_text(), f"a panic was logged {ctx}\n{server.log_tail()}"
    billing(server).get_addresses()


def test_3mb_body_is_refused_without_harm(server):
    body = b'{"city": "' + b"A" * (3 * 1024 * 1024) + b'"}'
    target = f"{target_prefix('billingconsole')}.SetContactAddress"
    headers = signed_headers(server.endpoint, server.credentials, signing_name("billingconsole"), target, body)
    r = post_large(server.endpoint, headers, body)
    assert r is not None, "no response to a 3 MB body"
    assert 400 <= r.status < 500, r
    junk = os.urandom(3 * 1024 * 1024)
    r = post_large(server.endpoint, {"Content-Type": JSON_11, "X-Amz-Target": CLOUDTRAIL_TARGET + ".LookupEvents", "Host": server.endpoint.split("//")[1]}, junk)
    assert r is None or 400 <= r.status < 500, r
    assert_alive(server)
    billing(server).get_addresses()


# ---------------------------------------------------------------------------------
# durability


def test_kill9_loses_no_acknowledged_call(server):
    n_max, kill_after, workers = 2000, 100, 16
    clients = [billing(server, config=no_retry_config(connect_timeout=2, read_timeout=30)) for _ in range(workers)]
    counter = itertools.count()
    lock = threading.Lock()
    acked: list[str] = []
    attempted: set[str] = set()
    enough, stop = threading.Event(), threading.Event()

    def worker(bc):
        while not stop.is_set():
            i = next(counter)
            if i >= n_max:
                return
            city = f"Durable-{i:05d}"
            with lock:
                attempted.add(city)
            try:
                resp = bc.set_contact_address(**seed_with(city=city))
            except Exception:
                continue
            if resp["ResponseMetadata"]["HTTPStatusCode"] == 200:
                with lock:
                    acked.append(city)
                    if len(acked) >= kill_after:
                        enough.set()

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in clients]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120
    while not enough.wait(0.1) and time.monotonic() < deadline:
        if not any(t.is_alive() for t in threads):
            break
    acked_at_kill = len(acked)
    server.kill9()
    stop.set()
    for t in threads:
        t.join(60)
    assert acked_at_kill >= kill_after, f"only {acked_at_kill} calls acknowledged before the kill"
    unacked = attempted - set(acked)
    assert unacked, "the kill did not land while calls were in flight"

    server.start()
    events = server.lookup_all([attr("EventName", "SetContactAddress")])
    recs = [record_of(e) for e in events]
    ok = [r for r in recs if "errorCode" not in r]
    cities = Counter(r["requestParameters"]["city"] for r in ok)
    missing = [c for c in acked if cities[c] != 1]
    assert not missing, f"{len(missing)} acknowledged calls lost or duplicated, e.g. {missing[:5]}"
    dup = [c for c, k in cities.items() if k > 1]
    assert not dup, f"calls recorded twice: {dup[:5]}"
    phantom = set(cities) - attempted
    assert not phantom, f"records of calls never made: {list(phantom)[:5]}"
    got = billing(server).get_addresses()
    rest = {k: v for k, v in SEED_CONTACT_ADDRESS.items() if k != "city"}
    final = [d for d in dicts_containing(got, rest) if any(k.lower() == "city" for k in d)]
    assert final, f"get-addresses has no contact address: {got}"
    final_city = next(v for k, v in final[0].items() if k.lower() == "city")
    assert final_city in cities, f"the address {final_city} has no record: a state change without its record"
    times = {r["requestParameters"]["city"]: parse_event_time(r["eventTime"]).timestamp() for r in ok}
    newest_acked = max(times[c] for c in acked)
    assert times[final_city] >= newest_acked - 1, "the final address is older than an acknowledged one"


# ---------------------------------------------------------------------------------
# billtrail events lookup / download


def test_events_cli_lookup_and_download(server, tmp_path):
    bc = billing(server)
    bc.set_contact_address(**seed_with(city=random_city()))
    bc.set_contact_address(**seed_with(city=random_city()))
    bc.get_addresses()
    want = ids(server.lookup_all([attr("EventName", "SetContactAddress")]))
    assert len(want) == 2
    everything = ids(non_lookup(server.lookup_all()))

    fargs = ["--attribute", "EventName=SetContactAddress"]
    dd = ["--data-dir", str(server.data_dir)]

    table = server.billtrail("events", "lookup", *dd, *fargs)
    assert table.returncode == 0, table.stderr
    rows = [ln for ln in table.stdout.splitlines() if "SetContactAddress" in ln]
    assert len(rows) == 2, f"table output:\n{table.stdout}"
    assert "GetAddresses" not in table.stdout

    js = server.billtrail("events", "lookup", *dd, *fargs, "--output", "json")
    assert js.returncode == 0, js.stderr
    assert set(event_ids_in(json.loads(js.stdout))) == set(want), js.stdout

    js_all = server.billtrail("events", "lookup", *dd, "--output", "json")
    assert js_all.returncode == 0, js_all.stderr
    assert set(everything) <= set(event_ids_in(json.loads(js_all.stdout)))

    csv_path = tmp_path / "events.csv"
    d = server.billtrail("events", "download", *dd, *fargs, "--format", "csv", "--output", str(csv_path))
    assert d.returncode == 0, d.stderr
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    assert len(rows) == 2, csv_path.read_text()
    id_cols = [c for c in rows[0] if re.fullmatch(r"(?i)event[ _-]?id", c.strip())]
    assert id_cols, f"no event id column in {list(rows[0])}"
    assert [r[id_cols[0]] for r in rows] == want or {r[id_cols[0]] for r in rows} == set(want)
    name_cols = [c for c in rows[0] if re.fullmatch(r"(?i)event[ _-]?name", c.strip())]
    assert name_cols and all(r[name_cols[0]] == "SetContactAddress" for r in rows)

    json_path = tmp_path / "events.json"
    d = server.billtrail("events", "download", *dd, *fargs, "--format", "json", "--output", str(json_path))
    assert d.returncode == 0, d.stderr
    assert set(event_ids_in(json.loads(json_path.read_text()))) == set(want)


# ---------------------------------------------------------------------------------
# TLS


def _self_signed(tmp: Path) -> tuple[str, str]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True, timeout=60,
    )
    return str(cert), str(key)


@pytest.mark.parametrize("how", ["config", "env"])
def test_tls_serving_and_tls_details(server_factory, tmp_path, how):
    cert, key = _self_signed(tmp_path)
    srv = server_factory(start=False)
    srv.scheme, srv.ca_file = "https", cert
    if how == "config":
        cfg = tmp_path / "billtrail.toml"
        cfg.write_text(f'[server]\ntls_cert = "{cert}"\ntls_key = "{key}"\n')
        srv.extra_args = ["--config", str(cfg)]
    else:
        srv.extra_env = {"BILLTRAIL_SERVER_TLS_CERT": cert, "BILLTRAIL_SERVER_TLS_KEY": key}
    srv.start()
    out = srv.aws_json("billingconsole", "get-addresses")
    assert isinstance(out, dict)
    billing(srv).get_supported_country_codes()
    events = srv.lookup_all([attr("EventSource", BILLING_SOURCE)])
    assert len(events) == 2
    for e in events:
        r = record_of(e)
        assert_record_key_order(r)
        tls = r.get("tlsDetails")
        assert isinstance(tls, dict), "no tlsDetails on a call over TLS"
        assert tls.get("tlsVersion") in ("TLSv1.2", "TLSv1.3"), tls
        assert tls.get("cipherSuite"), tls
        assert tls.get("clientProvidedHostHeader") == f"127.0.0.1:{srv.port}", tls
