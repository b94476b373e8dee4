"""Why an RTSP camera does not play: a tiny RTSP client that asks the server itself.

OpenCV's FFmpeg backend only says "could not open". Before (and after) handing a URL to OpenCV,
``StreamSource`` asks the server with two plain RTSP requests over a socket, so every failure gets
a true message:

* ``reachable(url)``: ``None`` when the server accepts a TCP connection, else why not (refused,
  no answer, unknown host). Cheap and sends nothing: ``StreamSource`` asks it before every attempt,
  so a dead camera never blocks inside OpenCV.
* ``describe(url)`` sends ``DESCRIBE`` (answering a ``401`` once with the URL's credentials, Basic or
  Digest): ``None`` when the server describes the stream, else the reason — connection refused,
  no answer (timeout), unknown host, wrong credentials (401), wrong path (404), another status.
* ``refused_transports(url, ["tcp", "udp"])`` sends ``SETUP`` for the first track, once per
  transport, and returns those the server refuses with ``461 Unsupported Transport`` (VLC serves
  UDP only, some servers TCP only). Each accepted session is torn down at once.

Nothing here ever prints or returns a credential: messages name the masked URL at most.

Example:
    >>> describe("rtsp://127.0.0.1:9/none", timeout_s=1.0)            # doctest: +SKIP
    'connection refused'
    >>> refused_transports("rtsp://127.0.0.1:8554/cam", ["tcp"])       # doctest: +SKIP
    ['tcp']
"""
from __future__ import annotations

import hashlib
import re
import socket
from base64 import b64encode
from typing import Dict, List, Optional, Sequence, Tuple
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

RTSP_PORT = 554
_TRANSPORT_HEADERS = {
    "tcp": "RTP/AVP/TCP;unicast;interleaved=0-1",
    "udp": "RTP/AVP;unicast;client_port=50000-50001",   # never used: the session is torn down
}


class _Answer:
    """One RTSP response: status code, reason, headers (lower-case names), body."""

    def __init__(self, code: int, reason: str, headers: Dict[str, str], body: str) -> None:
        self.code, self.reason, self.headers, self.body = code, reason, headers, body


class _Client:
    """One TCP connection to an RTSP server, sending requests with CSeq and optional auth."""

    def __init__(self, url: str, timeout_s: float) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or ""
        self.port = parts.port or RTSP_PORT
        self.user = unquote(parts.username or "")
        self.password = unquote(parts.password or "")
        # the URL sent to the server carries no credentials (they go in the Authorization header)
        netloc = self.host if ":" not in self.host else f"[{self.host}]"
        if parts.port:
            netloc += f":{parts.port}"
        self.url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        self.timeout_s = timeout_s
        self.sock = socket.create_connection((self.host, self.port), timeout=timeout_s)
        self.sock.settimeout(timeout_s)
        self.cseq = 0
        self.auth: Optional[Tuple[str, Dict[str, str]]] = None   # (scheme, challenge params)
        self._buffer = b""

    def close(self) -> None:
        self.sock.close()

    def request(self, method: str, url: str, headers: Optional[Dict[str, str]] = None) -> _Answer:
        answer = self._send(method, url, headers or {})
        if answer.code == 401 and self.user and self.auth is None:
            self.auth = _parse_challenge(answer.headers.get("www-authenticate", ""))
            if self.auth is not None:
                answer = self._send(method, url, headers or {})
        return answer

    def _send(self, method: str, url: str, headers: Dict[str, str]) -> _Answer:
        self.cseq += 1
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self.cseq}", "User-Agent: tracker-probe"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if self.auth is not None:
            lines.append("Authorization: " + _authorization(self.auth, method, url, self.user, self.password))
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return self._read_answer()

    def _read_answer(self) -> _Answer:
        while b"\r\n\r\n" not in self._buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionResetError("the server closed the connection")
            self._buffer += chunk
            if len(self._buffer) > 65536:
                raise ValueError("not an RTSP server (oversized answer)")
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        match = re.match(r"RTSP/\d\.\d\s+(\d{3})\s*(.*)", lines[0])
        if not match:
            raise ValueError("not an RTSP server")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        while len(self._buffer) < length:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self._buffer += chunk
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        return _Answer(int(match.group(1)), match.group(2).strip(), headers, body.decode("latin-1"))


def _parse_challenge(header: str) -> Optional[Tuple[str, Dict[str, str]]]:
    scheme, _, rest = header.partition(" ")
    scheme = scheme.strip().lower()
    if scheme not in ("basic", "digest"):
        return None
    params = dict(re.findall(r'(\w+)="?([^",]*)"?', rest))
    return scheme, params


def _authorization(auth: Tuple[str, Dict[str, str]], method: str, url: str, user: str, password: str) -> str:
    scheme, params = auth
    if scheme == "basic":
        return "Basic " + b64encode(f"{user}:{password}".encode()).decode()
    realm, nonce = params.get("realm", ""), params.get("nonce", "")

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    response = md5(f"{md5(f'{user}:{realm}:{password}')}:{nonce}:{md5(f'{method}:{url}')}")
    return (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{url}", '
            f'response="{response}"')


def _connect(url: str, timeout_s: float) -> Tuple[Optional[_Client], Optional[str]]:
    """A client connected to the URL's server, or (None, why not)."""
    parts = urlsplit(url)
    where = f"{parts.hostname}:{parts.port or RTSP_PORT}"
    try:
        return _Client(url, timeout_s), None
    except socket.gaierror:
        return None, f"unknown host {parts.hostname}"
    except ConnectionRefusedError:
        return None, "connection refused"
    except (socket.timeout, TimeoutError):
        return None, f"no answer from {where} within {timeout_s:g}s (timeout)"
    except (OSError, ValueError) as err:
        return None, getattr(err, "strerror", None) or str(err) or type(err).__name__


def reachable(url: str, timeout_s: float = 3.0) -> Optional[str]:
    """``None`` when something accepts TCP connections at the URL's host and port, else why not."""
    client, why = _connect(url, timeout_s)
    if client is not None:
        client.close()
    return why


def _status_reason(answer: _Answer, has_credentials: bool) -> str:
    if answer.code == 401:
        if has_credentials:
            return "wrong credentials (401 Unauthorized)"
        return "the server needs credentials (401 Unauthorized): put user:password@ in the URL"
    if answer.code == 404:
        return "wrong path (404 Not Found)"
    if answer.code == 461:
        return "the server refuses this transport (461 Unsupported Transport)"
    return f"the server answered {answer.code} {answer.reason}".rstrip()


def describe(url: str, timeout_s: float = 3.0) -> Optional[str]:
    """``None`` when the RTSP server at ``url`` describes the stream, else why not (one phrase)."""
    client, why = _connect(url, timeout_s)
    if client is None:
        return why
    try:
        answer = client.request("DESCRIBE", client.url, {"Accept": "application/sdp"})
        return None if answer.code == 200 else _status_reason(answer, bool(client.user))
    except (socket.timeout, TimeoutError):
        return f"no answer to DESCRIBE within {timeout_s:g}s (timeout)"
    except (OSError, ValueError) as err:
        return getattr(err, "strerror", None) or str(err) or type(err).__name__
    finally:
        client.close()


def refused_transports(url: str, transports: Sequence[str], timeout_s: float = 3.0) -> List[str]:
    """The transports (``"tcp"``, ``"udp"``) for which the server answers SETUP with 461."""
    refused = []
    for transport in transports:
        client, _ = _connect(url, timeout_s)
        if client is None:
            continue
        try:
            answer = client.request("DESCRIBE", client.url, {"Accept": "application/sdp"})
            if answer.code != 200:
                continue
            base = answer.headers.get("content-base") or answer.headers.get("content-location") or client.url
            controls = re.findall(r"^a=control:\s*(\S+)", answer.body.split("m=", 1)[-1], re.MULTILINE)
            track = controls[0] if controls else ""
            target = track if "://" in track else urljoin(base if base.endswith("/") else base + "/", track)
            setup = client.request("SETUP", target, {"Transport": _TRANSPORT_HEADERS[transport]})
            if setup.code == 461:
                refused.append(transport)
            elif setup.code == 200 and "session" in setup.headers:
                session = setup.headers["session"].split(";", 1)[0]
                try:
                    client.request("TEARDOWN", client.url, {"Session": session})
                except (OSError, ValueError):
                    pass
        except (OSError, ValueError):
            pass
        finally:
            client.close()
    return refused
