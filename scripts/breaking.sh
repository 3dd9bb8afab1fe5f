#!/usr/bin/env bash
# `make breaking`: buf breaking on proto/ (the working tree, uncommitted edits included) against the
# version it must stay compatible with, chosen so that the check runs, and means something, in every
# checkout:
#   - on a branch other than main: the merge-base with main. Against main's tip, what main gained since
#     the branch forked would read as removed by the branch; the merge-base is what the branch changes.
#   - on main (HEAD is main's tip): HEAD's first parent, i.e. main before its last commit or merge.
#     Against main itself nothing could ever differ.
#   - a checkout with no local main (a CI clone of one branch): origin/main, by the same rules.
#   - a clone too shallow to hold the base (one commit): HEAD, so uncommitted edits are still checked,
#     and it says so. Fetch more history (git fetch --deepen / --unshallow) for a real comparison.
# The base's proto/ and buf.yaml come out of git (git archive), so this works in a worktree too, and
# the third-party imports come from .thirdparty/proto (make protos).
set -euo pipefail
cd "$(dirname "$0")/.."
buf=${BUF:-bin/buf}

main=""
for ref in refs/heads/main refs/remotes/origin/main; do
  if git rev-parse -q --verify "$ref^{commit}" >/dev/null; then main=$ref; break; fi
done

head=$(git rev-parse HEAD)
base="" why=""
if [ -n "$main" ] && [ "$(git rev-parse "$main")" != "$head" ]; then
  if base=$(git merge-base HEAD "$main"); then
    why="the merge-base of HEAD and ${main#refs/*/}"
  fi
fi
if [ -z "$base" ] && base=$(git rev-parse -q --verify "HEAD^1^{commit}"); then
  if [ -n "$main" ]; then
    why="HEAD's first parent: HEAD is the tip of ${main#refs/*/}, so what its last commit or merge changed"
  else
    why="HEAD's first parent: this clone has no main branch, so only what the last commit changed"
  fi
fi
if [ -z "$base" ]; then
  base=$head
  why="HEAD: this clone holds no earlier commit, so only uncommitted edits are checked (git fetch --deepen=50 for more)"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git archive "$base" buf.yaml proto | tar -x -C "$tmp"
mkdir -p "$tmp/.thirdparty"
ln -s "$PWD/.thirdparty/proto" "$tmp/.thirdparty/proto"
echo "breaking: proto/ against $(git rev-parse --short "$base"), $why"
"$buf" breaking --against "$tmp"
echo "breaking: no breaking change"
