#!/usr/bin/env bash
# Removes the test containers the harness started (label aigw.test). By default only
# those whose owning process is gone, so a run in progress elsewhere on the machine keeps
# its own; `--all` removes every one. Callers trap it on exit:
#   trap 'bash scripts/infra/cleanup.sh' EXIT
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=env.sh
source "$here/env.sh"
all=false
[ "${1:-}" = --all ] && all=true

case "$AIGW_INFRA_MODE" in
  address) exit 0 ;;
  podman)
    command -v podman >/dev/null 2>&1 || exit 0
    engine=(podman)
    ;;
  docker) engine=(docker) ;;
esac

# owner label: "<pid>-<start time in clock ticks>", so a reused pid is not taken as alive.
alive() {
  local pid=${1%%-*} start=${1#*-}
  [ -r "/proc/$pid/stat" ] || return 1
  [ "$(sed 's/^.*) //' "/proc/$pid/stat" | cut -d' ' -f20)" = "$start" ]
}

removed=0
while read -r id owner; do
  [ -n "$id" ] || continue
  if $all || [ -z "$owner" ] || [ "$owner" = '<no value>' ] || ! alive "$owner"; then
    "${engine[@]}" rm -f -v "$id" >/dev/null 2>&1 && removed=$((removed + 1))
  fi
done < <("${engine[@]}" ps -a --filter label=aigw.test \
  --format '{{.ID}} {{index .Labels "aigw.test.owner"}}' 2>/dev/null)
[ "$removed" = 0 ] || echo "== infra: removed $removed test container(s)"
exit 0
