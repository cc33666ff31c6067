#!/usr/bin/env bash
# Prints the name of a Node base image for docker/Dockerfile (its NODE_IMAGE build arg),
# making it first when needed:
#   docker build --build-arg NODE_IMAGE="$(tools/make-base-image.sh)" ...
# 1. The official image ($OFFICIAL, node:20.19-alpine) when it is present or can be pulled.
# 2. Otherwise a local Debian image ($LOCAL, posthooks/node-base:bookworm): debootstrap
#    minbase from this machine's own Debian mirror, this machine's node and npm copied in,
#    a "node" user with uid 1000 (as in the official image), this machine's CA bundle (npm
#    inside the build reaches the registry through it). Kept once made: delete the image to
#    make it anew.
# Progress goes to stderr; stdout is the image name only.
#   --local     skip the official image (make or reuse the local one)
#   --infra     also make posthooks/local-infra:bookworm: the local base with Debian's
#               nats-server and postgresql and the npm maildev (docker/compose.local.yaml)
set -euo pipefail

OFFICIAL=${OFFICIAL:-node:20.19-alpine}
LOCAL=${LOCAL:-posthooks/node-base:bookworm}
INFRA=${INFRA:-posthooks/local-infra:bookworm}
SUITE=${SUITE:-bookworm}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
log() { echo "make-base-image: $*" >&2; }

local_only=false infra=false
for arg in "$@"; do
  case $arg in
    --local) local_only=true ;;
    --infra) infra=true ;;
    *) log "unknown argument $arg"; exit 2 ;;
  esac
done

have() { docker image inspect "$1" >/dev/null 2>&1; }

# The machine's Debian mirror, as apt is configured here (deb822 .sources or a one-line list).
debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local m
  m=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n1 || true)
  [ -n "$m" ] || m=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}' | grep -v security | head -n1 || true)
  [ -n "$m" ] || { log "no Debian mirror in /etc/apt; set DEBIAN_MIRROR"; exit 1; }
  echo "$m"
}

make_local() {
  command -v debootstrap >/dev/null || { log "debootstrap is missing (apt-get install -y debootstrap)"; exit 1; }
  local node npm_dir dir mirror
  node=$(readlink -f "$(command -v node)")
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  dir=$(mktemp -d /tmp/posthooks-base.XXXXXX)
  trap 'rm -rf "$dir"' RETURN
  mirror=$(debian_mirror)
  log "debootstrap $SUITE (minbase) into $dir (a few minutes)"
  # libstdc++6: node links it. ca-certificates: its directory layout (the bundle is the host's).
  debootstrap --variant=minbase --include=libstdc++6,ca-certificates "$SUITE" "$dir" "$mirror" >&2
  install -m 0755 "$node" "$dir/usr/local/bin/node"
  mkdir -p "$dir/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$dir/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$dir/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$dir/usr/local/bin/npx"
  # The host's CA bundle (it may hold a proxy's CA that npm and apt need here).
  cp /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/ca-certificates.crt"
  chroot "$dir" groupadd --gid 1000 node
  chroot "$dir" useradd --uid 1000 --gid node --shell /bin/sh --create-home node
  # Slim: apt lists, docs and locales are not needed at run time.
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/* "$dir"/usr/share/doc/* "$dir"/usr/share/man/* \
    "$dir"/usr/share/locale/* "$dir"/usr/share/info/*
  log "importing $LOCAL"
  tar -C "$dir" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    -c 'CMD ["node"]' - "$LOCAL" >&2
}

base=""
if ! $local_only; then
  if have "$OFFICIAL"; then
    base=$OFFICIAL
  elif timeout 60 docker pull "$OFFICIAL" >/dev/null 2>&1; then
    base=$OFFICIAL
  else
    log "cannot pull $OFFICIAL: using the local base $LOCAL"
  fi
fi
if [ -z "$base" ]; then
  have "$LOCAL" || make_local
  base=$LOCAL
fi

if $infra && ! have "$INFRA"; then
  have "$LOCAL" || make_local
  log "building $INFRA"
  # The registry npm is configured with here, for maildev; passed at build time only.
  DOCKER_BUILDKIT=0 docker build -q --network host -f "$ROOT/docker/local-infra.Dockerfile" \
    --build-arg NODE_IMAGE="$LOCAL" --build-arg NPM_REGISTRY="$(npm config get registry)" \
    -t "$INFRA" "$ROOT/docker" >&2
fi

echo "$base"
