#!/usr/bin/env bash
# Two clones on this machine that keep each other in sync, each with its own agent, peers of each
# other (no server, no account). Edit files in either folder and watch them appear in the other.
#   bash examples/two-local-clones.sh [DIR]      (default: a new temp dir)
# Stop with: git-autosync -C DIR/left stop; git-autosync -C DIR/right stop
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cli="node $here/dist/src/cli/main.js"
[ -f "$here/dist/src/cli/main.js" ] || (cd "$here" && npm run build >/dev/null)
dir=${1:-$(mktemp -d -t git-autosync-example-XXXX)}
mkdir -p "$dir"
git init -q -b main "$dir/left"
echo "shared notes" > "$dir/left/README.txt"
git -C "$dir/left" add README.txt
git -C "$dir/left" -c user.name=example -c user.email=example@localhost commit -q -m start
git clone -q "$dir/left" "$dir/right"
git -C "$dir/right" remote rename origin left
git -C "$dir/left" remote add right "$dir/right"
for side in left right; do
  $cli -C "$dir/$side" init --yes >/dev/null
  $cli -C "$dir/$side" start
done
cp "$dir/left/.git/autosync/key" "$dir/right/.git/autosync/key"
echo "Edit files in $dir/left or $dir/right; 'git-autosync -C $dir/left status' shows the agent."
