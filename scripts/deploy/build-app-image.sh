#!/usr/bin/env bash
# Builds the app image (every service app in one image, picked by its command) and tags
# it `ai-gateway:local`, the name docker-compose.yml and deploy/k8s use.
#   source scripts/infra/env.sh && bash scripts/infra/up.sh   # the engine (podman mode)
#   bash scripts/deploy/build-app-image.sh                    # prints the image name
#
# docker mode: `docker build -f deploy/Dockerfile` (pulls node:24-bookworm-slim, runs npm ci).
# podman mode (no registry): the same layout as deploy/Dockerfile's runtime stage, built
# from parts this machine has: a minimal Debian bookworm from debootstrap (cached in
# $AIGW_INFRA_CACHE like scripts/infra's rootfs), the Node 24 binary of the project's own
# `node` package, `dist/` compiled from the working tree, the production packages of
# package-lock.json (scripts/deploy/prod-modules.mjs) and `config/`. The tag is a hash of
# everything that goes in, so an unchanged tree reuses the image in about a second.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# shellcheck source=../infra/env.sh
source scripts/infra/env.sh
t0=$SECONDS
log() { printf '== deploy: %s\n' "$*" >&2; }
local_tag=${AIGW_APP_IMAGE_TAG:-ai-gateway:local}

if [ "$AIGW_INFRA_MODE" != podman ]; then
  log "docker build -f deploy/Dockerfile -t $local_tag"
  docker build -f deploy/Dockerfile -t "$local_tag" . >&2
  echo "$local_tag"
  exit 0
fi

node_bin=$root/node_modules/node/bin/node
[ -x "$node_bin" ] || { echo "no $node_bin: run npm ci first" >&2; exit 1; }
node_version=$("$node_bin" --version)
case "$node_version" in v24.*) ;; *) echo "node_modules/node is $node_version, not 24" >&2; exit 1 ;; esac

# What the image is made of. Test files never reach dist/, so they do not count.
inputs_hash() {
  {
    printf '%s\n' "$node_version"
    find apps libs config -type f ! -path '*/node_modules/*' ! -path '*/test/*' \
      ! -name '*.spec.ts' ! -name '*.int-spec.ts' ! -name '*.e2e-spec.ts' -print0 |
      sort -z | xargs -0 sha256sum
    sha256sum package.json package-lock.json tsconfig.base.json scripts/build.mjs scripts/lib/*.mjs \
      scripts/deploy/build-app-image.sh scripts/deploy/prod-modules.mjs
  } | sha256sum | cut -c1-12
}
image=localhost/ai-gateway:$(inputs_hash)

if podman image exists "$image"; then
  log "image $image cached"
  podman tag "$image" "$local_tag"
  echo "$image"
  exit 0
fi

# The rootfs: packages only, keyed by the list and the mirror, shared by every app build.
cache=${AIGW_INFRA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aigw-infra}
suite=bookworm
packages=ca-certificates
mirror=$(sed -n 's/^URIs: //p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
mirror=${mirror:-http://deb.debian.org/debian}
key=$(printf 'app %s %s %s' "$suite" "$packages" "$mirror" | sha256sum | cut -c1-12)
rootfs=$cache/app-rootfs-$key
mkdir -p "$cache"
stage=$(mktemp -d)
# Removed in the background: deleting ~250 MB of small files takes seconds on a busy disk.
trap '{ rm -rf "$stage"; } >/dev/null 2>&1 </dev/null &' EXIT

build_rootfs() {
  rm -rf "$rootfs.partial"
  debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs.partial" "$mirror" \
    >"$cache/app-debootstrap.log" 2>&1 || { tail -20 "$cache/app-debootstrap.log" >&2; return 1; }
  # Dead weight at run time: downloaded .debs, apt lists, docs, man pages, locales.
  rm -rf "$rootfs.partial"/var/cache/apt/archives/*.deb "$rootfs.partial"/var/lib/apt/lists/* \
    "$rootfs.partial"/usr/share/doc "$rootfs.partial"/usr/share/man \
    "$rootfs.partial"/usr/share/locale "$rootfs.partial"/usr/share/info
  # The unprivileged user the apps run as, uid 1000 like the official node image's `node`.
  echo 'node:x:1000:1000::/app:/usr/sbin/nologin' >>"$rootfs.partial/etc/passwd"
  echo 'node:x:1000:' >>"$rootfs.partial/etc/group"
  echo 'node:*:19000:0:99999:7:::' >>"$rootfs.partial/etc/shadow"
  mv "$rootfs.partial" "$rootfs"
}

rootfs_pid=
if [ ! -d "$rootfs" ]; then
  command -v debootstrap >/dev/null || { echo "debootstrap missing: run scripts/infra/up.sh" >&2; exit 1; }
  log "debootstrap $suite with $packages (in the background)"
  build_rootfs &
  rootfs_pid=$!
fi

# dist/ is compiled in a copy of the sources, so the shared working tree's dist/ (which
# other runs may be using) is left alone.
log "compiling apps/ and libs/"
mkdir -p "$stage/src/scripts/lib" "$stage/image/app" "$stage/image/usr/local/bin" \
  "$stage/image/var/lib/ai-gateway"
cp -r apps libs tsconfig.base.json package.json "$stage/src/"
cp scripts/build.mjs "$stage/src/scripts/"
cp scripts/lib/*.mjs "$stage/src/scripts/lib/"
ln -s "$root/node_modules" "$stage/src/node_modules"
"$node_bin" "$stage/src/scripts/build.mjs" >&2

log "copying the production packages"
cp -r "$stage/src/dist" config package.json "$stage/image/app/"
node_modules_list=$("$node_bin" scripts/deploy/prod-modules.mjs "$root")
printf '%s\n' "$node_modules_list" | tar -c -T - | tar -x -C "$stage/image/app"
install -m 0755 "$node_bin" "$stage/image/usr/local/bin/node"
# The only path the apps write: the embedded stores (a volume in compose and k8s).
chown 1000:1000 "$stage/image/var/lib/ai-gateway"
chmod -R a+rX,go-w "$stage/image/app"

if [ -n "$rootfs_pid" ]; then
  wait "$rootfs_pid" || exit 1
  log "rootfs ready at $rootfs"
fi

log "importing $image"
# The cached rootfs untouched, then those of our paths it lacks (podman refuses a stream
# that names a path twice).
(cd "$stage/image" && find . -mindepth 1 | while read -r path; do
  [ -e "$rootfs/$path" ] && [ -d "$path" ] || printf '%s\n' "$path"
done) >"$stage/overlay.list"
base=$image-base
tar --numeric-owner -c -C "$rootfs" . -C "$stage/image" --no-recursion -T "$stage/overlay.list" |
  podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV NODE_ENV=production' \
    --change 'ENV NODE_OPTIONS=--max-semi-space-size=16' \
    --change 'ENV MALLOC_ARENA_MAX=1' \
    --change 'ENV MALLOC_TRIM_THRESHOLD_=65536' \
    --change 'ENV APP_MAIN=dist/apps/gateway/src/main.js' \
    --change 'WORKDIR /app' \
    --change 'USER 1000:1000' \
    --change 'CMD ["/bin/sh", "-c", "exec node \"$APP_MAIN\""]' \
    - "$base" >"$stage/import.log" 2>&1 || { tail -20 "$stage/import.log" >&2; exit 1; }

# `podman import` cannot set a HEALTHCHECK; a metadata-only build on top can (docker
# format: OCI images have no health checks). No RUN step, so no network is needed.
sed -n '/^HEALTHCHECK/,/^$/p' deploy/Dockerfile >"$stage/healthcheck"
grep -q '^HEALTHCHECK' "$stage/healthcheck" || { echo "no HEALTHCHECK in deploy/Dockerfile" >&2; exit 1; }
{ echo "FROM $base"; cat "$stage/healthcheck"; } >"$stage/Containerfile"
podman build --format docker --pull=never -q -t "$image" -f "$stage/Containerfile" "$stage" \
  >"$stage/build.log" 2>&1 || { tail -20 "$stage/build.log" >&2; exit 1; }
podman rmi "$base" >/dev/null 2>&1 || true
podman tag "$image" "$local_tag"
# Each source change makes a new ~300 MB tag: keep the three newest, and any a container
# still uses (podman rmi refuses those without --force). Off the critical path: detached,
# with its output closed so a caller's $(...) does not wait for it.
{
  podman images --sort created --format '{{.Repository}}:{{.Tag}}' localhost/ai-gateway |
    grep -E ':[0-9a-f]{12}$' | tail -n +4 | xargs -r podman rmi
} >/dev/null 2>&1 </dev/null &
log "built $image ($((SECONDS - t0))s)"
echo "$image"
