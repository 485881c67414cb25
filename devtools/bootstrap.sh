#!/usr/bin/env bash
# Installs what the product needs into this folder: .venv (pinned Python packages), bun from the
# npm registry (Reflex's own bun download cannot work offline) and, with --dev, Debian's chromium.
# Re-running is cheap: each step is skipped when its inputs have not changed.
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=0
[[ "${1:-}" == "--dev" ]] && DEV=1
PYTHON="${PYTHON:-python3}"
BUN_VERSION="1.4.4"

log() { echo "==> $*"; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "error: need root to run: $*" >&2; return 1; fi
}

apt_install() {
  log "Installing Debian packages: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

"$PYTHON" - <<'PY' || { echo "error: Python 3.11 or newer is required (set PYTHON=...)" >&2; exit 2; }
import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY

if [[ ! -x .venv/bin/python ]]; then
  log "Creating .venv"
  "$PYTHON" -m venv .venv
fi

STAMP=".venv/.installed-$(cat pyproject.toml requirements.lock | sha256sum | cut -c1-16)-dev$DEV"
if [[ ! -f "$STAMP" ]]; then
  log "Installing pinned Python packages (requirements.lock)"
  EXTRA=""; [[ $DEV -eq 1 ]] && EXTRA="[dev]"
  .venv/bin/python -m pip install -q --disable-pip-version-check -c requirements.lock -e ".$EXTRA"
  # RapidOCR without its declared opencv-python (the GUI build: needs libGL, and overwrites the cv2 of
  # the opencv-python-headless that easyocr brings). Its other requirements are in pyproject.toml.
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps \
    "rapidocr==$(sed -n 's/^rapidocr==//p' requirements.lock)"
  rm -f .venv/.installed-*
  touch "$STAMP"
fi

BUN=".tools/node_modules/bun/bin/bun.exe"
if [[ ! -x "$BUN" ]] || [[ "$("$BUN" --version 2>/dev/null)" != "$BUN_VERSION" ]]; then
  command -v npm >/dev/null || apt_install nodejs npm
  log "Installing bun@$BUN_VERSION from the npm registry"
  mkdir -p .tools
  npm install --prefix .tools --no-audit --no-fund --loglevel=error "bun@$BUN_VERSION" >/dev/null
fi

if [[ $DEV -eq 1 ]] && [[ ! -x /usr/bin/chromium ]]; then
  apt_install chromium
fi
# Handwriting-like fonts for devtools/rx_images.py (harder prescription images to measure OCR on).
if [[ $DEV -eq 1 ]] && [[ ! -f /usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf ]]; then
  apt_install fonts-humor-sans fonts-comic-neue fonts-dkg-handwriting fonts-breip || log "warning: no handwriting fonts"
fi
if ! command -v redis-server >/dev/null && [[ -z "${REDIS_URL:-}${TEST_REDIS_URL:-}" ]]; then
  apt_install redis-server
fi

# The interaction checker's drug-name index (a few seconds once, so the first check is fast too).
.venv/bin/pharmacy-saas interactions build-index >/dev/null || log "warning: could not pre-build the drug-name index"
