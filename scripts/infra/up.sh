#!/usr/bin/env bash
# Makes real Redis, Kafka and ClickHouse available to the integration suites. Idempotent
# and cheap on a machine that already has everything. Run it after sourcing env.sh:
#   source scripts/infra/env.sh && bash scripts/infra/up.sh
# podman mode: installs podman, runc and debootstrap if missing, serves podman's Docker
# API on $AIGW_PODMAN_SOCKET, removes containers left over from an earlier run, and
# builds the services image unless podman already has it. The containers themselves are
# started by the test harness (libs/testing) through testcontainers.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=env.sh
source "$here/env.sh"
t0=$SECONDS
log() { printf '== infra: %s\n' "$*"; }

case "$AIGW_INFRA_MODE" in
  address)
    log "services given by address: $REDIS_URL $KAFKA_BROKERS $CLICKHOUSE_URL"
    exit 0
    ;;
  docker)
    log "Docker engine at ${DOCKER_HOST:-/var/run/docker.sock}; official images"
    bash "$here/cleanup.sh"
    exit 0
    ;;
  podman) ;;
  *)
    echo "unknown AIGW_INFRA_MODE=$AIGW_INFRA_MODE (address, docker or podman)" >&2
    exit 2
    ;;
esac

# One setup at a time on this machine; a second caller waits, then finds it done.
exec 9>/tmp/aigw-infra.lock
flock 9

missing=()
for pair in podman:podman runc:runc debootstrap:debootstrap mvn:maven java:openjdk-17-jre-headless curl:curl; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # apt lists are fetched only when they are missing or too old to hold the packages.
  # Podman's recommended packages come along: the recipe that works here installs them.
  apt-get install -y -qq -o DPkg::Lock::Timeout=300 "${missing[@]}" >/tmp/aigw-apt.log 2>&1 ||
    { apt-get update -qq -o DPkg::Lock::Timeout=300 && apt-get install -y -qq -o DPkg::Lock::Timeout=300 "${missing[@]}" \
      >/tmp/aigw-apt.log 2>&1; } || { tail -20 /tmp/aigw-apt.log; exit 1; }
fi

ping_engine() { curl -sf --max-time 2 --unix-socket "$AIGW_PODMAN_SOCKET" http://d/_ping >/dev/null 2>&1; }
# A service left by an earlier run on other settings (its config file gone with its
# checkout, say), or started inside a checkout since deleted (runc then fails every start
# with "write child: broken pipe"), answers pings but cannot start containers: replace it.
for pid in $(pgrep -f "podman system service .*$AIGW_PODMAN_SOCKET" || true); do
  reason=""
  if ! tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "CONTAINERS_CONF=$CONTAINERS_CONF"; then
    reason="it ran on other settings"
  elif [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == *" (deleted)" ]]; then
    reason="its working directory was deleted"
  fi
  if [[ -n "$reason" ]]; then
    log "restarting podman's Docker API ($reason)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
done
if ! ping_engine; then
  log "starting podman's Docker API on $AIGW_PODMAN_SOCKET"
  rm -f "$AIGW_PODMAN_SOCKET"
  # Detached from this shell so it outlives the test run; --time=0 never idles out. Run
  # from / so it does not depend on this checkout still existing; `exec` leaves no shell
  # behind that would keep holding the lock on fd 9.
  (cd / && exec setsid nohup podman system service --time=0 "unix://$AIGW_PODMAN_SOCKET" \
    >/tmp/aigw-podman-service.log 2>&1 </dev/null 9>&-) &
  for _ in $(seq 1 100); do ping_engine && break; sleep 0.1; done
  ping_engine || { tail -20 /tmp/aigw-podman-service.log; exit 1; }
fi

bash "$here/cleanup.sh"

if podman image exists "$AIGW_SERVICES_IMAGE"; then
  log "image $AIGW_SERVICES_IMAGE cached"
else
  bash "$here/build-image.sh" "$AIGW_SERVICES_IMAGE"
fi
log "ready in $((SECONDS - t0))s"
