"""The one guarded way the server makes outbound HTTP requests (remote cells).

A URL is checked when it is registered (`check_url`) and again on every request:
`https`, or `http` to a host the operator lists; no userinfo, query or fragment; and
every address the name resolves to must be public, unless the operator lists the host.
The address check runs a second time when the connection is made (`GuardedBackend`), so
a name that resolved to a public address at registration and to a private one later
(DNS rebinding) is refused. Redirects are never followed and the environment's proxies
are ignored, so a request (and its bearer token) only reaches the registered origin.
"""

import concurrent.futures
import functools
import ipaddress
import json
import re
import socket
import ssl
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from tzzr.config import Settings
from tzzr.errors import ConfigError, InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
FIELD = "microserviceUrl"
SETTING = "TZZR_REMOTE_ALLOW_HOSTS"

METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Never a place for a cell, listed or not: a listed name that starts resolving here is
# an attack, not a configuration.
ALWAYS_REFUSED = ("a cloud metadata address", "unspecified", "multicast", "broadcast")

_LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")


class OutboundError(Exception):
    """A request that did not get an answer; `reason` is short and names no remote text."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Refused(OutboundError):
    """The destination is refused by the policy; `transient` when only the name's
    resolution failed (it may resolve later)."""

    def __init__(self, reason: str, *, transient: bool = False) -> None:
        super().__init__(reason)
        self.transient = transient


def classify(ip: IPAddress) -> str | None:
    """Why `ip` is not a public address (`"private"`, `"loopback"`, …), or None."""
    if isinstance(ip, ipaddress.IPv6Address):
        # A v6 form that carries a v4 address reaches that v4 address.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return classify(embedded)
    if ip in METADATA:
        return "a cloud metadata address"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_multicast:
        return "multicast"
    if ip == ipaddress.IPv4Address("255.255.255.255"):
        return "broadcast"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip in CGNAT:
        return "shared (CGNAT)"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "reserved"
    return None


def _split_entry(entry: str) -> tuple[str, int | None]:
    text = entry.strip().lower().rstrip(".")
    port: str | None = None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(entry)
            port = rest[1:]
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host = text
    host = _host_form(host)
    if port is None:
        return host, None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(entry)
    return host, int(port)


def _host_form(host: str) -> str:
    """The form hosts are compared in: a canonical IP literal, or a lowercase name."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not _HOSTNAME.match(host):
        raise ValueError(host)
    return host


@dataclass(frozen=True)
class OutboundPolicy:
    """Hosts the operator lists (`host` for any port, `host:port` for one) may be
    reached over http and at non-public addresses; all others only over https at
    public addresses. Answers larger than `max_response_bytes` are refused."""

    allow: frozenset[tuple[str, int | None]] = frozenset()
    max_response_bytes: int = 32 * 1024 * 1024

    @classmethod
    def of(
        cls, hosts: Iterable[str], max_response_bytes: int = 32 * 1024 * 1024
    ) -> "OutboundPolicy":
        allow = set()
        for entry in hosts:
            try:
                allow.add(_split_entry(entry))
            except ValueError:
                raise ConfigError(
                    f"{SETTING}: {entry!r} is not a host or host:port "
                    "(e.g. grace.lan, 127.0.0.1:8765, [::1]:8765)"
                ) from None
        return cls(frozenset(allow), max_response_bytes)

    @classmethod
    def from_settings(cls, settings: Settings) -> "OutboundPolicy":
        return cls.of(settings.remote_allow_hosts, settings.max_json_body_bytes)

    def listed(self, host: str, port: int) -> bool:
        return (host, None) in self.allow or (host, port) in self.allow

    def refusal(self, ip: IPAddress, listed: bool) -> str | None:
        """Why a connection to `ip` is refused, or None."""
        why = classify(ip)
        if why is None or (listed and why not in ALWAYS_REFUSED):
            return None
        return f"{ip} is {why}"


@dataclass(frozen=True)
class Target:
    """A checked URL: its origin and path, from which every request URL is built."""

    scheme: str
    host: str
    port: int
    path: str

    @property
    def url(self) -> str:
        return str(self.request_url(""))

    def request_url(self, suffix: str) -> httpx.URL:
        default = 443 if self.scheme == "https" else 80
        return httpx.URL(
            scheme=self.scheme,
            host=self.host,
            port=None if self.port == default else self.port,
            path=self.path + suffix,
        )


def parse_url(url: str, policy: OutboundPolicy) -> Target:
    """Everything `check_url` checks except the name's addresses (no DNS)."""
    if _UNSAFE.search(url):
        raise InvalidInput(
            "the microserviceUrl has spaces, control characters or backslashes: remove them",
            field=FIELD,
        )
    if "?" in url or "#" in url:
        raise InvalidInput(
            "the microserviceUrl may not have a query or fragment ('?', '#'): give only "
            "scheme, host, port and path (requests go to <path>/grace/runsync)",
            field=FIELD,
        )
    try:
        parsed = httpx.URL(url)
        host = _host_form(parsed.raw_host.decode("ascii").rstrip("."))
    except (httpx.InvalidURL, UnicodeError, ValueError):
        raise InvalidInput(
            "the microserviceUrl is not a URL: give https://host[:port][/path]", field=FIELD
        ) from None
    scheme = parsed.scheme
    if scheme not in ("http", "https") or not parsed.raw_host:
        raise InvalidInput("the microserviceUrl must be https://host[:port][/path]", field=FIELD)
    if parsed.userinfo or "@" in url.split("//", 1)[-1].split("/", 1)[0]:
        raise InvalidInput(
            "the microserviceUrl may not carry a user or password ('user@host'): "
            "give the cell's token in the 'token' field instead",
            field=FIELD,
        )
    port = (443 if scheme == "https" else 80) if parsed.port is None else parsed.port
    if not 0 < port < 65536:
        raise InvalidInput("the microserviceUrl's port must be 1 to 65535", field=FIELD)
    if scheme == "http" and not policy.listed(host, port):
        shown = f"[{host}]" if ":" in host else host
        raise InvalidInput(
            f"the microserviceUrl must use https; plain http is allowed only to hosts the "
            f"operator lists in {SETTING} ({shown}:{port} is not listed)",
            field=FIELD,
        )
    target = Target(scheme, host, port, parsed.path.rstrip("/"))
    try:
        target.request_url("/grace/runsync")
    except httpx.InvalidURL:
        raise InvalidInput(
            "the microserviceUrl's path is not usable: give a plain path such as /gpu",
            field=FIELD,
        ) from None
    return target


# getaddrinfo has no timeout of its own: a slow resolver must not hold a request (or a
# registration) for the system resolver's full retry schedule.
RESOLVE_SECONDS = 5.0
_RESOLVER = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="tzzr-dns")


def resolve(host: str, port: int, timeout: float = RESOLVE_SECONDS) -> list[IPAddress]:
    """Every address `host` resolves to, in the resolver's order."""
    lookup = _RESOLVER.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        raise Refused(f"looking up {host} took over {timeout:g} s", transient=True) from None
    except (OSError, UnicodeError) as exc:
        raise Refused(f"{host} does not resolve", transient=True) from exc
    found: list[IPAddress] = []
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 scope id
        ip = ipaddress.ip_address(text)
        if ip not in found:
            found.append(ip)
    if not found:
        raise Refused(f"{host} does not resolve", transient=True)
    return found


def checked_addresses(host: str, port: int, policy: OutboundPolicy) -> list[IPAddress]:
    """The addresses to connect to; every one must pass (a name that resolves to one
    public and one private address is refused, not half-used)."""
    listed = policy.listed(host, port)
    addresses = resolve(host, port)
    for ip in addresses:
        why = policy.refusal(ip, listed)
        if why is not None:
            raise Refused(f"address refused: {why}")
    return addresses


def check_url(url: str, policy: OutboundPolicy) -> str:
    """The normalised URL, or InvalidInput (field microserviceUrl) saying what to fix."""
    target = parse_url(url, policy)
    try:
        checked_addresses(target.host, target.port, policy)
    except Refused as exc:
        if exc.transient:
            raise InvalidInput(
                f"the microserviceUrl's host {target.host} does not resolve: check the name",
                field=FIELD,
            ) from None
        raise InvalidInput(
            f"the microserviceUrl's host {target.host} resolves to "
            f"{exc.reason.removeprefix('address refused: ')}: a remote cell must be at a "
            f"public address, unless the operator lists its host in {SETTING}",
            field=FIELD,
        ) from None
    return target.url


class GuardedBackend(httpcore.SyncBackend):
    """Resolves the name itself, checks every address, and connects to a checked IP."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = checked_addresses(host, port, self.policy)
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for ip in addresses:
            try:
                return super().connect_tcp(str(ip), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise Refused("unix sockets are refused")


@functools.cache
def _tls() -> ssl.SSLContext:
    # One context for every request: building one reads the whole CA bundle.
    return httpx.create_ssl_context(trust_env=False)


def _origin(url: httpx.URL) -> tuple[str, bytes, int | None]:
    return url.scheme, url.raw_host, url.port


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with the guarded backend, no proxies, and one origin only."""

    def __init__(self, target: Target, policy: OutboundPolicy) -> None:
        super().__init__(verify=_tls(), trust_env=False)
        self.origin = _origin(target.request_url(""))
        self._pool = httpcore.ConnectionPool(
            ssl_context=_tls(),
            max_connections=4,
            retries=0,
            network_backend=GuardedBackend(policy),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if _origin(request.url) != self.origin:
            raise Refused("only the registered origin is reached")
        return super().handle_request(request)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not."""
        return json.loads(self.body)


def _reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "timed out connecting"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, ConnectionRefusedError):
                return "connection refused"
            if isinstance(cause, ssl.SSLError):
                return "TLS failed (certificate or protocol)"
            cause = cause.__cause__ or cause.__context__
        return "could not connect"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "did not speak HTTP"
    if isinstance(exc, httpx.NetworkError):
        return "connection lost"
    return "network error"


def send(
    url: str,
    policy: OutboundPolicy,
    method: str,
    suffix: str,
    *,
    timeout: httpx.Timeout,
    json_body: Any = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    limit: int | None = None,
) -> Answer:
    """One request to `<url's path><suffix>` at the URL's origin. Raises OutboundError
    for a refused address, a network failure, a redirect or an answer over `limit`
    bytes (default: the policy's); an HTTP error status is an Answer."""
    try:
        target = parse_url(url, policy)
    except InvalidInput as exc:
        raise Refused(f"URL refused: {exc.message}") from None
    cap = policy.max_response_bytes if limit is None else limit
    # identity: the cap below counts the bytes that will be held, not compressed ones
    sent = {**(headers or {}), "Accept-Encoding": "identity"}
    with httpx.Client(
        transport=GuardedTransport(target, policy),
        follow_redirects=False,
        trust_env=False,
        timeout=timeout,
    ) as client:
        try:
            with client.stream(
                method, target.request_url(suffix), json=json_body, content=content, headers=sent
            ) as response:
                if 300 <= response.status_code < 400:
                    raise Refused(f"redirect refused (answered {response.status_code})")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > cap:
                    raise OutboundError(f"answer too large (over {cap} bytes)")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > cap:
                        raise OutboundError(f"answer too large (over {cap} bytes)")
        except httpx.HTTPError as exc:
            raise OutboundError(_reason(exc)) from exc
    return Answer(response.status_code, bytes(body))
