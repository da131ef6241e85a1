#!/usr/bin/env bash
# Installs what tests/kubernetes/ needs, skipping what is already there:
#   - a kubectl on PATH (Debian's kubernetes-client when there is none),
#   - Debian's kubernetes-client unpacked (not installed) into .tools/kubernetes/debian/, so the
#     manifests are also rendered by its old embedded Kustomize (v2.0.3), whatever kubectl is on
#     PATH,
#   - kubernetes-validate (PyPI, with the Kubernetes JSON schemas) in .tools/kubernetes/venv/.
# Safe to run again; every network step is bounded in time. Prints what it does.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

KUBERNETES_VALIDATE_VERSION=1.37.0
TOOLS=.tools/kubernetes
say() { printf '\033[1mkubernetes-tools:\033[0m %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "kubernetes-tools: need root (or sudo) to run: $*" >&2; exit 1; fi
}

apt_updated=
apt_update() {
  if [ -z "$apt_updated" ]; then
    as_root timeout 300 apt-get update -qq
    apt_updated=1
  fi
}

mkdir -p "$TOOLS"

# kubectl on PATH: whichever the machine has, else Debian's.
if ! command -v kubectl >/dev/null; then
  say "installing kubectl (Debian's kubernetes-client)"
  apt_update
  as_root env DEBIAN_FRONTEND=noninteractive timeout 600 \
    apt-get install -y -qq --no-install-recommends kubernetes-client
fi

# Debian's kubectl, unpacked: its Kustomize is the oldest one the manifests must render with.
if [ ! -x "$TOOLS/debian/usr/bin/kubectl" ]; then
  say "unpacking Debian's kubernetes-client into $TOOLS/debian"
  download=$(mktemp -d)
  trap 'rm -rf "$download"' EXIT
  # apt-get download writes to the current directory; _apt must be able to write there.
  chmod 777 "$download"
  if ! (cd "$download" && timeout 300 apt-get download -qq kubernetes-client 2>/dev/null); then
    apt_update
    (cd "$download" && timeout 300 apt-get download -qq kubernetes-client)
  fi
  rm -rf "$TOOLS/debian.partial"
  dpkg-deb -x "$download"/kubernetes-client_*.deb "$TOOLS/debian.partial"
  rm -rf "$TOOLS/debian"
  mv "$TOOLS/debian.partial" "$TOOLS/debian"
fi

# kubernetes-validate in a project-local virtual environment.
venv="$TOOLS/venv"
if [ "$("$venv/bin/kubernetes-validate" --version 2>/dev/null)" != "$KUBERNETES_VALIDATE_VERSION" ]; then
  say "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION into $venv"
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    apt_update
    as_root env DEBIAN_FRONTEND=noninteractive timeout 600 \
      apt-get install -y -qq --no-install-recommends python3-venv
  fi
  rm -rf "$venv"
  timeout 300 python3 -m venv "$venv"
  timeout 600 "$venv/bin/pip" install -q --disable-pip-version-check \
    "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
fi

say "ready: $(kubectl version --client 2>/dev/null | head -1) on PATH;" \
  "Debian's $("$TOOLS/debian/usr/bin/kubectl" version --client --short 2>/dev/null || true);" \
  "kubernetes-validate $("$venv/bin/kubernetes-validate" --version)"
