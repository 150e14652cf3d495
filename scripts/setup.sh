#!/usr/bin/env bash
# Installs what auditree needs to build and test, from Debian 12 packages
# only. Safe to run again: it calls apt-get only when something is missing.
set -euo pipefail

packages=(
  g++ make cmake
  libcaf-dev            # C++ Actor Framework 0.17.6
  libaudit-dev libauparse-dev
  libboost-dev libboost-system-dev
  zlib1g-dev            # replay reads gzip (tests/data/corpus)
  catch2                # Catch2 v2
  python3               # integration test scripts
  python3-yaml          # the ECS conformance test reads ecs_flat.yml
  dpkg-dev              # cpack -G DEB: dpkg-shlibdeps computes Depends
  man-db groff-base     # man/auditree.8 is rendered by the tests
  clang libclang-rt-14-dev  # libFuzzer targets (scripts/fuzz.sh)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: run as root to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
