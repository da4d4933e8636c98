#!/usr/bin/env python3
"""Checks that Strata's .proto files (Sources/StrataGRPCProtocol/Proto/qdrant) describe the same
gRPC interface as the official Python client, qdrant-client 1.20.0.

The client ships its generated modules (qdrant_client/grpc/*_pb2.py) with the serialized
FileDescriptorProto of every file it was built from. This script compiles our files with
`protoc --descriptor_set_out`, flattens both sides into comparable entries and prints every
difference:

  files      name, package, syntax, imports
  messages   existence, nesting, map entries, `option deprecated`, reserved numbers and names
  fields     number, type, label, type name, `optional` (proto3_optional), oneof membership,
             JSON name, `deprecated`, `packed`
  oneofs     members (synthetic `optional` oneofs included)
  enums      values, numbers, `deprecated`, `allow_alias`
  services   methods: request and response types, streaming, `deprecated`

Comments and file options (csharp_namespace, java_outer_classname, ...) are not compared:
they change neither the wire format nor the gRPC method paths.

Usage (needs protoc and a Python with qdrant-client==1.20.0, which brings protobuf):
    python3 -m venv /tmp/venv-qc && /tmp/venv-qc/bin/pip install qdrant-client==1.20.0
    /tmp/venv-qc/bin/python scripts/check-grpc-protos.py [--protoc PATH] [--include DIR] [--proto-dir DIR]
Exits 0 when there are no differences, 1 otherwise.
"""

import argparse
import importlib
import os
import shutil
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROTO_DIR = os.path.join(ROOT, "Sources", "StrataGRPCProtocol", "Proto", "qdrant")
EXPECTED_CLIENT = "1.20."
# The files of the client's qdrant_client/grpc package (one _pb2 module each).
FILES = [
    "json_with_int.proto",
    "qdrant_common.proto",
    "collections.proto",
    "collections_service.proto",
    "points.proto",
    "points_service.proto",
    "snapshots_service.proto",
    "qdrant.proto",
]
F = descriptor_pb2.FieldDescriptorProto


def json_name(field):
    """The JSON name protoc derives when none is given (lowerCamelCase of the field name)."""
    if field.HasField("json_name"):
        return field.json_name
    out, upper = [], False
    for ch in field.name:
        if ch == "_":
            upper = True
        else:
            out.append(ch.upper() if upper else ch)
            upper = False
    return "".join(out)


def flatten(fd):
    """Maps entry keys ("message qdrant.Foo", "field qdrant.Foo.bar", ...) to property dicts."""
    entries = {}
    pkg = "." + fd.package if fd.package else ""
    entries["file " + fd.name] = {
        "package": fd.package,
        "syntax": fd.syntax or "proto2",
        "imports": sorted(fd.dependency),
    }

    def enum(e, scope):
        name = scope + "." + e.name
        entries["enum " + name[1:]] = {
            "file": fd.name,
            "allow_alias": e.options.allow_alias,
            "deprecated": e.options.deprecated,
            "reserved": sorted((r.start, r.end) for r in e.reserved_range),
            "reserved_names": sorted(e.reserved_name),
        }
        for v in e.value:
            entries["enum value " + name[1:] + "." + v.name] = {
                "number": v.number,
                "deprecated": v.options.deprecated,
            }

    def message(m, scope):
        name = scope + "." + m.name
        entries["message " + name[1:]] = {
            "file": fd.name,
            "map_entry": m.options.map_entry,
            "deprecated": m.options.deprecated,
            "reserved": sorted((r.start, r.end) for r in m.reserved_range),
            "reserved_names": sorted(m.reserved_name),
            "fields": len(m.field),
        }
        members = {}
        for f in m.field:
            oneof = m.oneof_decl[f.oneof_index].name if f.HasField("oneof_index") else None
            if oneof is not None:
                members.setdefault(oneof, []).append(f.name)
            entries["field " + name[1:] + "." + f.name] = {
                "number": f.number,
                "type": F.Type.Name(f.type),
                "label": F.Label.Name(f.label),
                "type_name": f.type_name,
                "proto3_optional": f.proto3_optional,
                "oneof": oneof,
                "json_name": json_name(f),
                "deprecated": f.options.deprecated,
                "packed": f.options.packed if f.options.HasField("packed") else None,
            }
        for i, o in enumerate(m.oneof_decl):
            entries["oneof " + name[1:] + "." + o.name] = {"index": i, "members": members.get(o.name, [])}
        for n in m.nested_type:
            message(n, name)
        for e in m.enum_type:
            enum(e, name)

    for m in fd.message_type:
        message(m, pkg)
    for e in fd.enum_type:
        enum(e, pkg)
    for s in fd.service:
        sname = (fd.package + "." if fd.package else "") + s.name
        entries["service " + sname] = {"file": fd.name, "methods": [m.name for m in s.method]}
        for m in s.method:
            # The gRPC path a client calls is /<package>.<Service>/<Method>.
            entries["method /%s/%s" % (sname, m.name)] = {
                "input": m.input_type,
                "output": m.output_type,
                "client_streaming": m.client_streaming,
                "server_streaming": m.server_streaming,
                "deprecated": m.options.deprecated,
            }
    return entries


def client_descriptors():
    import qdrant_client  # noqa: F401  (fails early with a clear message when missing)
    from importlib import metadata

    version = metadata.version("qdrant-client")
    result = {}
    for name in FILES:
        module = importlib.import_module("qdrant_client.grpc." + name[: -len(".proto")] + "_pb2")
        result[name] = descriptor_pb2.FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb)
    return version, result


def our_descriptors(proto_dir, protoc, includes):
    ours = sorted(f for f in os.listdir(proto_dir) if f.endswith(".proto"))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "set.pb")
        cmd = [protoc, "-I", proto_dir] + ["-I" + i for i in includes] + ["--descriptor_set_out=" + out] + ours
        subprocess.run(cmd, check=True, cwd=proto_dir)
        fds = descriptor_pb2.FileDescriptorSet.FromString(open(out, "rb").read())
    return {f.name: f for f in fds.file}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--protoc", default=os.environ.get("PROTOC", "protoc"))
    parser.add_argument("--proto-dir", default=PROTO_DIR, help="the .proto files to check (default: ours)")
    parser.add_argument(
        "--include", action="append", default=[],
        help="extra include directory for google/protobuf/*.proto (default: /usr/include if it has them)")
    args = parser.parse_args()
    protoc = shutil.which(args.protoc) or args.protoc
    includes = args.include or [d for d in ["/usr/include", "/usr/local/include"]
                                if os.path.exists(os.path.join(d, "google/protobuf/timestamp.proto"))]

    version, theirs = client_descriptors()
    ours = our_descriptors(args.proto_dir, protoc, includes)
    protoc_version = subprocess.run([protoc, "--version"], capture_output=True, text=True).stdout.strip()
    print("reference: qdrant-client %s (qdrant_client/grpc/*_pb2.py)" % version)
    print("ours:      %s, compiled with %s" % (os.path.relpath(args.proto_dir, ROOT), protoc_version))

    differences = []
    if not version.startswith(EXPECTED_CLIENT):
        differences.append("qdrant-client is %s, expected %sx" % (version, EXPECTED_CLIENT))
    extra = sorted(set(ours) - set(FILES))
    if extra:
        differences.append("files not in the client: %s" % ", ".join(extra))

    counts = {}
    for name in FILES:
        if name not in ours:
            differences.append("missing file %s" % name)
            continue
        a, b = flatten(theirs[name]), flatten(ours[name])
        for key in sorted(set(a) | set(b)):
            kind = key.split(" ")[0] if not key.startswith("enum value") else "enum value"
            counts[kind] = counts.get(kind, 0) + 1
            if key not in b:
                differences.append("%s: missing %s" % (name, key))
            elif key not in a:
                differences.append("%s: extra %s" % (name, key))
            else:
                for prop in sorted(set(a[key]) | set(b[key])):
                    if a[key].get(prop) != b[key].get(prop):
                        differences.append("%s: %s: %s is %r, client has %r"
                                           % (name, key, prop, b[key].get(prop), a[key].get(prop)))

    print("compared:  " + ", ".join("%d %ss" % (counts[k], k) for k in
                                    ["file", "message", "field", "oneof", "enum", "enum value", "service", "method"]
                                    if k in counts))
    for d in differences:
        print("DIFF " + d)
    print("%d difference%s" % (len(differences), "" if len(differences) == 1 else "s"))
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
