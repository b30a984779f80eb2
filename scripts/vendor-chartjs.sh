#!/usr/bin/env bash
# Re-fetch the Chart.js build the HTML report inlines, and check it is the one recorded.
#
#   scripts/vendor-chartjs.sh            the pinned version: fetch, verify sha256, copy
#   scripts/vendor-chartjs.sh 4.x.y      move to another version: fetch, record, copy
#
# The pin (version, path in the tarball, sha256) lives in src/pinpipe/report/static/VENDORED.md.
# npm fetches from the registry it is configured for and checks the tarball's own integrity;
# the sha256 here pins the one file we ship. Nothing in static/ changes unless every check passes.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
static="$root/src/pinpipe/report/static"
pin="$static/VENDORED.md"

field() { sed -n "s/^$1: *//p" "$pin" | head -n 1; }

package="$(field package)"
pinned="$(field version)"
path="$(field path)"
expected="$(field sha256)"
version="${1:-$pinned}"
if [[ -z "$package" || -z "$pinned" || -z "$path" || -z "$expected" ]]; then
    echo "error: $pin lacks one of the lines package:, version:, path:, sha256:" >&2
    exit 1
fi
if [[ ! "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    echo "error: give an exact version such as 4.6.1, not '$version'" >&2
    exit 1
fi
command -v npm >/dev/null || { echo "error: npm is not installed" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "fetching $package@$version"
(cd "$work" && npm pack --silent "$package@$version" >/dev/null)
tarball="$(find "$work" -maxdepth 1 -name '*.tgz' | head -n 1)"
[[ -n "$tarball" ]] || { echo "error: npm pack wrote no tarball" >&2; exit 1; }
tar -xzf "$tarball" -C "$work"
[[ -f "$work/$path" ]] || { echo "error: $path is not in the $version tarball" >&2; exit 1; }
[[ -f "$work/package/LICENSE.md" ]] || { echo "error: no LICENSE.md in the tarball" >&2; exit 1; }
if grep -qi '</script' "$work/$path"; then
    echo "error: $path contains '</script', which cannot be inlined in the report" >&2
    exit 1
fi

actual="$(sha256sum "$work/$path" | cut -d ' ' -f 1)"
if [[ "$version" == "$pinned" ]]; then
    if [[ "$actual" != "$expected" ]]; then
        echo "error: sha256 of $path in $package@$version is $actual, VENDORED.md pins $expected" >&2
        exit 1
    fi
    echo "sha256 verified: $actual"
else
    sed -i -e "s/^version: .*/version: $version/" -e "s/^sha256: .*/sha256: $actual/" "$pin"
    echo "moved $package from $pinned to $version (sha256 $actual): review VENDORED.md"
fi

cp "$work/$path" "$static/chart.umd.min.js"
cp "$work/package/LICENSE.md" "$static/chart.js.LICENSE.md"
echo "wrote $static/chart.umd.min.js and chart.js.LICENSE.md"
