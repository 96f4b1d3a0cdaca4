#!/usr/bin/env bash
# The system packages the tests need: espeak-ng (the starter pool's spoken datasets, the espeak
# TTS voice), tesseract with its English data (OCR read-back of rendered images) and chromium
# (the page tests drive it headless through Playwright; no browser download).
# As root, installs the missing ones with apt-get; otherwise prints one line saying what to
# install, and fails.
set -euo pipefail
missing=()
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
if ! command -v tesseract >/dev/null 2>&1; then
  missing+=(tesseract-ocr tesseract-ocr-eng)
elif ! tesseract --list-langs 2>/dev/null | grep -qx eng; then
  missing+=(tesseract-ocr-eng)
fi
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ "${#missing[@]}" -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: the media tests need espeak-ng and tesseract (English): install them with your" \
       "package manager (Homebrew: brew install espeak-ng tesseract chromium)" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "error: the media tests need system packages: run sudo apt-get install ${missing[*]}" \
       "(or run bash scripts/test.sh as root, which installs them)" >&2
  exit 1
fi
echo "installing the system packages the tests need: ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
  >/dev/null
espeak-ng --version >/dev/null && tesseract --list-langs 2>/dev/null | grep -qx eng \
  && command -v chromium >/dev/null
