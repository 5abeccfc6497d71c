#!/bin/sh
# Builds the base image of every wrapper image (images/base/) with no registry: the build context
# is images/base/ plus a static busybox copied from this machine (Debian's busybox-static).
#
#   scripts/build-base-image.sh [REF]      REF defaults to optimus-ts/base:1 (scheduler.base_image's default)
#
# ENGINE=docker|podman picks the engine (default: docker, else podman); BUSYBOX=path another
# static busybox (default /bin/busybox); DOCKER_HOST is honoured as usual.
set -eu
ref="${1:-optimus-ts/base:1}"
here=$(cd "$(dirname "$0")/.." && pwd)
busybox="${BUSYBOX:-/bin/busybox}"

if [ -z "${ENGINE:-}" ]; then
  if command -v docker >/dev/null 2>&1; then ENGINE=docker
  elif command -v podman >/dev/null 2>&1; then ENGINE=podman
  else
    echo "error: neither docker nor podman is installed" >&2
    echo "hint: apt-get install docker.io (or podman)" >&2
    exit 1
  fi
fi
if [ ! -x "$busybox" ]; then
  echo "error: $busybox is missing" >&2
  echo "hint: apt-get install busybox-static, or set BUSYBOX to a static busybox" >&2
  exit 1
fi
# The base image is FROM scratch: a busybox needing shared libraries would not start in it.
if command -v ldd >/dev/null 2>&1 && ldd "$busybox" 2>/dev/null | grep -q '=> /'; then
  echo "error: $busybox is dynamically linked and cannot run in an empty image" >&2
  echo "hint: apt-get install busybox-static, or set BUSYBOX to a static busybox" >&2
  exit 1
fi

context=$(mktemp -d "${TMPDIR:-/tmp}/optimus-base-XXXXXX")
trap 'rm -rf "$context"' EXIT INT TERM
cp "$here/images/base/Dockerfile" "$here/images/base/entrypoint.sh" "$context/"
cp "$busybox" "$context/busybox"
chmod 0755 "$context/busybox"
chmod 0644 "$context/entrypoint.sh"
echo "building $ref with $ENGINE from images/base/ and $busybox" >&2
"$ENGINE" build -q -t "$ref" "$context" >/dev/null
echo "$ref"
