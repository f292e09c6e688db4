#!/usr/bin/env bash
# Refreshes the browser libraries in ui/vendor/ from the npm registry (npm pack), at the
# versions pinned below, and rewrites ui/vendor/LICENSES.md. Idempotent: running it twice
# leaves the tree unchanged. To upgrade a library, change its pin here and run it again.
set -euo pipefail
cd "$(dirname "$0")/.."

# package@version  file-in-package  file-in-ui/vendor
PINS=(
  "htm@3.1.1             preact/standalone.mjs           preact-htm.mjs"
  "cytoscape@3.34.4      dist/cytoscape.esm.min.mjs      cytoscape.mjs"
  "uplot@1.6.32          dist/uPlot.esm.js               uplot.mjs"
  "uplot@1.6.32          dist/uPlot.min.css              uplot.css"
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=ui/vendor
mkdir -p "$out/licenses"

{
  echo "# Vendored browser libraries"
  echo
  echo "Written by \`scripts/vendor-ui.sh\`; do not edit by hand. Licence texts are in \`licenses/\`."
  echo
  echo "| package | version | licence | files |"
  echo "|---|---|---|---|"
} >"$work/LICENSES.md"

declare -A seen=()
for pin in "${PINS[@]}"; do
  read -r spec src dst <<<"$pin"
  name=${spec%@*}
  version=${spec##*@}
  dir="$work/$name-$version"
  if [[ -z ${seen[$spec]:-} ]]; then
    mkdir -p "$dir"
    (cd "$work" && npm pack --silent "$spec" >/dev/null 2>&1)
    tar xzf "$work/$name-$version.tgz" -C "$dir"
    seen[$spec]=""
  fi
  # Source maps are not vendored: drop the comment that would make devtools ask for one.
  sed '/^\/\/# sourceMappingURL=/d' "$dir/package/$src" >"$out/$dst"
  seen[$spec]+="\`$dst\` "
done

for spec in $(printf '%s\n' "${!seen[@]}" | sort); do
  name=${spec%@*}
  version=${spec##*@}
  dir="$work/$name-$version/package"
  licence=$(node -p "require('$dir/package.json').license")
  for f in "$dir"/LICEN[CS]E*; do cp "$f" "$out/licenses/$name.txt"; done
  echo "| $name | $version | $licence | ${seen[$spec]% } |" >>"$work/LICENSES.md"
done
{
  echo
  echo "\`preact-htm.mjs\` is htm's standalone build, which bundles Preact (MIT) and its hooks."
} >>"$work/LICENSES.md"
cp "$work/LICENSES.md" "$out/LICENSES.md"
echo "vendored into $out:"
ls -l "$out" | tail -n +2
