# Sourced (`source scripts/node.sh`) by scripts/start.sh, scripts/test.sh, scripts/run.sh and
# .ci/run: makes `node`, `npm` and `npx` run on Node.js 24 LTS. The machine's node is used when
# its major is 24 or newer; otherwise the npm registry's node-<os>-<arch> package of
# SAS_NODE_VERSION (one binary, checked against the registry's integrity hash by npm pack) is
# installed once into the git-ignored cache .stack/node/<version>/ and its bin/ put first on
# PATH, so the machine's npm and npx (#!/usr/bin/env node) run on it too.
# If that install is impossible (no npm, offline), a machine node of 22 or 23 is used with one
# warning; anything older stops the calling script with one line saying what to install.
# Also defines sas_ensure_node_modules (below).

SAS_NODE_VERSION=24.22.3   # the one place the project's Node version is pinned

_sas_node_setup() {
  local want_major="${SAS_NODE_VERSION%%.*}"
  local root found="" major=0
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  if command -v node > /dev/null 2>&1; then
    found="$(node --version 2>/dev/null || true)"
    major="${found#v}"; major="${major%%.*}"
    [[ "$major" =~ ^[0-9]+$ ]] || major=0
  fi
  [ "$major" -ge "$want_major" ] && return 0

  local os arch
  case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) os="$(uname -s | tr '[:upper:]' '[:lower:]')" ;; esac
  case "$(uname -m)" in x86_64|amd64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac
  local pkg="node-$os-$arch@$SAS_NODE_VERSION"
  local dir="$root/.stack/node/$SAS_NODE_VERSION"

  if [ "$("$dir/bin/node" --version 2>/dev/null)" != "v$SAS_NODE_VERSION" ]; then
    # Fetch into a temporary directory next to the cache, then rename: a run interrupted
    # half-way, or a second run at the same time, never sees a partial install.
    local tmp=""
    mkdir -p "$root/.stack/node" 2>/dev/null && tmp="$(mktemp -d "$root/.stack/node/.tmp.XXXXXX" 2>/dev/null)" || tmp=""
    if [ -n "$tmp" ] && command -v npm > /dev/null 2>&1 \
      && (cd "$tmp" && npm pack "$pkg" --silent --no-fund --no-audit --fetch-retries=1) > "$tmp/npm.log" 2>&1 \
      && tar -xzf "$tmp"/node-*.tgz -C "$tmp" 2>> "$tmp/npm.log" \
      && [ "$("$tmp/package/bin/node" --version 2>/dev/null)" = "v$SAS_NODE_VERSION" ]; then
      if [ "$("$dir/bin/node" --version 2>/dev/null)" != "v$SAS_NODE_VERSION" ]; then   # else a concurrent run won
        rm -rf "$dir"   # a broken earlier install, if any
        mv "$tmp/package" "$dir" 2>/dev/null || true   # checked below
      fi
    fi
    [ -n "$tmp" ] && rm -rf "$tmp"
    if [ "$("$dir/bin/node" --version 2>/dev/null)" != "v$SAS_NODE_VERSION" ]; then
      if [ "$major" -ge 22 ]; then
        echo "warning: could not fetch $pkg from the npm registry; continuing on the machine's Node $found (the project targets Node $want_major LTS)" >&2
        return 0
      fi
      echo "Node.js $want_major LTS is required (found ${found:-no node} and could not fetch $pkg from the npm registry): install it from https://nodejs.org or your package manager" >&2
      return 1
    fi
    echo "Node v$SAS_NODE_VERSION installed into .stack/node/$SAS_NODE_VERSION (the machine's node is ${found:-absent})" >&2
  fi
  export PATH="$dir/bin:$PATH"
  # node-gyp (native addons built by npm ci) takes the headers shipped in the package
  # instead of downloading them from nodejs.org.
  export npm_config_nodedir="$dir"
  hash -r
}

if ! _sas_node_setup; then
  unset -f _sas_node_setup
  # Sourced from an interactive shell: fail the source, not the shell.
  if [[ $- == *i* ]] && [ "${BASH_SOURCE[0]}" != "$0" ]; then return 1; fi
  exit 1
fi
unset -f _sas_node_setup

# node_modules holds native addons built for the Node that installed it (ssh2, cpu-features:
# node-gyp, per Node ABI). The root package.json's postinstall records that Node's major in
# node_modules/.node-major; install again when it is missing or not the one running now.
sas_ensure_node_modules() {
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ -d node_modules ] && [ "$(cat node_modules/.node-major 2>/dev/null)" = "$major" ] && return 0
  [ -d node_modules ] && echo "node_modules was installed by another Node major: npm ci on Node $major" >&2
  npm ci --no-audit --no-fund
}
