#!/usr/bin/env bash
# Installs what the blueprint needs on a Debian machine.
#   bash scripts/install.sh          Node packages only: enough to synth.
#   bash scripts/install.sh --test   also the servers and browser the tests start on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test_packages=false
for arg in "$@"; do
  case "$arg" in
    --test) want_test_packages=true ;;
    *) echo "install.sh: unknown option '$arg'; allowed: --test" >&2; exit 2 ;;
  esac
done

major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
  echo "install.sh: Node.js 20 or newer is required, found '$(node --version 2>/dev/null || echo none)'." >&2
  echo "Install it from https://nodejs.org or your package manager, then run this again." >&2
  exit 1
fi

if $want_test_packages; then
  # Every program the tests, the local game day and the benchmark start (test/scripts/install.test.ts
  # checks this list against the code):
  #   memcached, haproxy   servers the tests start on free loopback ports
  #   chromium             the browser tests, through playwright-core (never a downloaded browser)
  #   fonts-liberation     so that chromium's screenshots of the reports show text
  #   openssl              makes the throwaway certificate of the memcached TLS test
  #   git                  the benchmark clones this checkout (a local path, no network)
  #   valgrind             npm run bench:instructions counts instructions per cache hit
  # Not ca-certificates: nothing here fetches over HTTPS outside npm, and reinstalling it would
  # rebuild the system CA bundle, dropping any CA that npm's proxy or mirror is trusted through.
  # Everything else they run (sh, bash, grep, du) is part of every Debian install.
  packages=(memcached haproxy chromium fonts-liberation openssl git valgrind)
  missing=()
  for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "Installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# npm 11 runs no dependency install scripts unless package.json allows them; none is needed
# (esbuild and swc ship their binaries as packages).
npm ci --no-audit --no-fund --loglevel=error
