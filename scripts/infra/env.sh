# shellcheck shell=bash
# Sourced (not run) before the integration suites: tells the test harness where real
# Redis, Kafka and ClickHouse come from. Three modes, picked in this order:
#   address  REDIS_URL, KAFKA_BROKERS and CLICKHOUSE_URL are all given: use them as is.
#   docker   a Docker engine answers (DOCKER_HOST, or /var/run/docker.sock): testcontainers
#            pulls the official images (REDIS_IMAGE, KAFKA_IMAGE, CLICKHOUSE_IMAGE).
#   podman   no engine: scripts/infra/up.sh serves podman's Docker API on a local socket
#            and builds one image holding all three services from Debian packages.
# AIGW_INFRA_MODE set beforehand wins. Safe under `set -euo pipefail`.

AIGW_INFRA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export AIGW_INFRA_DIR

if [ -z "${AIGW_INFRA_MODE:-}" ]; then
  if [ -n "${REDIS_URL:-}" ] && [ -n "${KAFKA_BROKERS:-}" ] && [ -n "${CLICKHOUSE_URL:-}" ]; then
    AIGW_INFRA_MODE=address
  elif [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST}" != "unix:///run/aigw-podman.sock" ]; then
    AIGW_INFRA_MODE=docker
  elif [ -S /var/run/docker.sock ] && ! command -v podman >/dev/null 2>&1; then
    AIGW_INFRA_MODE=docker
  else
    AIGW_INFRA_MODE=podman
  fi
fi
export AIGW_INFRA_MODE

if [ "$AIGW_INFRA_MODE" = podman ]; then
  export AIGW_PODMAN_SOCKET=${AIGW_PODMAN_SOCKET:-/run/aigw-podman.sock}
  export DOCKER_HOST=unix://$AIGW_PODMAN_SOCKET
  # runc with lowered ulimits; crun fails on this kernel (see README). The engine service
  # outlives this checkout (a later clone reuses it), so it reads a copy that stays put:
  # a file inside a clone that is deleted would leave it running on podman's defaults.
  # The copy is named by its content, so up.sh replaces a service started on other settings.
  AIGW_PODMAN_CONF_DIR=${AIGW_INFRA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aigw-infra}
  mkdir -p "$AIGW_PODMAN_CONF_DIR"
  aigw_nofile=$(ulimit -Hn)
  if [ "$aigw_nofile" = unlimited ] || [ "$aigw_nofile" -gt 16384 ]; then aigw_nofile=16384; fi
  aigw_conf=$(sed "s/@NOFILE@/$aigw_nofile/g" "$AIGW_INFRA_DIR/containers.conf")
  CONTAINERS_CONF=$AIGW_PODMAN_CONF_DIR/containers-$(printf '%s\n' "$aigw_conf" | sha256sum | cut -c1-12).conf
  if [ ! -f "$CONTAINERS_CONF" ]; then # written whole, then renamed: never read half-written
    printf '%s\n' "$aigw_conf" >"$CONTAINERS_CONF.$$" && mv -f "$CONTAINERS_CONF.$$" "$CONTAINERS_CONF"
  fi
  export CONTAINERS_CONF
  unset aigw_nofile aigw_conf
  export TESTCONTAINERS_RYUK_DISABLED=true # the reaper's image cannot be pulled here
  # The image's tag is a hash of everything it is built from, so a change rebuilds it
  # and an unchanged tree finds it in podman's store.
  AIGW_SERVICES_IMAGE=localhost/aigw-services:$(cat "$AIGW_INFRA_DIR/pom.xml" \
    "$AIGW_INFRA_DIR/build-image.sh" "$AIGW_INFRA_DIR"/image/* | sha256sum | cut -c1-12)
  export AIGW_SERVICES_IMAGE
fi

# The harness publishes every port on 127.0.0.1 only, while for a Docker socket
# testcontainers would name `localhost` (maybe ::1) or a bridge gateway: its wait
# strategies must probe the address the ports are bound to, whichever engine runs them
# (in address mode too, for the suites that start containers of their own).
export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
