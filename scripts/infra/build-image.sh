#!/usr/bin/env bash
# Builds the all-in-one test image IMAGE (Redis, ClickHouse 18.16, Kafka on Java 17) with
# no registry: a minimal Debian rootfs from debootstrap plus the Kafka broker's jars from
# Maven Central, put into podman's store with `podman import`. The rootfs is cached in
# $AIGW_INFRA_CACHE keyed by its package list, the jars in ~/.m2.
set -euo pipefail
image=$1
here=$(cd "$(dirname "$0")" && pwd)
cache=${AIGW_INFRA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aigw-infra}
suite=bookworm
packages=redis-server,clickhouse-server,openjdk-17-jre-headless,ca-certificates
mirror=$(sed -n 's/^URIs: //p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
mirror=${mirror:-http://deb.debian.org/debian}
key=$(printf '%s %s %s' "$suite" "$packages" "$mirror" | sha256sum | cut -c1-12)
rootfs=$cache/rootfs-$key
mkdir -p "$cache"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
t0=$SECONDS

# The jars download while debootstrap runs.
mkdir -p "$stage/opt/kafka/config" "$stage/usr/local/bin" "$stage/etc/clickhouse-server/config.d"
mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
  -DoutputDirectory="$stage/opt/kafka/libs" >"$stage/mvn.log" 2>&1 &
mvn_pid=$!

if [ ! -d "$rootfs" ]; then
  echo "== infra: debootstrap $suite with $packages"
  rm -rf "$rootfs.partial"
  debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs.partial" "$mirror" \
    >"$cache/debootstrap.log" 2>&1 || { tail -20 "$cache/debootstrap.log"; exit 1; }
  # Downloaded .debs, docs and apt lists are dead weight in a test image.
  rm -rf "$rootfs.partial"/var/cache/apt/archives/*.deb "$rootfs.partial"/var/lib/apt/lists/* \
    "$rootfs.partial"/usr/share/doc "$rootfs.partial"/usr/share/man
  mv "$rootfs.partial" "$rootfs"
  echo "== infra: rootfs ready ($((SECONDS - t0))s)"
else
  echo "== infra: rootfs cached at $rootfs"
fi

wait "$mvn_pid" || { cat "$stage/mvn.log"; exit 1; }
rm -f "$stage/mvn.log"
install -m 0755 "$here"/image/aigw-redis "$here"/image/aigw-kafka "$here"/image/aigw-clickhouse \
  "$stage/usr/local/bin/"
install -m 0644 "$here"/image/log4j2.properties "$here"/image/log4j.properties "$stage/opt/kafka/config/"
install -m 0644 "$here"/image/clickhouse-aigw.xml "$stage/etc/clickhouse-server/config.d/aigw.xml"

echo "== infra: importing $image"
# Two trees in one stream: the cached rootfs untouched, then those of our paths it lacks
# (podman refuses a stream that names a path twice).
(cd "$stage" && find . -mindepth 1 | while read -r path; do
  [ -e "$rootfs/$path" ] && [ -d "$path" ] || printf '%s\n' "$path"
done) >"$cache/overlay.list"
tar --numeric-owner -c -C "$rootfs" . -C "$stage" --no-recursion -T "$cache/overlay.list" |
  podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/sh"]' \
    - "$image" >"$cache/import.log" 2>&1 || { tail -20 "$cache/import.log"; exit 1; }
echo "== infra: built $image ($((SECONDS - t0))s)"
# Earlier builds stay: another checkout on this machine may still use its own tag.
# `podman images localhost/aigw-services` lists them; `podman rmi` frees the space.
