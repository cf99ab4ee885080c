#!/usr/bin/env bash
# Builds the AquaSense image (deploy/Dockerfile) with podman, or docker where
# podman is missing, and prints its size and build time.
#   deploy/build-image.sh                      # aquasense:latest
#   TAG=aquasense:1.0 deploy/build-image.sh
#   BASE=debian:bookworm-slim deploy/build-image.sh   # a registry's Debian 12
#   deploy/build-image.sh --cluster            # also aquasense-nginx and aquasense-moto
#                                              # (deploy/compose.yaml)
# The builder's base is, in order: BASE when given; aquasense-base:bookworm when
# already made; debian:bookworm-slim when a registry answers within 60 s; else
# a Debian 12 minbase made here with debootstrap and imported as
# aquasense-base:bookworm (its tarball cached in ~/.cache/aquasense/).
# Exit: 0 built; 1 the build failed; 3 no container engine (nothing to do).
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/deploy/containers.conf}
TAG=${TAG:-aquasense:latest}
LOCAL_BASE=aquasense-base:bookworm
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/aquasense
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if command -v podman >/dev/null; then
  engine=podman
  build_flags=(--format docker --network host)  # docker format: HEALTHCHECK is kept
elif command -v docker >/dev/null; then
  engine=docker
  build_flags=()
  export DOCKER_BUILDKIT=1  # RUN --mount=type=cache
else
  echo "build-image: neither podman nor docker is installed" >&2
  exit 3
fi

# Makes $LOCAL_BASE from a debootstrap'd Debian 12 minbase (root only).
make_local_base() {
  local tarball=$CACHE/bookworm-minbase.tar
  if [[ ! -s $tarball ]]; then
    command -v debootstrap >/dev/null || { echo "build-image: no registry and no debootstrap" >&2; exit 1; }
    local root
    root=$(mktemp -d)
    echo "build-image: debootstrap bookworm (minbase) from $MIRROR"
    debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
      { tail -5 "$CACHE/debootstrap.log" >&2; rm -rf "$root"; exit 1; }
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  fi
  "$engine" import --change 'CMD ["/bin/bash"]' "$tarball" "$LOCAL_BASE" >/dev/null
}

mkdir -p "$CACHE"
if [[ -z ${BASE:-} ]]; then
  if "$engine" image inspect "$LOCAL_BASE" >/dev/null 2>&1; then
    BASE=$LOCAL_BASE
  elif timeout 60 "$engine" pull -q docker.io/library/debian:bookworm-slim >/dev/null 2>&1; then
    BASE=docker.io/library/debian:bookworm-slim
  else
    echo "build-image: no registry reachable: making $LOCAL_BASE with debootstrap"
    make_local_base
    BASE=$LOCAL_BASE
  fi
fi

if [[ ${1:-} == --cluster ]]; then
  for aux in nginx moto; do
    echo "build-image: $engine build aquasense-$aux:latest from $BASE"
    "$engine" build "${build_flags[@]}" --build-arg "BASE=$BASE" -q -t "aquasense-$aux:latest" \
      "deploy/$aux" >/dev/null
  done
fi

echo "build-image: $engine build $TAG from $BASE"
start=$(date +%s)
"$engine" build "${build_flags[@]}" --build-arg "BASE=$BASE" -f deploy/Dockerfile -t "$TAG" .
seconds=$(($(date +%s) - start))
# Each build leaves its builder stage (~850 MB) untagged: drop the ones of
# earlier builds (this one's stays, the next build's layer cache).
"$engine" image prune -f --filter "until=$start" >/dev/null 2>&1 || true
bytes=$("$engine" image inspect --format '{{.Size}}' "$TAG")
echo "build-image: $TAG built in ${seconds} s; size $((bytes / 1000000)) MB ($bytes bytes)"
