#!/usr/bin/env bash
# Regenerates the committed Swift code of the StrataGRPCProtocol target from its .proto files
# (docs/format/grpc.md):
#   Sources/StrataGRPCProtocol/Proto/qdrant/*.proto  ->  Sources/StrataGRPCProtocol/Generated/
# Messages come from protoc-gen-swift (swift-protobuf 1.39.0), one NAME.pb.swift per .proto file;
# services from protoc-gen-grpc-swift-2 (grpc-swift-protobuf 2.4.1), one NAME.grpc.swift per
# .proto file that declares a service. CI never runs this: the generated code is committed.
#
# Usage:
#   PROTOC_GEN_SWIFT=/path/protoc-gen-swift PROTOC_GEN_GRPC_SWIFT=/path/protoc-gen-grpc-swift-2 \
#     scripts/generate-grpc.sh
# Without those two variables the plugins are built first from grpc-swift-protobuf 2.4.1 (with
# swift-protobuf pinned to 1.39.0) in .build-protoc-plugins/ (PLUGIN_SCRATCH overrides), which
# takes up to about 10 minutes on 2 cores (44 s when measured here, the packages already on the
# machine); later runs reuse that build.
# Needs protoc (PROTOC overrides; Debian's protobuf-compiler 3.21.12 was used) and the well-known
# types (google/protobuf/timestamp.proto, from libprotobuf-dev; PROTO_INCLUDE overrides).
# protoc warns that qdrant.proto's three imports are unused: they are kept on purpose, the
# client's qdrant.proto has them too.
set -euo pipefail
cd "$(dirname "$0")/.."

grpc_swift_protobuf_version=2.4.1
swift_protobuf_version=1.39.0
proto_dir=Sources/StrataGRPCProtocol/Proto/qdrant
out_dir=Sources/StrataGRPCProtocol/Generated
protoc=${PROTOC:-protoc}

if [ -z "${PROTOC_GEN_SWIFT:-}" ] || [ -z "${PROTOC_GEN_GRPC_SWIFT:-}" ]; then
    scratch=${PLUGIN_SCRATCH:-.build-protoc-plugins}
    checkout="$scratch/grpc-swift-protobuf"
    echo "generate-grpc: building the protoc plugins in $scratch (up to about 10 minutes the first time)" >&2
    if [ ! -d "$checkout" ]; then
        mkdir -p "$scratch"
        git -c advice.detachedHead=false clone --quiet --branch "$grpc_swift_protobuf_version" \
            https://github.com/grpc/grpc-swift-protobuf "$checkout"
    fi
    (
        cd "$checkout"
        swift package resolve
        swift package resolve swift-protobuf --version "$swift_protobuf_version"
        swift build --product protoc-gen-grpc-swift-2
        swift build --product protoc-gen-swift
    )
    bin=$(cd "$checkout" && swift build --show-bin-path)
    PROTOC_GEN_SWIFT=${PROTOC_GEN_SWIFT:-$bin/protoc-gen-swift}
    PROTOC_GEN_GRPC_SWIFT=${PROTOC_GEN_GRPC_SWIFT:-$bin/protoc-gen-grpc-swift-2}
fi

# The versions the committed code came from; another version may generate different code.
for expected in "$PROTOC_GEN_SWIFT:protoc-gen-swift $swift_protobuf_version" \
    "$PROTOC_GEN_GRPC_SWIFT:protoc-gen-grpc-swift-2 $grpc_swift_protobuf_version"; do
    plugin=${expected%%:*} want=${expected#*:}
    have=$("$plugin" --version)
    [ "$have" = "$want" ] || echo "generate-grpc: warning: $plugin is '$have', the committed code is from '$want'" >&2
done

includes=(-I "$proto_dir")
if [ -n "${PROTO_INCLUDE:-}" ]; then
    includes+=(-I "$PROTO_INCLUDE")
elif [ -f /usr/include/google/protobuf/timestamp.proto ]; then
    includes+=(-I /usr/include)
fi

protos=()
services=()
for file in "$proto_dir"/*.proto; do
    protos+=("$(basename "$file")")
    if grep -q '^service ' "$file"; then services+=("$(basename "$file")"); fi
done

rm -rf "$out_dir"
mkdir -p "$out_dir"
echo "generate-grpc: $("$protoc" --version), ${#protos[@]} files, ${#services[@]} with services" >&2
"$protoc" "${includes[@]}" \
    --plugin=protoc-gen-swift="$PROTOC_GEN_SWIFT" \
    --swift_out="$out_dir" \
    --swift_opt=Visibility=Public,FileNaming=DropPath \
    "${protos[@]/#/$proto_dir/}"
"$protoc" "${includes[@]}" \
    --plugin=protoc-gen-grpc-swift="$PROTOC_GEN_GRPC_SWIFT" \
    --grpc-swift_out="$out_dir" \
    --grpc-swift_opt=Visibility=Public,Server=true,Client=true,FileNaming=DropPath \
    "${services[@]/#/$proto_dir/}"
echo "generate-grpc: wrote $(ls "$out_dir" | wc -l) files to $out_dir" >&2
