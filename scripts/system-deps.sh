#!/usr/bin/env bash
# Install the Debian packages the platform and its tests need, if any are missing.
#   chromium        browser tests (Playwright drives it; we never download a browser)
#   fonts-noto-cjk  Chinese text in screenshots, generated ID photos and PDFs
#   gettext         compiling translations (make messages)
#   pango           WeasyPrint's text layout (PDF licences, vouchers, bulletins)
#   poppler-utils   pdftoppm: tests turn PDFs into images to decode their QR codes
#   nats-server     exchange log mode: tests and benchmarks run a 3-node JetStream cluster
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0.so.0" || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || missing+=(nats-server)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages: ${missing[*]}. Install them: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
