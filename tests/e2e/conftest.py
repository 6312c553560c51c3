"""Fixtures that run the real `billtrail` binary.

`BilltrailServer` starts `billtrail serve --data-dir D --listen 127.0.0.1:P`, waits for
`GET /health` == 200, runs `billtrail env --data-dir D` and turns its `export` lines into
an environment for the real AWS CLI and a boto3 Session on profile `billtrail`. It can be
stopped, killed with SIGKILL and restarted on the same data dir and port.

BILLTRAIL_BIN names the binary (scripts/test sets it); without it, the debug binary of
the workspace's target dir is used.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import boto3
import botocore.session
import pytest
from botocore.config import Config

from helpers import MODELS, REPO, free_port, http_get, parse_env_exports

# The suite must not pick up the developer's own AWS settings.
for _k in list(os.environ):
    if _k.startswith("AWS_"):
        del os.environ[_k]
os.environ["AWS_DATA_PATH"] = str(MODELS)
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

START_TIMEOUT = float(os.environ.get("BILLTRAIL_E2E_START_TIMEOUT", "60"))


def _default_bin() -> Path:
    target = os.environ.get("CARGO_TARGET_DIR")
    base = Path(target) if target else REPO / "target"
    return base / "debug" / "billtrail"


BIN = Path(os.environ.get("BILLTRAIL_BIN") or _default_bin())


def _aws_cli() -> str:
    beside = Path(sys.executable).parent / "aws"
    if beside.exists():
        return str(beside)
    found = shutil.which("aws")
    if not found:
        pytest.fail("the AWS CLI (`aws`) is not installed; run scripts/test", pytrace=False)
    return found


AWS = None  # resolved lazily so that collection works without the CLI


def no_retry_config(**kw: Any) -> Config:
    """boto3 config with exactly one attempt per call (record counts must be exact)."""
    base = dict(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=60)
    base.update(kw)
    return Config(**base)


class BilltrailServer:
    def __init__(self, data_dir: Path, log_path: Path, port: int | None = None, extra_env: dict | None = None):
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_path)
        self.port = port or free_port()
        self.extra_env = dict(extra_env or {})
        self.proc: subprocess.Popen | None = None
        self.env: dict[str, str] = {}
        self.scheme = "http"
        self.extra_args: list[str] = []
        self.use_flags = True  # False: pass --data-dir/--listen through BILLTRAIL_* env instead
        self.ca_file: str | None = None  # set with scheme "https"
        self.tty = False  # True: the server's stdout is a terminal (see terminal_path)
        self.terminal_path = self.log_path.with_name("terminal.log")
        self._session: boto3.Session | None = None

    # -- lifecycle ---------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def serve_argv(self) -> list[str]:
        if not self.use_flags:
            return [str(BIN), "serve", *self.extra_args]
        return [str(BIN), "serve", "--data-dir", str(self.data_dir), "--listen", f"127.0.0.1:{self.port}", *self.extra_args]

    def start(self) -> "BilltrailServer":
        if not BIN.exists():
            pytest.fail(f"billtrail binary not found at {BIN} (build it, or set BILLTRAIL_BIN)", pytrace=False)
        assert self.proc is None or self.proc.poll() is not None, "server already running"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        log.write(f"\n=== start {time.strftime('%H:%M:%S')} {' '.join(self.serve_argv())}\n".encode())
        log.flush()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.startswith("BILLTRAIL_")}
        env.setdefault("RUST_BACKTRACE", "1")
        env.update(self.extra_env)
        if not self.use_flags:
            env["BILLTRAIL_DATA_DIR"] = str(self.data_dir)
            env["BILLTRAIL_LISTEN"] = f"127.0.0.1:{self.port}"
        if self.tty:
            # stdout on a terminal, as a person starting the server sees it; the log (stderr)
            # stays a file. The terminal's text goes to terminal.log beside the server log.
            master, slave = pty.openpty()
            self.proc = subprocess.Popen(
                self.serve_argv(), stdout=slave, stderr=log, stdin=subprocess.DEVNULL, env=env, cwd=self.log_path.parent
            )
            os.close(slave)
            threading.Thread(target=_copy_pty, args=(master, self.terminal_path), daemon=True).start()
        else:
            self.proc = subprocess.Popen(
                self.serve_argv(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=self.log_path.parent
            )
        log.close()
        self.wait_healthy()
        self.load_env()
        return self

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"billtrail serve exited with {self.proc.returncode} before it was ready\n{self.log_tail()}", pytrace=False)
            try:
                r = self.health()
                if r == 200:
                    return
                last = f"HTTP {r}"
            except OSError as e:
                last = repr(e)
            time.sleep(0.05)
        pytest.fail(f"no 200 from GET /health within {timeout}s (last: {last})\n{self.log_tail()}", pytrace=False)

    def health(self) -> int:
        if self.scheme == "https":
            import ssl
            import http.client

            ctx = ssl.create_default_context(cafile=self.ca_file)
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=2, context=ctx)
            try:
                conn.request("GET", "/health")
                return conn.getresponse().status
            finally:
                conn.close()
        return http_get(self.endpoint, "/health", timeout=2).status

    def load_env(self) -> None:
        out = subprocess.run(
            [str(BIN), "env", "--data-dir", str(self.data_dir)], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
        )
        assert out.returncode == 0, f"billtrail env failed ({out.returncode}): {out.stderr}"
        exported = parse_env_exports(out.stdout)
        for k in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE"):
            assert k in exported, f"`billtrail env` did not export {k}:\n{out.stdout}"
        self.exported = exported
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(exported)
        env["AWS_DATA_PATH"] = str(MODELS)
        env["AWS_EC2_METADATA_DISABLED"] = "true"
        env["AWS_MAX_ATTEMPTS"] = "1"
        env["AWS_RETRY_MODE"] = "standard"
        env["AWS_PAGER"] = ""
        if self.ca_file:
            env["AWS_CA_BUNDLE"] = self.ca_file
        self.env = env
        self._session = None

    def stop(self, timeout: float = 10) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def restart(self) -> "BilltrailServer":
        self.stop()
        return self.start()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, n: int = 40) -> str:
        lines = self.log_text().splitlines()
        return "--- server log (tail) ---\n" + "\n".join(lines[-n:])

    # -- clients -----------------------------------------------------------------

    @property
    def session(self) -> boto3.Session:
        if self._session is None:
            bs = botocore.session.Session()
            bs.set_config_variable("config_file", self.env["AWS_CONFIG_FILE"])
            bs.set_config_variable("credentials_file", self.env["AWS_SHARED_CREDENTIALS_FILE"])
            bs.set_config_variable("data_path", str(MODELS))
            self._session = boto3.Session(botocore_session=bs, profile_name=self.env["AWS_PROFILE"])
        return self._session

    def client(self, service: str, config: Config | None = None, **kw: Any):
        if self.ca_file:
            kw.setdefault("verify", self.ca_file)
        return self.session.client(service, config=config or no_retry_config(), **kw)

    @property
    def credentials(self):
        return self.session.get_credentials().get_frozen_credentials()

    @property
    def access_key(self) -> str:
        return self.credentials.access_key

    def aws(self, *args: str, env: dict | None = None, timeout: float = 120, input: str | None = None) -> subprocess.CompletedProcess:
        global AWS
        if AWS is None:
            AWS = _aws_cli()
        e = dict(self.env)
        if env:
            e.update(env)
        return subprocess.run(
            [AWS, *args], capture_output=True, text=True, env=e, timeout=timeout, input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
        )

    def aws_json(self, *args: str, **kw: Any) -> Any:
        out = self.aws(*args, "--output", "json", **kw)
        assert out.returncode == 0, f"aws {' '.join(args)} failed ({out.returncode}):\n{out.stderr}\n{self.log_tail(15)}"
        return json.loads(out.stdout) if out.stdout.strip() else {}

    def billtrail(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.startswith("BILLTRAIL_")}
        return subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL)

    # -- event history -------------------------------------------------------------

    def lookup_all(self, attrs: list[dict] | None = None, region: str | None = None, max_pages: int = 10000, **kw: Any) -> list[dict]:
        """Every event LookupEvents returns for the query, following NextToken."""
        ct = self.client("cloudtrail", region_name=region) if region else self.client("cloudtrail")
        params: dict[str, Any] = dict(kw)
        if attrs:
            params["LookupAttributes"] = attrs
        events: list[dict] = []
        for _ in range(max_pages):
            out = ct.lookup_events(**params)
            events.extend(out.get("Events", []))
            tok = out.get("NextToken")
            if not tok:
                return events
            params["NextToken"] = tok
        raise AssertionError(f"LookupEvents still returned a NextToken after {max_pages} pages")


def _copy_pty(master: int, path: Path) -> None:
    with open(path, "ab") as out:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            out.write(data)
            out.flush()
    os.close(master)


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator:
    """Make servers on fresh data dirs: `server_factory(start=True, **BilltrailServer kwargs)`."""
    made: list[BilltrailServer] = []

    def make(start: bool = True, name: str | None = None, **kw: Any) -> BilltrailServer:
        base = tmp_path / (name or f"srv{len(made)}")
        srv = BilltrailServer(base / "data", base / "serve.log", **kw)
        made.append(srv)
        if start:
            srv.start()
        return srv

    yield make
    for srv in made:
        with contextlib.suppress(Exception):
            srv.stop()


@pytest.fixture
def server(server_factory) -> BilltrailServer:
    """A running server on a fresh data dir."""
    return server_factory()


@contextlib.contextmanager
def running_server(base: Path, **kw: Any) -> Iterator[BilltrailServer]:
    srv = BilltrailServer(base / "data", base / "serve.log", **kw)
    try:
        yield srv.start()
    finally:
        srv.stop()
