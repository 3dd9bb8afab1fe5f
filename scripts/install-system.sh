#!/usr/bin/env bash
# Installs the Debian packages Chorus needs (idempotent; root on Debian bookworm).
# Usage: scripts/install-system.sh [core|cpp|csharp|web|all]
#   core   valkey-server/valkey-cli (bookworm-backports)
#   cpp    protobuf + gRPC C++ toolchain (libgrpc++-dev, protobuf-compiler-grpc)
#   csharp mono-complete (mcs + runtime)
#   web    chromium (headless browser for the dashboard's tests)
set -euo pipefail
what=${1:-core}
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

need=()
case "$what" in
  core)   command -v valkey-server >/dev/null && command -v valkey-cli >/dev/null || need+=(valkey) ;;
  cpp)    { [ -f /usr/include/grpcpp/grpcpp.h ] && command -v grpc_cpp_plugin >/dev/null; } || need+=(cpp) ;;
  csharp) command -v mcs >/dev/null || need+=(csharp) ;;
  web)    [ -x /usr/bin/chromium ] || need+=(web) ;;
  all)    bash "$0" core && bash "$0" cpp && bash "$0" csharp && bash "$0" web; exit $? ;;
  *) echo "usage: $0 [core|cpp|csharp|web|all]" >&2; exit 2 ;;
esac
[ ${#need[@]} -eq 0 ] && exit 0

if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/backports.list >/dev/null
fi
stamp=/var/lib/apt/periodic/chorus-update-stamp
if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +720 2>/dev/null)" ]; then
  $SUDO apt-get update -qq
  $SUDO mkdir -p "$(dirname "$stamp")" && $SUDO touch "$stamp"
fi
export DEBIAN_FRONTEND=noninteractive
case "${need[0]}" in
  valkey) $SUDO apt-get install -y -qq -t bookworm-backports valkey-server valkey-tools >/dev/null ;;
  cpp)    $SUDO apt-get install -y -qq libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev pkg-config >/dev/null ;;
  csharp) $SUDO apt-get install -y -qq mono-complete >/dev/null ;;
  web)    $SUDO apt-get install -y -qq chromium >/dev/null ;;
esac
