"""The guarded outbound client: URLs checked at registration and again at connect time,
no redirects, the token only to the registered origin, and no remote text echoed."""

import ipaddress
import json
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import running
from tests.runs.conftest import Shape, settings_for, shape_env, submit, wait_for, worker_process
from tzzr.config import Settings
from tzzr.errors import ConfigError, InvalidInput
from tzzr.outbound import (
    OutboundError,
    OutboundPolicy,
    Refused,
    check_url,
    classify,
    resolve,
    send,
)

SECRET = "SECRET-7f3a-never-echo-me"
PUBLIC_V4 = "93.184.215.14"
TIMEOUT = httpx.Timeout(5.0)
STRICT = OutboundPolicy()

REFUSED_ADDRESSES = [
    ("127.0.0.1", "loopback"),
    ("127.255.0.9", "loopback"),
    ("::1", "loopback"),
    ("10.0.0.5", "private"),
    ("172.16.3.4", "private"),
    ("192.168.1.1", "private"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("169.254.10.1", "link-local"),
    ("fe80::1", "link-local"),
    ("169.254.169.254", "a cloud metadata address"),
    ("fd00:ec2::254", "a cloud metadata address"),
    ("100.100.100.200", "a cloud metadata address"),
    ("100.64.0.1", "shared (CGNAT)"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("255.255.255.255", "broadcast"),
    ("240.0.0.1", "reserved"),
    ("192.0.2.7", "private"),  # TEST-NET-1: Python files documentation ranges as private
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:10.1.2.3", "private"),
    ("::ffff:169.254.169.254", "a cloud metadata address"),
    ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
]
PUBLIC_ADDRESSES = [PUBLIC_V4, "1.1.1.1", "2606:4700:4700::1111", "::ffff:1.1.1.1"]


@pytest.mark.parametrize(("address", "why"), REFUSED_ADDRESSES)
def test_every_non_public_class_is_named(address: str, why: str) -> None:
    assert classify(ipaddress.ip_address(address)) == why


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_public_addresses_pass(address: str) -> None:
    assert classify(ipaddress.ip_address(address)) is None


def literal(address: str) -> str:
    return f"[{address}]" if ":" in address else address


@pytest.mark.parametrize(("address", "why"), REFUSED_ADDRESSES)
def test_registration_refuses_every_non_public_literal(address: str, why: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_url(f"https://{literal(address)}:8443/gpu", STRICT)
    assert refused.value.field == "microserviceUrl"
    assert why in refused.value.message and "TZZR_REMOTE_ALLOW_HOSTS" in refused.value.message


@pytest.mark.parametrize(
    "host", ["localhost", socket.gethostname(), "2130706433", "0x7f.1", "127.1", "LocalHost"]
)
def test_names_that_resolve_to_loopback_are_refused(host: str) -> None:
    # Real resolutions on this machine (/etc/hosts and inet_aton's number forms), no mock.
    with pytest.raises(InvalidInput, match="loopback") as refused:
        check_url(f"https://{host}/", STRICT)
    assert refused.value.field == "microserviceUrl"


def test_a_name_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(InvalidInput, match="does not resolve: check the name"):
        check_url("https://grace.invalid/", STRICT)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (f"http://{PUBLIC_V4}/", "must use https"),
        ("http://localhost:9999/", "must use https"),
        (f"https://user@{PUBLIC_V4}/", "user or password"),
        (f"https://user:pw@{PUBLIC_V4}/", "user or password"),
        (f"https://@{PUBLIC_V4}/", "user or password"),
        (f"https://{PUBLIC_V4}/run?x=1", "query or fragment"),
        (f"https://{PUBLIC_V4}/run?", "query or fragment"),
        (f"https://{PUBLIC_V4}/run#", "query or fragment"),
        ("http://127.0.0.1:9999/anything?#", "query or fragment"),
        (f"https://{PUBLIC_V4}\\@127.0.0.1/", "backslashes"),
        (f"https://{PUBLIC_V4} /", "spaces"),
        (f"ftp://{PUBLIC_V4}/", "https://host"),
        ("grace.lan:8080", "https://host"),
        ("https:///nohost", "not a URL"),
        (f"https://{PUBLIC_V4}:0/", "port"),
        (f"https://{PUBLIC_V4}/a%3Fb", "path"),
    ],
)
def test_malformed_or_plain_http_urls_are_refused(url: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says) as refused:
        check_url(url, STRICT)
    assert refused.value.field == "microserviceUrl"


def test_a_public_https_url_is_accepted_and_normalised() -> None:
    assert check_url(f"HTTPS://{PUBLIC_V4}:443/gpu/", STRICT) == f"https://{PUBLIC_V4}/gpu"
    assert check_url("https://[2606:4700:4700::1111]:8443", STRICT) == (
        "https://[2606:4700:4700::1111]:8443"
    )


def test_listed_hosts_may_use_http_and_private_addresses() -> None:
    policy = OutboundPolicy.of(["127.0.0.1:8765", "localhost", "[::1]:9000", "169.254.169.254"])
    assert check_url("http://127.0.0.1:8765/", policy) == "http://127.0.0.1:8765"
    assert check_url("http://localhost:1234/x", policy) == "http://localhost:1234/x"
    with pytest.raises(InvalidInput, match=re.escape("127.0.0.1:8766 is not listed")):
        check_url("http://127.0.0.1:8766/", policy)  # the port is part of the entry
    with pytest.raises(InvalidInput, match="loopback"):
        check_url("https://127.0.0.1:8766/", policy)
    with pytest.raises(InvalidInput, match="metadata"):  # never, even when listed
        check_url("http://169.254.169.254/", policy)


@pytest.mark.parametrize("entry", ["a:b", "host:0", "host:70000", "[::1]x", "bad host", ""])
def test_a_bad_list_entry_stops_start_up(entry: str) -> None:
    with pytest.raises(ConfigError, match="TZZR_REMOTE_ALLOW_HOSTS"):
        OutboundPolicy.of([entry])


def test_the_setting_takes_json_or_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZZR_REMOTE_ALLOW_HOSTS", "grace.lan:8080, 127.0.0.1:8765")
    assert Settings().remote_allow_hosts == ["grace.lan:8080", "127.0.0.1:8765"]
    monkeypatch.setenv("TZZR_REMOTE_ALLOW_HOSTS", '["[::1]:8765"]')
    policy = OutboundPolicy.from_settings(Settings())
    assert policy.listed("::1", 8765) and not policy.listed("::1", 8766)


class Recorder(BaseHTTPRequestHandler):
    """A remote that records what reached it and answers by the first path segment."""

    server: "RecordingServer"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.server.seen.append((self.path, self.headers.get("authorization")))
        mode = self.path.split("/")[1]
        secret_error = {"code": "bad_input", "message": SECRET, "field": SECRET}
        answers: dict[str, tuple[int, str, bytes]] = {
            "s500": (500, "text/plain", SECRET.encode()),
            "s503json": (503, "application/json", json.dumps({"error": SECRET}).encode()),
            "s400json": (400, "application/json", json.dumps({"error": secret_error}).encode()),
            "s400code": (
                400,
                "application/json",
                json.dumps({"error": {"code": f"x {SECRET}", "message": SECRET}}).encode(),
            ),
            "s401text": (401, "text/html", f"<h1>{SECRET}</h1>".encode()),
            "s200text": (200, "text/html", f"<h1>{SECRET}</h1>".encode()),
            "failed": (
                200,
                "application/json",
                json.dumps(
                    {
                        "status": "FAILED",
                        "error": SECRET,
                        "output": {
                            "status": "error",
                            "error": {"code": "cell_failed", "m": SECRET},
                        },
                    }
                ).encode(),
            ),
            "artifact": (
                200,
                "application/json",
                json.dumps(
                    {"status": "COMPLETED", "output": {"result": {"artifacts": {SECRET: {}}}}}
                ).encode(),
            ),
            "healthy": (
                200,
                "application/json",
                json.dumps({"status": "ok", "modules": [SECRET]}).encode(),
            ),
        }
        if mode == "redirect":
            self.send_response(302)
            self.send_header("Location", self.server.redirect_to)
            self.send_header("Content-Length", str(len(SECRET)))
            self.end_headers()
            self.wfile.write(SECRET.encode())
            return
        status, media, body = answers.get(mode, answers["healthy"])
        self.send_response(status)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class RecordingServer(ThreadingHTTPServer):
    seen: list[tuple[str, str | None]]
    redirect_to: str = ""

    @property
    def port(self) -> int:
        return int(self.server_address[1])


@pytest.fixture
def remote() -> Iterator[RecordingServer]:
    yield from _serve()


@pytest.fixture
def elsewhere() -> Iterator[RecordingServer]:
    yield from _serve()


def _serve() -> Iterator[RecordingServer]:
    server = RecordingServer(("127.0.0.1", 0), Recorder)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_listed_http_host_is_reached_at_its_path_with_the_token(
    remote: RecordingServer,
) -> None:
    policy = OutboundPolicy.of([f"127.0.0.1:{remote.port}"])
    url = check_url(f"http://127.0.0.1:{remote.port}/base/", policy)
    answer = send(
        url, policy, "GET", "/grace/health", timeout=TIMEOUT, headers={"Authorization": "Bearer t"}
    )
    assert answer.status == 200
    assert remote.seen == [("/base/grace/health", "Bearer t")]


def test_a_redirect_is_refused_and_not_followed(
    remote: RecordingServer, elsewhere: RecordingServer
) -> None:
    policy = OutboundPolicy.of(["127.0.0.1"])
    remote.redirect_to = f"http://127.0.0.1:{elsewhere.port}/healthy/grace/health"
    with pytest.raises(Refused, match="redirect refused"):
        send(
            f"http://127.0.0.1:{remote.port}/redirect",
            policy,
            "GET",
            "/grace/health",
            timeout=TIMEOUT,
            headers={"Authorization": "Bearer t"},
        )
    assert len(remote.seen) == 1 and elsewhere.seen == []


def test_a_url_registered_before_the_rules_is_refused_at_request_time(
    remote: RecordingServer,
) -> None:
    # A row written before this check existed (or by hand) still cannot reach loopback.
    with pytest.raises(Refused, match="must use https"):
        send(f"http://127.0.0.1:{remote.port}/", STRICT, "GET", "/x", timeout=TIMEOUT)
    with pytest.raises(Refused, match=re.escape("address refused: 127.0.0.1 is loopback")):
        send(f"https://127.0.0.1:{remote.port}/", STRICT, "GET", "/x", timeout=TIMEOUT)
    assert remote.seen == []


class Resolver:
    """socket.getaddrinfo with some names answered by the test, as a DNS server that
    changes its answers would (rebinding); every other name goes to the real resolver."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.names: dict[str, list[str]] = {}
        self.real = socket.getaddrinfo
        monkeypatch.setattr(socket, "getaddrinfo", self)

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in self.names:
            return self.real(host, port, *args, **kwargs)
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, int(port)),
            )
            for a in self.names[host]
        ]


def test_a_name_that_turns_private_after_registration_is_refused_at_connect(
    remote: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    dns = Resolver(monkeypatch)
    dns.names["grace.example"] = [PUBLIC_V4]
    url = check_url(f"https://grace.example:{remote.port}/", STRICT)
    dns.names["grace.example"] = ["127.0.0.1"]
    with pytest.raises(Refused, match=re.escape("address refused: 127.0.0.1 is loopback")):
        send(url, STRICT, "GET", "/grace/health", timeout=TIMEOUT)
    dns.names["grace.example"] = [PUBLIC_V4, "10.0.0.8"]  # one bad answer spoils the set
    with pytest.raises(Refused, match=re.escape("10.0.0.8 is private")):
        send(url, STRICT, "GET", "/grace/health", timeout=TIMEOUT)
    assert remote.seen == []


def test_the_connection_goes_to_the_checked_address(
    remote: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # grace.test exists only in this resolver: reaching the server proves the client
    # connected to the address it checked, and sent the name as Host.
    dns = Resolver(monkeypatch)
    dns.names["grace.test"] = ["127.0.0.1"]
    policy = OutboundPolicy.of([f"grace.test:{remote.port}"])
    url = check_url(f"http://grace.test:{remote.port}", policy)
    assert send(url, policy, "GET", "/grace/health", timeout=TIMEOUT).status == 200
    assert remote.seen == [("/grace/health", None)]


def test_an_answer_over_the_limit_is_refused(remote: RecordingServer) -> None:
    policy = OutboundPolicy.of(["127.0.0.1"], max_response_bytes=10)
    with pytest.raises(OutboundError, match="answer too large"):
        send(f"http://127.0.0.1:{remote.port}/s500", policy, "GET", "/", timeout=TIMEOUT)


def test_proxies_from_the_environment_are_ignored(
    remote: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://10.9.9.9:3128")
    monkeypatch.setenv("ALL_PROXY", "http://10.9.9.9:3128")
    policy = OutboundPolicy.of(["127.0.0.1"])
    assert send(f"http://127.0.0.1:{remote.port}", policy, "GET", "/", timeout=TIMEOUT).status
    assert len(remote.seen) == 1


# Through the server and a real worker: registration, health, runs and logs.


@pytest.fixture(scope="module")
def hostile() -> Iterator[RecordingServer]:
    yield from _serve()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, hostile: RecordingServer) -> Iterator[Shape]:
    home = tmp_path_factory.mktemp("outbound")
    env = {**shape_env("sqlite", home), "TZZR_REMOTE_ALLOW_HOSTS": f"127.0.0.1:{hostile.port}"}
    with running(settings_for(env)) as live, worker_process(env, home / "worker.log"):
        yield Shape(live, env, "sqlite")


def registration(cell_id: str, url: str) -> dict[str, Any]:
    return {
        "id": cell_id,
        "type": "test",
        "version": "1.0.0",
        "apiEndpoint": f"/api/cells/{cell_id}/run",
        "microserviceUrl": url,
        "module": "TEST_ECHO",
        "accepts": ["bytes"],
        "token": "tok",
    }


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:1/",  # loopback, on a port not listed
        "https://127.0.0.1/",
        "https://localhost/",
        "https://10.0.0.5/",
        "https://[fe80::1]/",
        "https://169.254.169.254/latest/meta-data",
        "https://[::ffff:169.254.169.254]/",
        "https://[fd00:ec2::254]/",
        "https://100.100.100.200/",
        f"http://{PUBLIC_V4}/",
        f"https://u:p@{PUBLIC_V4}/",
        f"https://{PUBLIC_V4}/x?y",
        f"https://{PUBLIC_V4}/x#y",
        "https://grace.invalid/",
    ],
)
def test_the_api_refuses_to_register_a_bad_url(server: Shape, url: str) -> None:
    with server.client() as client:
        refused = client.post("/api/admin/cells", json=registration("bad-url", url))
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["field"] == "microserviceUrl"
        assert client.get("/api/cells/bad-url").status_code == 404


def no_secret(response: httpx.Response) -> dict[str, Any]:
    assert SECRET not in response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    ("mode", "health_reason", "error_says"),
    [
        ("s500", "answered 500", "answered 500"),
        ("s503json", "answered 503", "answered 503"),
        ("s400json", "answered 400", "answered 400, code bad_input"),
        ("s400code", "answered 400", "(answered 400)"),
        ("s401text", "answered 401", "answered 401"),
        ("s200text", "answered 200 with no JSON object", "with no JSON object"),
        ("failed", "answered 200", "it reported a failure, code cell_failed"),
        ("artifact", "answered 200", "malformed artifact"),
        ("redirect", "redirect refused (answered 302)", "redirect refused"),
    ],
)
def test_no_remote_body_is_ever_echoed(
    server: Shape, hostile: RecordingServer, mode: str, health_reason: str, error_says: str
) -> None:
    hostile.redirect_to = f"http://127.0.0.1:{hostile.port}/healthy"
    hostile.seen.clear()
    cell = f"hostile-{mode}"
    with server.client() as client:
        url = f"http://127.0.0.1:{hostile.port}/{mode}"
        created = client.post("/api/admin/cells", json=registration(cell, url))
        assert created.status_code == 201, created.text
        health = no_secret(client.get(f"/api/cells/{cell}/health"))
        assert health["reason"] == health_reason and "detail" not in health
        assert health["status"] == ("ok" if health_reason == "answered 200" else "down")
        run = wait_for(client, submit(client, b"secret?", cell=cell), ("done", "failed"), 30)
        assert SECRET not in json.dumps(run)
        assert run["status"] == "failed" and error_says in run["error"]["message"], run
        logs = no_secret(client.get(f"/api/cells/{cell}/logs"))
        assert logs["logs"] and logs["logs"][0]["error"] == run["error"]
        no_secret(client.get(f"/api/cells/{cell}/metrics"))
        no_secret(client.get(f"/api/runs/{run['runId']}"))
        assert all(path.startswith(f"/{mode}/grace/") for path, _ in hostile.seen)


def test_a_healthy_remote_says_ok_without_its_body(server: Shape, hostile: RecordingServer) -> None:
    with server.client() as client:
        url = f"http://127.0.0.1:{hostile.port}/healthy"
        assert client.post("/api/admin/cells", json=registration("kind", url)).status_code == 201
        health = no_secret(client.get("/api/cells/kind/health"))
    assert health == {
        "cellId": "kind",
        "version": "1.0.0",
        "status": "ok",
        "reason": "answered 200",
    }


def test_the_worker_log_is_clean_too(server: Shape) -> None:
    # Runs after the hostile ones: the worker logs each failed attempt, and even the
    # operator's log has no use for the remote's text.
    log = Path(server.env["TZZR_HOME"]) / "worker.log"
    assert log.exists() and SECRET not in log.read_text()


def test_a_slow_resolver_is_given_up_on(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def stuck(*args: object, **kwargs: object) -> object:
        release.wait(10)  # a resolver that never answers (until the test ends)
        raise OSError("gave up")

    monkeypatch.setattr(socket, "getaddrinfo", stuck)
    try:
        with pytest.raises(Refused, match=r"took over 0\.05 s") as caught:
            resolve("slow.example", 443, timeout=0.05)
        assert caught.value.transient
    finally:
        release.set()
