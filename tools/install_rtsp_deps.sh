#!/usr/bin/env bash
# Kept for old instructions: everything the tests need is now set up by install_test_deps.sh.
exec bash "$(dirname "$0")/install_test_deps.sh" "$@"
