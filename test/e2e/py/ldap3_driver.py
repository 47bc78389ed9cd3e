#!/usr/bin/python3
"""Drives python3-ldap3 (Debian's) for the end-to-end tests: one JSON command per stdin line, one JSON answer per
stdout line. Keeps named connections open between commands, so a test can bind, act on the core, then search on
the same connection. Never prints passwords; errors are reported as the exception class and message.

Command: {"id": n, "op": <name>, "conn": <name>, ...}. Answer: {"id": n, "ok": true, ...} or
{"id": n, "ok": false, "error": "<ExceptionClass>", "message": "..."}.
"""
import json
import ssl
import sys

import ldap3
from ldap3 import ALL, BASE, LEVEL, NONE, SUBTREE, Connection, Server, Tls

SCOPES = {"base": BASE, "one": LEVEL, "sub": SUBTREE}
connections = {}


def text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def entries_of(conn):
    out = []
    for item in conn.response or []:
        if item.get("type") != "searchResEntry":
            continue
        raw = item.get("raw_attributes") or {}
        out.append({"dn": item["dn"], "attributes": {k: [text(v) for v in vs] for k, vs in raw.items()}})
    return out


def result_of(conn):
    r = conn.result or {}
    return {"result": r.get("result"), "description": r.get("description"), "message": r.get("message", "")}


def op_open(cmd):
    tls = None
    if cmd.get("ca"):
        tls = Tls(ca_certs_file=cmd["ca"], validate=ssl.CERT_REQUIRED)
    server = Server(
        cmd["host"],
        port=int(cmd["port"]),
        use_ssl=bool(cmd.get("ssl", False)),
        tls=tls,
        get_info=ALL if cmd.get("info") == "all" else NONE,
        connect_timeout=5,
    )
    conn = Connection(server, raise_exceptions=False, receive_timeout=10, auto_referrals=False)
    conn.open()
    connections[cmd["conn"]] = conn
    return {}


def op_bind(cmd):
    conn = connections[cmd["conn"]]
    # rebind() works on an open connection whether or not it was bound before.
    ok = conn.rebind(user=cmd.get("user"), password=cmd.get("password"))
    return {"bound": bool(ok), **result_of(conn)}


def op_start_tls(cmd):
    conn = connections[cmd["conn"]]
    return {"started": bool(conn.start_tls()), **result_of(conn)}


def op_search(cmd):
    conn = connections[cmd["conn"]]
    conn.search(
        cmd["base"],
        cmd.get("filter", "(objectClass=*)"),
        search_scope=SCOPES[cmd.get("scope", "sub")],
        attributes=cmd.get("attributes", ["*"]),
        size_limit=int(cmd.get("sizeLimit", 0)),
    )
    return {"entries": entries_of(conn), **result_of(conn)}


def op_paged(cmd):
    conn = connections[cmd["conn"]]
    items = conn.extend.standard.paged_search(
        cmd["base"],
        cmd.get("filter", "(objectClass=*)"),
        search_scope=SCOPES[cmd.get("scope", "sub")],
        attributes=cmd.get("attributes", ["cn"]),
        paged_size=int(cmd["pageSize"]),
        generator=False,
    )
    dns = [item["dn"] for item in items if item.get("type") == "searchResEntry"]
    return {"dns": dns, **result_of(conn)}


def op_whoami(cmd):
    conn = connections[cmd["conn"]]
    value = conn.extend.standard.who_am_i()
    return {"whoami": None if value is None else text(value), **result_of(conn)}


def op_schema(cmd):
    server = connections[cmd["conn"]].server
    schema = server.schema
    info = server.info
    if schema is None:
        return {"schema": None}
    user_class = schema.object_classes.get("goauthentik.io/ldap/user")
    return {
        "schema": {
            "valid": bool(schema.is_valid()),
            "objectClasses": sorted({name for oc in schema.object_classes.values() for name in (oc.name or [])}),
            "attributeTypes": len(schema.attribute_types),
            "userClassOid": None if user_class is None else user_class.oid,
            "userClassMay": [] if user_class is None else list(user_class.may_contain or []),
        },
        "rootDse": None if info is None else {
            "namingContexts": [text(v) for v in (info.naming_contexts or [])],
            "supportedExtensions": [text(v[0]) for v in (info.supported_extensions or [])],
        },
    }


def op_close(cmd):
    conn = connections.pop(cmd["conn"], None)
    if conn is not None:
        try:
            conn.unbind()
        except Exception:  # already closed by the server
            pass
    return {}


OPS = {
    "open": op_open,
    "bind": op_bind,
    "startTls": op_start_tls,
    "search": op_search,
    "paged": op_paged,
    "whoami": op_whoami,
    "schema": op_schema,
    "close": op_close,
}


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        cmd = json.loads(line)
        try:
            answer = {"id": cmd["id"], "ok": True, **OPS[cmd["op"]](cmd)}
        except Exception as err:  # reported to the test, which decides
            answer = {"id": cmd["id"], "ok": False, "error": type(err).__name__, "message": str(err)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    for conn in connections.values():
        try:
            conn.unbind()
        except Exception:
            pass


if __name__ == "__main__":
    main()
