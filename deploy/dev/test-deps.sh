#!/usr/bin/env bash
# Makes sure what the tests need is here: PostgreSQL answering on
# 127.0.0.1:5432 and Chromium for the browser tests. Safe to run again.
set -euo pipefail

pg_answers() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h 127.0.0.1 -p 5432
  else
    (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
  fi
}

if ! pg_answers; then
  echo "PostgreSQL is not answering on 127.0.0.1:5432; starting it"
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_answers && break; sleep 1; done
  pg_answers || { echo "PostgreSQL still does not answer on 127.0.0.1:5432 (set DUBAN_TEST_DATABASE_URL to use another server)"; exit 1; }
fi

# Chromium for the browser tests, and a Chinese font so that their
# screenshots show characters rather than boxes.
missing=""
if ! command -v chromium >/dev/null 2>&1 && [ -z "${DUBAN_CHROMIUM:-}" ]; then missing="chromium"; fi
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then missing="$missing fonts-wqy-microhei"; fi
if [ -n "$missing" ]; then
  echo "Installing Debian's$missing for the browser tests"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
echo "test dependencies ready: PostgreSQL on 127.0.0.1:5432, $(command -v chromium || echo "${DUBAN_CHROMIUM:-}")"
