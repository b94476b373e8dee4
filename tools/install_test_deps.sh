#!/usr/bin/env bash
# Set up what the test suite needs beyond pip, so that `make test` skips nothing:
#   * GStreamer's RTSP server with Python bindings, an H.264 encoder (x264enc, in -ugly) and
#     decoder (-libav): the main RTSP test server (tests/rtsp_server.py)
#   * VLC (vlc-bin, vlc-plugin-base): a second RTSP server, UDP only; it refuses to run as root,
#     so the tests run it as the system user "rtsptest" (created here) via setpriv
#   * Chromium and a font (chromium, fonts-dejavu-core): the browser tests
# The pip side (aio-rtsp-toolkit, av, playwright, ...) is the `dev` extra of pyproject.toml.
#
# Idempotent: installs only what is missing; with everything present it exits at once, touching
# nothing. Needs root for the installs: without root (and with something missing) it prints the
# one command that installs it and exits 1, so `make test` stops before the tests.
#   bash tools/install_test_deps.sh          # install what is missing
#   bash tools/install_test_deps.sh --check  # only say what is missing (exit 1 if anything)
set -euo pipefail

PACKAGES=(
    gstreamer1.0-rtsp
    gir1.2-gst-rtsp-server-1.0
    python3-gi
    gstreamer1.0-plugins-base
    gstreamer1.0-plugins-good
    gstreamer1.0-plugins-ugly
    gstreamer1.0-libav
    vlc-bin
    vlc-plugin-base
    chromium
    fonts-dejavu-core
)
VLC_USER=rtsptest

missing=()
for pkg in "${PACKAGES[@]}"; do
    # dpkg-query prints "install ok installed" only for a fully installed package
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done
need_user=0
if ! getent passwd "$VLC_USER" >/dev/null; then
    need_user=1
fi

if [[ ${#missing[@]} -eq 0 && $need_user -eq 0 ]]; then
    exit 0
fi

what="${missing[*]}"
if [[ $need_user -eq 1 ]]; then
    what="${what:+$what, }the user $VLC_USER (runs VLC)"
fi
if [[ "${1:-}" == "--check" || $(id -u) -ne 0 ]]; then
    echo "install_test_deps: missing: $what" >&2
    echo "install_test_deps: run this once, then make test again:" >&2
    echo "    sudo bash tools/install_test_deps.sh" >&2
    exit 1
fi

if [[ ${#missing[@]} -gt 0 ]]; then
    echo "install_test_deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [[ $need_user -eq 1 ]]; then
    useradd --system --user-group --no-create-home --shell /usr/sbin/nologin "$VLC_USER"
fi
echo "install_test_deps: done"
