#!/usr/bin/env bash
# Install the Debian packages the RTSP tests need: GStreamer's RTSP server with Python bindings,
# an H.264 encoder (x264enc, in -ugly) and decoder (-libav).
#
# Idempotent: if every package is already installed it exits at once without touching apt.
# Needs root (or sudo). Used by CI (.ci/run) and by developers: `bash tools/install_rtsp_deps.sh`.
set -euo pipefail

PACKAGES=(
    gstreamer1.0-rtsp
    gir1.2-gst-rtsp-server-1.0
    python3-gi
    gstreamer1.0-plugins-base
    gstreamer1.0-plugins-good
    gstreamer1.0-plugins-ugly
    gstreamer1.0-libav
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    # dpkg-query prints "install ok installed" only for a fully installed package
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install_rtsp_deps: all ${#PACKAGES[@]} packages already installed"
    exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
    SUDO="sudo"
fi

echo "install_rtsp_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install_rtsp_deps: done"
