#!/usr/bin/env bash
# Vendor front-end assets (Tabler, htmx, ECharts) into static/vendor/ -- no CDN.
#
# Usage:  scripts/vendor_assets.sh [path/to/package.json]
#
# Installs the exact versions pinned in package.json (default: <repo>/package.json)
# into a throw-away temp directory with `npm install --ignore-scripts`, copies only
# the needed dist files + licenses into <repo>/static/vendor/, writes
# static/vendor/VERSIONS.txt and removes the temp directory. Nothing (no
# node_modules/, no lock file) is left in the repository.
#
# The app must work on an intranet without internet access, so any remote
# @import (e.g. web fonts from fonts.googleapis.com / rsms.me) is stripped from the
# vendored CSS, and the script fails if a remote url()/@import is still present.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
PKG_JSON="$(cd "$(dirname "${1:-$REPO_ROOT/package.json}")" && pwd)/$(basename "${1:-$REPO_ROOT/package.json}")"
VENDOR="$REPO_ROOT/static/vendor"
# Only include tabler-vendors.min.css if it is at most this many bytes.
TABLER_VENDORS_MAX_BYTES=$((64 * 1024))

command -v npm  >/dev/null || { echo "error: npm not found" >&2; exit 1; }
command -v node >/dev/null || { echo "error: node not found" >&2; exit 1; }
[ -f "$PKG_JSON" ] || { echo "error: $PKG_JSON not found" >&2; exit 1; }

TMP="$(mktemp -d "${TMPDIR:-/tmp}/opscenter-vendor.XXXXXX")"
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT

echo ">> installing from $PKG_JSON into $TMP"
cp "$PKG_JSON" "$TMP/package.json"
(cd "$TMP" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error)
NM="$TMP/node_modules"

# --- check that what got installed is exactly what package.json pins ---------
node -e '
const fs = require("fs"), path = require("path");
const [pkgFile, nm] = process.argv.slice(1);
const deps = JSON.parse(fs.readFileSync(pkgFile, "utf8")).dependencies || {};
let bad = 0;
for (const [name, want] of Object.entries(deps)) {
  if (!/^\d+\.\d+\.\d+$/.test(want)) { console.error(`error: ${name} is not pinned exactly: ${want}`); bad = 1; continue; }
  const got = JSON.parse(fs.readFileSync(path.join(nm, name, "package.json"), "utf8")).version;
  if (got !== want) { console.error(`error: ${name}: wanted ${want}, installed ${got}`); bad = 1; }
}
process.exit(bad);
' "$TMP/package.json" "$NM"

pkg_version() { node -p 'require(process.argv[1]).version' "$NM/$1/package.json"; }
pkg_meta() {  # name -> "resolved integrity" from the temp lock file
  node -e '
    const lock = require(process.argv[1]);
    const e = (lock.packages || {})["node_modules/" + process.argv[2]] || {};
    console.log((e.resolved || "?") + "\n" + (e.integrity || "?"));
  ' "$TMP/package-lock.json" "$1"
}

# --- fresh output dirs (only the ones this script owns) -----------------------
rm -rf "$VENDOR/tabler" "$VENDOR/htmx" "$VENDOR/echarts" "$VENDOR/VERSIONS.txt"
mkdir -p "$VENDOR/tabler/css" "$VENDOR/tabler/js" "$VENDOR/htmx" "$VENDOR/echarts"

MANIFEST="$TMP/manifest.txt"   # "dest <- source" lines for VERSIONS.txt
NOTES="$TMP/notes.txt"
: >"$MANIFEST"; : >"$NOTES"

copy() {  # copy <src relative to node_modules> <dest relative to static/vendor>
  install -m 0644 "$NM/$1" "$VENDOR/$2"
  printf '  %-40s <- node_modules/%s\n' "static/vendor/$2" "$1" >>"$MANIFEST"
}
note() { printf -- '- %s\n' "$*" >>"$NOTES"; echo "   note: $*"; }

# --- Tabler ------------------------------------------------------------------
T=@tabler/core
TV="$(pkg_version $T)"
echo "   $T@$TV" >>"$MANIFEST"
copy "$T/dist/css/tabler.min.css" "tabler/css/tabler.min.css"
if [ -f "$NM/$T/dist/css/tabler-vendors.min.css" ]; then
  sz=$(wc -c <"$NM/$T/dist/css/tabler-vendors.min.css")
  if [ "$sz" -le "$TABLER_VENDORS_MAX_BYTES" ]; then
    copy "$T/dist/css/tabler-vendors.min.css" "tabler/css/tabler-vendors.min.css"
  else
    note "tabler-vendors.min.css skipped ($sz bytes > $TABLER_VENDORS_MAX_BYTES)"
  fi
fi
copy "$T/dist/js/tabler.min.js" "tabler/js/tabler.min.js"
tabler_license="$(find "$NM/$T" -maxdepth 1 -type f \( -iname 'LICENSE*' -o -iname 'LICENCE*' \) | head -n1)"
if [ -n "$tabler_license" ]; then
  copy "$T/$(basename "$tabler_license")" "tabler/LICENSE"
else
  # The npm tarball of @tabler/core ships no LICENSE file; package.json says MIT
  # and the dist banners say "Licensed under MIT (github.com/tabler/tabler/...LICENSE)".
  # Reproduce the upstream MIT text with the copyright line(s) from the CSS banner.
  lic="$(node -p 'require(process.argv[1]).license' "$NM/$T/package.json")"
  [ "$lic" = "MIT" ] || { echo "error: unexpected $T license '$lic'" >&2; exit 1; }
  copyright="$(head -c 2000 "$NM/$T/dist/css/tabler.min.css" | grep -o 'Copyright [0-9].*' | sed 's/^Copyright /Copyright (c) /' || true)"
  [ -n "$copyright" ] || copyright="Copyright (c) 2018 The Tabler Authors"
  cat >"$VENDOR/tabler/LICENSE" <<EOF
The MIT License (MIT)

$copyright

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in
all copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
THE SOFTWARE.
EOF
  chmod 0644 "$VENDOR/tabler/LICENSE"
  printf '  %-40s <- generated: MIT text of github.com/tabler/tabler/blob/master/LICENSE\n' "static/vendor/tabler/LICENSE" >>"$MANIFEST"
  note "$T@$TV npm package ships no LICENSE file; tabler/LICENSE is the upstream MIT text with the copyright line from the tabler.min.css banner."
fi

# --- htmx --------------------------------------------------------------------
H=htmx.org
HV="$(pkg_version $H)"
echo "   $H@$HV" >>"$MANIFEST"
copy "$H/dist/htmx.min.js" "htmx/htmx.min.js"
copy "$H/LICENSE" "htmx/LICENSE"

# --- ECharts -----------------------------------------------------------------
E=echarts
EV="$(pkg_version $E)"
echo "   $E@$EV" >>"$MANIFEST"
copy "$E/dist/echarts.min.js" "echarts/echarts.min.js"
copy "$E/LICENSE" "echarts/LICENSE"
[ -f "$NM/$E/NOTICE" ] && copy "$E/NOTICE" "echarts/NOTICE"
# ECharts' LICENSE refers to licenses/LICENSE-d3 for embedded d3 code (BSD-3).
if [ -d "$NM/$E/licenses" ]; then
  mkdir -p "$VENDOR/echarts/licenses"
  for f in "$NM/$E/licenses"/*; do
    [ -f "$f" ] && copy "$E/licenses/$(basename "$f")" "echarts/licenses/$(basename "$f")"
  done
fi
# Locales: EN and ZH (simplified) are built into dist/echarts.min.js
# (use echarts.init(el, null, {locale: 'ZH'})). Copy only extra Chinese
# locales (e.g. traditional Chinese) if the package ever ships them.
if grep -q 'registerLocale' "$NM/$E/dist/echarts.min.js" && grep -q '"ZH"' "$NM/$E/dist/echarts.min.js"; then
  note "echarts: ZH (simplified Chinese) + EN locales are built into echarts.min.js; i18n/langZH.js not copied (redundant)."
else
  mkdir -p "$VENDOR/echarts/i18n"; copy "$E/i18n/langZH.js" "echarts/i18n/langZH.js"
fi
extra_zh="$(find "$NM/$E/i18n" -maxdepth 1 -type f -iname 'langZH?*.js' ! -iname '*-obj.js' 2>/dev/null || true)"
if [ -n "$extra_zh" ]; then
  mkdir -p "$VENDOR/echarts/i18n"
  while IFS= read -r f; do copy "$E/i18n/$(basename "$f")" "echarts/i18n/$(basename "$f")"; done <<<"$extra_zh"
else
  note "echarts: no traditional-Chinese locale (zh-TW/zh-HK) is shipped in $E@$EV; none copied."
fi

# --- intranet-safe CSS: strip remote @import, refuse remaining remote urls -----
for css in "$VENDOR"/tabler/css/*.css; do
  rel="static/vendor/${css#"$VENDOR"/}"
  remote_imports="$(grep -oE "@import[[:space:]]*(url\()?[[:space:]]*[\"']?(https?:)?//[^;]*;" "$css" || true)"
  if [ -n "$remote_imports" ]; then
    sed -i -E "s#@import[[:space:]]*(url\()?[[:space:]]*[\"']?(https?:)?//[^;]*;##g" "$css"
    while IFS= read -r line; do note "stripped remote import from $rel: $line"; done <<<"$remote_imports"
  fi
  # any url(...) that is not data: / relative -> remote resource; fail loudly
  remote_urls="$(grep -oE "url\([[:space:]]*[\"']?(https?:)?//[^)]*\)" "$css" || true)"
  if [ -n "$remote_urls" ]; then
    echo "error: $rel still references remote resources:" >&2; echo "$remote_urls" >&2; exit 1
  fi
  if grep -qE '@import' "$css"; then
    echo "error: $rel still contains an @import:" >&2; grep -oE '@import[^;]*;' "$css" >&2; exit 1
  fi
done
grep -q 'stripped remote import' "$NOTES" || \
  note "tabler CSS: no @import and no remote url()/web fonts found (font stack is system-ui etc.); nothing stripped."

# --- source maps are not vendored: drop their references, or collectstatic's manifest fails -----
for f in "$VENDOR"/tabler/css/*.css "$VENDOR"/tabler/js/*.js "$VENDOR"/htmx/*.js "$VENDOR"/echarts/*.js; do
  [ -f "$f" ] || continue
  if grep -q 'sourceMappingURL=' "$f"; then
    sed -i '/sourceMappingURL=/d' "$f"
    note "removed the sourceMappingURL reference from static/vendor/${f#"$VENDOR"/} (maps are not vendored)"
  fi
done

# --- VERSIONS.txt --------------------------------------------------------------
{
  echo "Vendored front-end assets for OpsCenter (served locally, no CDN)."
  echo "Generated by scripts/vendor_assets.sh from package.json -- do not edit by hand;"
  echo "change the pins in package.json and re-run the script instead."
  echo
  echo "Packages:"
  for p in "$T" "$H" "$E"; do
    { read -r resolved; read -r integrity; } < <(pkg_meta "$p")
    # lock files may omit "resolved" (npm config omit-lockfile-registry-resolved)
    if [ "$resolved" = "?" ]; then
      resolved="$(npm view "$p@$(pkg_version "$p")" dist.tarball 2>/dev/null || echo '?')"
    fi
    echo "  $p@$(pkg_version "$p")  license: $(node -p 'require(process.argv[1]).license' "$NM/$p/package.json")"
    echo "      tarball:   $resolved"
    echo "      integrity: $integrity"
  done
  echo
  echo "Files (dest <- source inside the npm package):"
  cat "$MANIFEST"
  echo
  echo "sha256:"
  (cd "$REPO_ROOT" && find static/vendor -type f ! -name VERSIONS.txt | sort | xargs sha256sum | sed 's/^/  /')
  echo
  echo "Notes:"
  cat "$NOTES"
  echo "- tabler.min.js bundles Bootstrap's JS and Popper; no separate bootstrap/popper file is needed."
} >"$VENDOR/VERSIONS.txt"

echo ">> vendored into $VENDOR:"
(cd "$REPO_ROOT" && find static/vendor -type f | sort | xargs ls -l)
