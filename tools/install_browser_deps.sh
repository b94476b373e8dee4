#!/usr/bin/env bash
# Debian's Chromium for tests/test_analytics_e2e.py (the report opened in a real headless browser via
# playwright; playwright's own browser download is not needed). Run as root, e.g. from .ci/run.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq
  apt-get install -y --no-install-recommends chromium fonts-dejavu-core
fi
