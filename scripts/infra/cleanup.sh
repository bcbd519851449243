#!/usr/bin/env bash
# Removes the test containers the harness started (label aigw.test). By default only
# those whose owning process is gone, so a run in progress elsewhere on the machine keeps
# its own; `--all` removes every one. A compose project among them (the smoke test's)
# loses its network and volumes too. Callers trap it on exit:
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
    label() { printf '{{index .Labels "%s"}}' "$1"; }
    ;;
  docker)
    engine=(docker)
    label() { printf '{{.Label "%s"}}' "$1"; } # docker's .Labels is one string, not a map
    ;;
esac

# owner label: "<pid>-<start time in clock ticks>", so a reused pid is not taken as alive.
alive() {
  local pid=${1%%-*} start=${1#*-}
  [ -r "/proc/$pid/stat" ] || return 1
  [ "$(sed 's/^.*) //' "/proc/$pid/stat" | cut -d' ' -f20)" = "$start" ]
}

removed=0
projects=()
while IFS='|' read -r id owner project; do
  [ -n "$id" ] || continue
  if $all || [ -z "$owner" ] || [ "$owner" = '<no value>' ] || ! alive "$owner"; then
    "${engine[@]}" rm -f -v "$id" >/dev/null 2>&1 && removed=$((removed + 1))
    [ -z "$project" ] || [ "$project" = '<no value>' ] || projects+=("$project")
  fi
done < <("${engine[@]}" ps -a --filter label=aigw.test \
  --format "{{.ID}}|$(label aigw.test.owner)|$(label com.docker.compose.project)" 2>/dev/null)
[ "$removed" = 0 ] || echo "== infra: removed $removed test container(s)"

# A compose project (scripts/deploy/compose-smoke.sh) also leaves its network and named
# volumes behind: removed once none of the project's containers is left.
for project in $(printf '%s\n' "${projects[@]}" | sort -u); do
  filter=label=com.docker.compose.project=$project
  [ -z "$("${engine[@]}" ps -a -q --filter "$filter" 2>/dev/null)" ] || continue
  "${engine[@]}" network ls -q --filter "$filter" 2>/dev/null |
    xargs -r "${engine[@]}" network rm >/dev/null 2>&1
  "${engine[@]}" volume ls -q --filter "$filter" 2>/dev/null |
    xargs -r "${engine[@]}" volume rm -f >/dev/null 2>&1
  echo "== infra: removed compose project $project"
done
exit 0
