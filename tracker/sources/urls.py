"""Stream URLs: telling them from files, and keeping their passwords out of every output.

Camera URLs often carry credentials (``rtsp://admin:hunter2@10.0.0.7/stream1``). They must never
reach a log line, progress line, error message, summary file or output name. Three tools:

* ``mask_url(text)`` replaces the password of every ``scheme://user:password@`` in *any* string by
  ``***`` (``rtsp://admin:***@10.0.0.7/stream1``), and the value of ``password=``/``pwd=``-style
  query parameters. It is idempotent and leaves strings without credentials unchanged.
* ``CredentialMaskingFilter``: a ``logging.Filter`` that masks a record's message, arguments and
  traceback text. Attach it to a *handler* (a filter on a logger does not see records of its
  child loggers).
* ``install_log_masking()``: masks every log record created anywhere in the process, whatever the
  handlers, by wrapping the logging record factory. The CLI calls it once at start-up.

Passwords that no pattern can find (an unencoded space or ``"`` in ``rtsp://u:pa ss@cam/``) are
masked too: ``remember_secret(url)``, called for every stream URL the program opens, makes
``mask_url`` replace that password wherever it appears.

Also here: ``is_stream_url(s)`` (does a CLI argument name a live stream rather than a file?),
``is_file_url(s)`` (an ``http(s)://`` URL of a whole video file, read once like a file) and
``safe_name(text)`` / ``safe_stem(text)`` (file-system-safe, masked names for output folders/files).
"""
from __future__ import annotations

import logging
import re
import traceback
from typing import Set, Union
from urllib.parse import unquote, urlsplit

MASK = "***"

# scheme://user:password@ — the password runs to the LAST '@' of the token (passwords with an
# unencoded '@' or '/' exist in the wild). It stops at whitespace, quotes and angle brackets so
# two URLs in one line, a JSON string or a repr() are masked separately. Masking too much
# (part of a host) is acceptable; leaking a password is not.
_USERINFO_RE = re.compile(
    r"(?P<prefix>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@\"'<>]*:)(?P<password>[^\s\"'<>]*)@"
)
# ?password=... or &pwd=... (some cameras take credentials as query parameters)
_QUERY_SECRET_RE = re.compile(
    r"(?P<prefix>[?&;](?:password|passwd|pwd|pass|token|auth)=)(?P<secret>[^&\s\"'<>#]*)",
    re.IGNORECASE,
)

# the same password when it holds characters the first pattern stops at (space, quotes): the
# shortest run up to an '@' followed by a host name (and port, path or the end)
_USERINFO_LOOSE_RE = re.compile(
    r"(?P<prefix>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@\"'<>]*:)(?P<password>[^\r\n/@]*?)"
    r"@(?=[A-Za-z0-9.\-\[\]]+(?::\d+)?(?:[/?#\s\"'<>]|$))"
)
_SECRETS: Set[str] = set()   # passwords of the URLs this process opened (remember_secret)

# a URL whose path ends like this serves a whole file (as ultralytics decides it, by the suffix)
VIDEO_EXTS = (".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".mpg", ".mpeg", ".ts", ".wmv", ".flv")

STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "udp", "tcp", "srt")


def mask_url(text: str) -> str:
    """Return ``text`` with every URL password replaced by ``***``.

    Example:
        >>> mask_url("cannot open rtsp://admin:hunter2@10.0.0.7:554/live")
        'cannot open rtsp://admin:***@10.0.0.7:554/live'
        >>> mask_url("http://cam/snap.cgi?user=admin&pwd=hunter2")
        'http://cam/snap.cgi?user=admin&pwd=***'
    """
    if not isinstance(text, str):
        text = str(text)
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, MASK)
    if "://" in text:
        text = _USERINFO_RE.sub(lambda m: f"{m.group('prefix')}{MASK}@", text)
        text = _USERINFO_LOOSE_RE.sub(lambda m: f"{m.group('prefix')}{MASK}@", text)
    if "=" in text:
        text = _QUERY_SECRET_RE.sub(lambda m: f"{m.group('prefix')}{MASK}", text)
    return text


def remember_secret(url: str) -> None:
    """Mask this URL's password (as written and percent-decoded) in every later ``mask_url``.

    Example:
        >>> remember_secret('rtsp://admin:pa ss"1@10.0.0.7/live')
        >>> mask_url('cannot open rtsp://admin:pa ss"1@10.0.0.7/live')
        'cannot open rtsp://admin:***@10.0.0.7/live'
    """
    scheme, sep, rest = str(url).partition("://")
    if not sep or "@" not in rest:
        return
    userinfo = rest.rsplit("@", 1)[0]
    _, colon, password = userinfo.partition(":")
    # very short passwords would mask ordinary text everywhere; the patterns still find them in URLs
    for secret in {password, unquote(password)} if colon else ():
        if len(secret) >= 4 and secret != MASK:
            _SECRETS.add(secret)


def is_file_url(value: Union[str, int]) -> bool:
    """True for an ``http(s)://`` URL whose path names a video file (``.mp4``, ``.mkv``, ...).

    Such a URL serves a whole file: it is read once, every frame, then the run ends.

    Example:
        >>> is_file_url("http://127.0.0.1:8000/clip.mp4"), is_file_url("http://cam/video.mjpg")
        (True, False)
    """
    text = str(value).strip()
    if not text.lower().startswith(("http://", "https://")):
        return False
    try:
        path = urlsplit(text).path
    except ValueError:
        return False
    return path.lower().endswith(VIDEO_EXTS)


def is_stream_url(value: Union[str, int]) -> bool:
    """True when a CLI argument names a live stream: a stream URL or a webcam index.

    ``"rtsp://..."``, ``"rtsps://..."``, ``"http(s)://..."`` (MJPEG, HLS), a few other network
    schemes FFmpeg reads, and a small non-negative integer (``0`` or ``"0"`` = first webcam).
    Anything else (a path, a ``.streams`` list file) is not.

    Example:
        >>> is_stream_url("rtsp://cam/live"), is_stream_url("0"), is_stream_url("video.mp4")
        (True, True, False)
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value >= 0
    text = str(value).strip()
    if text.isdigit() and len(text) <= 3:
        return True
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme.lower() in STREAM_SCHEMES


def safe_name(text: str, max_len: int = 64) -> str:
    """A masked, file-system-safe name: ``rtsp://u:p@10.0.0.7:554/live`` → ``10.0.0.7_554_live``.

    Drops the scheme and the whole user-info part (not even the masked form goes into a path),
    keeps ``[A-Za-z0-9._-]``, and replaces every other run of characters by ``_``.
    """
    text = mask_url(str(text))
    _, sep, rest = text.partition("://")
    if sep:
        # drop the user-info part entirely: everything up to the last '@'
        text = rest.rsplit("@", 1)[-1].split("?", 1)[0]
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")
    return name[:max_len] or "stream"


def safe_stem(text: str, max_len: int = 64) -> str:
    """``safe_name`` without a trailing video extension, for naming an output video.

    Example:
        >>> safe_stem("http://u:pw@127.0.0.1:8000/clips/pw_768.mp4")
        '127.0.0.1_8000_clips_pw_768'
    """
    name = safe_name(text, max_len)
    for ext in VIDEO_EXTS:
        if name.lower().endswith(ext) and len(name) > len(ext):
            return name[: -len(ext)]
    return name


class CredentialMaskingFilter(logging.Filter):
    """A logging filter that masks URL passwords in a record; never drops a record.

    The message is formatted once (``record.getMessage()``), masked, and stored back with the
    arguments cleared, so a handler's formatter cannot reintroduce the raw value. Traceback and
    stack text are formatted and masked too.

    Example:
        >>> handler = logging.StreamHandler()
        >>> handler.addFilter(CredentialMaskingFilter())
    """

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


# the name the CLI imports
MaskCredentialsFilter = CredentialMaskingFilter


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask a record in place (message, arguments, exception and stack text); return it."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep the record, mask its raw parts
        message = f"{record.msg} {record.args}"
    record.msg = mask_url(message)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
    if record.exc_text:
        record.exc_text = mask_url(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_url(record.stack_info)
    return record


_installed = False


def install_log_masking() -> None:
    """Mask every log record created in this process from now on (idempotent).

    Wraps ``logging``'s record factory, so it covers all loggers and handlers, including those
    configured later and those of third-party libraries.
    """
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def masking_factory(*args, **kwargs) -> logging.LogRecord:
        return mask_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(masking_factory)
    _installed = True
