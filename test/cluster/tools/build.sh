#!/usr/bin/env bash
# Builds the test control plane's binaries from their Go wrapper modules and caches them outside the repo.
#
# Each tool lands in $TOOLS_CACHE/<tool>-<version>-<hash>/<tool>, where the hash covers the wrapper's go.mod,
# go.sum, main.go and link flags, so a changed wrapper builds anew and an unchanged one is reused by later runs,
# sessions and CI on the same machine. The Go build cache ($GOCACHE) is shared, so the three binaries from
# k8s.io/kubernetes compile their common packages once. Prints the folder of the binaries as its last line.
#
# Usage: build.sh [tool ...]   (default: every tool of the test cluster; helm only when named: build.sh helm)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tenant-operator/tools}"
bin_dir="$cache/bin"
mkdir -p "$bin_dir"

kubernetes_version=v1.37.2
etcd_version=v3.6.17
kwok_version=v0.8.0
helm_version=v3.22.0
build_date=2026-01-01T00:00:00Z

kubernetes_ldflags() {
  local minor
  minor="$(echo "$kubernetes_version" | cut -d. -f2)"
  local flags=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$kubernetes_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date -X $pkg.gitCommit=release-$kubernetes_version"
  done
  echo "$flags"
}

version_of() {
  case "$1" in
    etcd) echo "$etcd_version" ;;
    kwok) echo "$kwok_version" ;;
    helm) echo "$helm_version" ;;
    *) echo "$kubernetes_version" ;;
  esac
}

ldflags_of() {
  case "$1" in
    etcd) echo "-X go.etcd.io/etcd/api/v3/version.GitSHA=release-$etcd_version" ;;
    kwok) echo "" ;;
    helm) helm_ldflags ;;
    *) kubernetes_ldflags ;;
  esac
}

# The flags of helm's own Makefile: its version, and the Kubernetes version (from its client-go, v0.X -> 1.X)
# that `helm template` and `helm lint` assume when no cluster is asked.
helm_ldflags() {
  local minor
  minor="$(cd "$here/helm" && go list -m -f '{{.Version}}' k8s.io/client-go | cut -d. -f2)"
  echo "-X helm.sh/helm/v3/internal/version.version=$helm_version -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
    "-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor" \
    "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor"
}

# Helm v3's command is package main of its module, which a wrapper cannot import. So helm is built by package
# path from inside its wrapper module, whose go.mod and go.sum pin it. The other wrappers build themselves.
package_of() {
  case "$1" in
    helm) echo "helm.sh/helm/v3/cmd/helm" ;;
    *) echo "." ;;
  esac
}

build_tool() {
  local tool="$1"
  local version ldflags hash target
  version="$(version_of "$tool")"
  ldflags="-s -w $(ldflags_of "$tool")"
  hash="$(cat "$here/$tool/go.mod" "$here/$tool/go.sum" "$here/$tool/main.go" <(echo "$ldflags") | sha256sum | cut -c1-12)"
  target="$cache/$tool-$version-$hash/$tool"

  if [[ ! -x "$target" ]]; then
    local started=$SECONDS
    echo "building $tool $version (first build of this version; later runs reuse $cache)" >&2
    (
      cd "$here/$tool"
      # A progress line every 30 s, since a cold build of the Kubernetes binaries takes many minutes.
      (while sleep 30; do echo "  still building $tool ($((SECONDS - started)) s)" >&2; done) &
      ticker=$!
      trap 'kill $ticker 2>/dev/null' EXIT
      CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath -ldflags "$ldflags" -o "$target.tmp" "$(package_of "$tool")"
    )
    mv "$target.tmp" "$target"
    echo "built $tool in $((SECONDS - started)) s" >&2
  fi

  ln -sfn "$target" "$bin_dir/$tool"
  if [[ "$tool" == kwok ]]; then
    write_kwok_stages
  fi
}

# kwok needs Stage definitions for node and pod lifecycles; use the "fast" ones its module ships, so that
# nodes turn Ready with lease heartbeats and pods turn Running and Ready as soon as they are scheduled.
write_kwok_stages() {
  local module_dir stages
  module_dir="$(cd "$here/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
  stages="$module_dir/kustomize/stage"
  for file in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    echo "---"
    cat "$stages/$file"
  done >"$bin_dir/kwok-stages.yaml.tmp"
  mv "$bin_dir/kwok-stages.yaml.tmp" "$bin_dir/kwok-stages.yaml"
}

tools=("$@")
if [[ ${#tools[@]} -eq 0 ]]; then
  tools=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)
fi
for tool in "${tools[@]}"; do
  build_tool "$tool"
done
echo "$bin_dir"
