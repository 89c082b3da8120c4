#!/usr/bin/env bash
# Vendor GraphiQL's files again from the npm registry (needs npm): writes <package>-<version>/
# folders here and prints each file's size and SRI hash. Then follow README.md ("Updating").
#   bash gateway/static/graphiql/update.sh
#   REACT=18.3.1 GRAPHIQL=3.9.0 EXPLORER=3.2.6 bash gateway/static/graphiql/update.sh
set -euo pipefail
REACT=${REACT:-18.2.0}
GRAPHIQL=${GRAPHIQL:-3.8.3}
EXPLORER=${EXPLORER:-1.0.2}
GRAPHIQL_EXPLORER=${GRAPHIQL_EXPLORER:-0.9.0} # what @graphiql/plugin-explorer bundles

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

unpack() { # SPEC DIR: the npm package SPEC unpacked into $tmp/DIR
  local tgz
  tgz=$(cd "$tmp" && npm pack --silent "$1" | tail -n 1)
  mkdir -p "$tmp/$2"
  tar xzf "$tmp/$tgz" -C "$tmp/$2" --strip-components=1
}

unpack "react@$REACT" react
unpack "react-dom@$REACT" react-dom
unpack "graphiql@$GRAPHIQL" graphiql
unpack "@graphiql/plugin-explorer@$EXPLORER" explorer
unpack "graphiql-explorer@$GRAPHIQL_EXPLORER" graphiql-explorer

put() { # FOLDER FILE...: copy the files into $here/FOLDER
  local folder=$here/$1
  shift
  mkdir -p "$folder"
  cp "$@" "$folder/"
}

put "react-$REACT" "$tmp/react/umd/react.production.min.js" "$tmp/react/LICENSE"
put "react-dom-$REACT" "$tmp/react-dom/umd/react-dom.production.min.js" "$tmp/react-dom/LICENSE"
put "graphiql-$GRAPHIQL" "$tmp/graphiql/graphiql.min.js" "$tmp/graphiql/graphiql.min.css" \
  "$tmp/graphiql/LICENSE"
put "plugin-explorer-$EXPLORER" "$tmp/explorer/dist/index.umd.js" "$tmp/explorer/dist/style.css"
# The plugin's package has no LICENSE file: its package.json says MIT, its repository is
# GraphiQL's, and its UMD file bundles graphiql-explorer.
{
  echo "@graphiql/plugin-explorer $EXPLORER ships no LICENSE file; its package.json says \"license\": \"MIT\""
  echo "and its repository is github.com/graphql/graphiql, whose MIT licence follows (the same text"
  echo "as in graphiql $GRAPHIQL's LICENSE). index.umd.js bundles graphiql-explorer $GRAPHIQL_EXPLORER (MIT), whose"
  echo "LICENSE follows after it."
  echo
  echo "== graphql/graphiql"
  echo
  cat "$tmp/graphiql/LICENSE"
  echo
  echo "== graphiql-explorer $GRAPHIQL_EXPLORER"
  echo
  cat "$tmp/graphiql-explorer/LICENSE"
} >"$here/plugin-explorer-$EXPLORER/LICENSE"

cd "$here"
for file in react-"$REACT"/*.js react-dom-"$REACT"/*.js graphiql-"$GRAPHIQL"/*.min.* \
  plugin-explorer-"$EXPLORER"/*.js plugin-explorer-"$EXPLORER"/*.css page.css page.js; do
  printf '%-48s %9s  sha384-%s\n' "$file" "$(wc -c <"$file")" \
    "$(openssl dgst -sha384 -binary "$file" | openssl base64 -A)"
done
