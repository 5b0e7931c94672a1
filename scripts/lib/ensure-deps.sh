# Sourced by scripts/test and scripts/demo: installs the system packages the build needs, when missing.
ensure_apt_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  printf '==> installing %s\n' "${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "need root to install ${missing[*]} (run: sudo apt-get install -y ${missing[*]})" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  local options=(-y -qq)
  [ -n "${APT_NO_RECOMMENDS:-}" ] && options+=(--no-install-recommends)
  apt-get install "${options[@]}" "${missing[@]}" >&2
}

# What building upload-reaper needs beyond the Swift toolchain.
BUILD_PACKAGES=(libsystemd-dev pkg-config)
# What the tests run beyond the build: openssl makes the TLS tests' certificates, python3 runs
# scripts/lib/count-proxy.py for the proxy tests.
TEST_PACKAGES=(openssl python3)
