"""Unit tests for credential masking, stream URL detection and ``.streams`` parsing (no server)."""
from __future__ import annotations

import logging

import pytest

from tracker.errors import UserError
from tracker.sources.stream import StreamSource, open_streams, read_stream_list, stats_line
from tracker.sources.urls import (CredentialMaskingFilter, install_log_masking, is_stream_url,
                                  mask_url, safe_name)


@pytest.mark.parametrize("text, expected", [
    ("rtsp://admin:hunter2@10.0.0.7:554/live", "rtsp://admin:***@10.0.0.7:554/live"),
    ("rtsps://u:p@cam/x", "rtsps://u:***@cam/x"),
    ("http://u:p%40ss@cam/mjpg", "http://u:***@cam/mjpg"),
    ("error: rtsp://a:b@h1/x and rtsp://c:d@h2/y", "error: rtsp://a:***@h1/x and rtsp://c:***@h2/y"),
    ('["rtsp://a:b@h1/x","rtsp://c:d@h2/y"]', '["rtsp://a:***@h1/x","rtsp://c:***@h2/y"]'),
    ("rtsp://admin:p@ss@cam/live", "rtsp://admin:***@cam/live"),  # unencoded '@' in password
    ("rtsp://admin:pa/ss@cam/live", "rtsp://admin:***@cam/live"),  # unencoded '/' in password
    ("rtsp://cam:554/live", "rtsp://cam:554/live"),                # no credentials: unchanged
    ("rtsp://user@cam/live", "rtsp://user@cam/live"),              # user only: nothing secret
    ("http://cam/snap.cgi?user=admin&pwd=hunter2&x=1", "http://cam/snap.cgi?user=admin&pwd=***&x=1"),
    ("video.mp4", "video.mp4"),
])
def test_mask_url(text, expected):
    assert mask_url(text) == expected
    assert mask_url(expected) == expected  # idempotent


def test_mask_url_never_leaks_common_passwords():
    for password in ["hunter2", "p@ss:w/rd", "a#b?c", "x" * 50]:
        assert password not in mask_url(f"failed: rtsp://admin:{password}@cam.local:554/s1 (3x)")


@pytest.mark.parametrize("value, expected", [
    ("rtsp://cam/live", True), ("RTSPS://cam/live", True), ("http://cam/mjpg", True),
    ("https://cam/index.m3u8", True), (0, True), ("1", True), ("video.mp4", False),
    ("cams.streams", False), ("/data/img_dir", False), ("file:///x.mp4", False), (True, False),
])
def test_is_stream_url(value, expected):
    assert is_stream_url(value) is expected


def test_safe_name_drops_credentials():
    assert safe_name("rtsp://admin:hunter2@10.0.0.7:554/live/ch1") == "10.0.0.7_554_live_ch1"
    assert "hunter2" not in safe_name("rtsp://admin:hunter2@cam/x")
    assert safe_name("front door!") == "front_door"


def test_logging_filter_masks_message_args_and_traceback(caplog):
    logger = logging.getLogger("test_stream_urls.filter")
    handler = logging.Handler()
    records = []
    handler.emit = records.append
    handler.addFilter(CredentialMaskingFilter())
    logger.addHandler(handler)
    try:
        logger.warning("opening %s", "rtsp://u:secret@cam/x")
        try:
            raise RuntimeError("cannot open rtsp://u:secret@cam/x")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    formatter = logging.Formatter()
    text = "\n".join(formatter.format(r) for r in records)
    assert "secret" not in text
    assert "rtsp://u:***@cam/x" in text and "RuntimeError" in text


def test_install_log_masking_covers_every_logger(caplog):
    install_log_masking()
    install_log_masking()  # idempotent
    with caplog.at_level(logging.INFO):
        logging.getLogger("some.other.library").info("url=%s", "rtsp://u:secret@cam/x")
    assert "secret" not in caplog.text and "u:***@cam" in caplog.text


def test_read_stream_list(tmp_path):
    path = tmp_path / "cams.streams"
    path.write_text("# my cameras\n\nfront rtsp://u:p@10.0.0.7/s1\n  rtsp://10.0.0.8/s1  \n0\n")
    assert read_stream_list(path) == [("front", "rtsp://u:p@10.0.0.7/s1"), (None, "rtsp://10.0.0.8/s1"),
                                      (None, "0")]
    sources = open_streams([str(path), "rtsp://10.0.0.9/s1"], reconnect_max=1)
    assert [s.source_id for s in sources] == ["front", "1", "2", "3"]
    assert sources[0].name == "rtsp://u:***@10.0.0.7/s1"
    assert sources[2].is_webcam and sources[2].name == "webcam 0"
    assert all(isinstance(s, StreamSource) and s.is_live for s in sources)


def test_open_streams_errors_are_masked(tmp_path):
    bad = tmp_path / "bad.streams"
    bad.write_text("a b rtsp://u:secret@cam/x\n")
    with pytest.raises(UserError) as err:
        open_streams([str(bad)])
    assert "secret" not in str(err.value) and "bad.streams:1" in str(err.value)
    dup = tmp_path / "dup.streams"
    dup.write_text("cam rtsp://h1/x\ncam rtsp://h2/x\n")
    with pytest.raises(UserError, match="used twice"):
        open_streams([str(dup)])
    with pytest.raises(UserError, match="cannot read stream list"):
        open_streams([str(tmp_path / "missing.streams")])
    with pytest.raises(UserError, match="not a stream URL"):
        open_streams(["notes.txt"])


def test_stream_source_attributes_without_connecting():
    src = StreamSource("rtsp://u:secret@cam/x", source_id="cam", realtime=False)
    assert src.name == "rtsp://u:***@cam/x" and "secret" not in repr(src)
    assert src.source_id == "cam" and not src.is_live and src.frame_count is None
    assert src.stats_snapshot().frames_read == 0 and not src.consume_reset()
    with pytest.raises(UserError):
        StreamSource("rtsp://cam/x", reconnect_max=-1)


def test_missing_webcam_fails_with_one_clear_line():
    source = StreamSource(97, reconnect_max=2, reconnect_backoff=(0.05, 2.0, 0.1))
    assert source.name == "webcam 97" and source.is_webcam
    with pytest.raises(UserError, match=r"^cannot reach stream webcam 97: cannot open the camera .* "
                                        r"after 2 attempts$"):
        list(source)


def test_stats_line():
    a, b = StreamSource("rtsp://h/a", source_id="a"), StreamSource("rtsp://h/b", source_id="b")
    with b._lock:
        b._stats.connected, b._stats.fps, b._stats.frames_dropped, b._stats.reconnects = True, 15, 3, 1
    assert stats_line([a, object(), b]) == "a: down | b: 15.0 fps, 3 dropped, 1 reconnect"
    assert stats_line([]) == ""
