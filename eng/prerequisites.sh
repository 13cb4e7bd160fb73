# Shared by run.sh, test.sh and .ci/run: install Debian/Ubuntu packages that are missing.
# Source it; it defines functions only.

# container_runtime_answers: 0 when a Docker/Podman engine answers (not just a CLI).
container_runtime_answers() {
  local rt
  for rt in ${ASPIRE_CONTAINER_RUNTIME:-docker podman}; do
    if command -v "$rt" >/dev/null 2>&1 && timeout 5 "$rt" info >/dev/null 2>&1; then
      return 0
    fi
  done
  return 1
}

# ensure_packages PKG...: apt-get install the packages whose status is not "installed".
ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "Missing packages: ${missing[*]}. Install them with your package manager (or start Docker/Podman) and rerun." >&2
    return 1
  fi
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "Installing ${missing[*]} (apt-get)..." >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
