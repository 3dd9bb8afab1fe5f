#!/usr/bin/env bash
# Copies the third-party .proto files Chorus imports from pinned packages into .thirdparty/proto
# (git-ignored; their text is never committed):
#   buf/validate/validate.proto  from the Go module github.com/bufbuild/protovalidate
#   google/api/*.proto           from the PyPI package googleapis-common-protos
# Well-known types (google/protobuf/*) are built into buf.
set -euo pipefail
PROTOVALIDATE_VERSION=v1.2.2
GOOGLEAPIS_VERSION=1.72.0
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/.thirdparty/proto"
stamp="$out/.stamp-$PROTOVALIDATE_VERSION-$GOOGLEAPIS_VERSION"
[ -f "$stamp" ] && exit 0
rm -rf "$out" && mkdir -p "$out/buf/validate" "$out/google/api"

dir=$(cd "$root" && go mod download -json "github.com/bufbuild/protovalidate@$PROTOVALIDATE_VERSION" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
cp "$dir/proto/protovalidate/buf/validate/validate.proto" "$out/buf/validate/"

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 -m pip download -q --no-deps -d "$tmp" "googleapis-common-protos==$GOOGLEAPIS_VERSION"
python3 - "$tmp" "$out" <<'PY'
import glob, sys, zipfile
tmp, out = sys.argv[1], sys.argv[2]
whl = glob.glob(tmp + "/googleapis_common_protos-*.whl")[0]
with zipfile.ZipFile(whl) as z:
    for name in ("annotations", "http", "httpbody", "field_behavior"):
        with open(f"{out}/google/api/{name}.proto", "wb") as f:
            f.write(z.read(f"google/api/{name}.proto"))
PY
touch "$stamp"
