#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets into fuzz/corpus/<target>/seed-*.

Seeds are realistic inputs: the recorded Mesos requests and streams of
testdata/mesos-transcripts/, real Stratum lines (ckpool's and cpuminer's forms, block
100000 as a mining.notify), bitcoind replies as the pool's tests record them, and the
executor environments the recordings captured. Each target's input format is described in
its body, testkit/src/fuzz/. Run from the repository root: python3 fuzz/seeds.py
"""

import ast
import glob
import json
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRANSCRIPTS = os.path.join(ROOT, "testdata", "mesos-transcripts")
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def lines(*items):
    return "".join(json.dumps(i, separators=(",", ":")) + "\n" for i in items)


NOTIFY_100000 = {"id": None, "method": "mining.notify", "params": [
    "1", "1901125004612a1701c3a621d930d31d36b607df1fccc2160002d01c00000000",
    "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff08044c86041b02",
    "ffffffff0100f2052a010000004341041b0e8c2567c12536aa13357b79a073dc4444acb83c4ec7a0e2f99dd7457516c5817242da796924ca4e99947d087fedf9ce467cb9f7c6287078f801df276fdf84ac00000000",
    ["c40297f730dd7b5a99567eb8d27b78758f607507c52292d02d4031895b52f2ff",
     "49aef42d78e3e9999c9e6ec9e1dddd6cb880bf3b076a03be1318ca789089308e"],
    "00000001", "1b04864c", "4d1b2237", True]}


def sub_reply(i, en1="b386086b", size=8):
    return {"id": i, "result": [[["mining.notify", "6b0886b3"]], en1, size], "error": None}


def ok(i, result=True):
    return {"id": i, "result": result, "error": None}


def stratum():
    diff = {"id": None, "method": "mining.set_difficulty", "params": [0.01]}
    # Client (flags 0): subscribe id 1, authorize id 2, submits from id 3.
    plain = lines(sub_reply(1), diff, NOTIFY_100000, ok(2), ok(3),
                  {"id": 4, "result": None, "error": [23, "Low difficulty share", None]},
                  {"id": 5, "result": False, "error": None, "reject-reason": "Above target"})
    write("stratum_client", "ckpool", bytes([0]) + plain.encode())
    # Version rolling (flags 1): configure id 1, subscribe 2, authorize 3.
    rolling = lines(ok(1, {"version-rolling": True, "version-rolling.mask": "1fffe000"}),
                    sub_reply(2), ok(3),
                    {"id": None, "method": "mining.set_version_mask", "params": ["1fffe000"]},
                    NOTIFY_100000, ok(4))
    write("stratum_client", "version-rolling", bytes([1]) + rolling.encode())
    # Extranonce subscription and server calls (flags 2): subscribe 1, extranonce 2, auth 3.
    extra = lines(sub_reply(1), ok(2), ok(3), NOTIFY_100000,
                  {"id": None, "method": "mining.set_extranonce", "params": ["0a0b0c0d", 4]},
                  {"id": 9, "method": "client.get_version", "params": []},
                  {"id": 10, "method": "mining.ping", "params": []},
                  {"id": None, "method": "client.show_message", "params": ["hello"]},
                  {"id": None, "method": "client.reconnect", "params": ["", 3334, 0]},
                  dict(NOTIFY_100000, params=["2"] + NOTIFY_100000["params"][1:]),
                  {"id": 4, "result": None, "error": {"code": 21, "message": "Job not found"}})
    write("stratum_client", "extranonce", bytes([2]) + extra.encode())
    resume = lines({"id": 1, "result": None, "error": [20, "no such session", None]},
                   sub_reply(2), ok(3), NOTIFY_100000)
    write("stratum_client", "resume-refused", bytes([8 | 32]) + resume.encode())
    # Server: subscribe, authorize, submits to job 1 (en2 size 8; ntime 1 700 000 000).
    def submit(i, nonce, extra=None):
        p = ["w1", "1", "0000000000000001", "6553f100", nonce]
        return {"id": i, "method": "mining.submit", "params": p + ([extra] if extra else [])}
    server = lines({"id": 1, "method": "mining.subscribe", "params": ["cpuminer/2.5.1"]},
                   {"id": 2, "method": "mining.authorize", "params": ["w1", "x"]},
                   submit(3, "00000001"), submit(4, "00000001"), submit(5, "00000003"),
                   {"id": 6, "method": "mining.suggest_difficulty", "params": [2]})
    write("stratum_server", "cpuminer", bytes([0xf0]) + server.encode())
    configure = lines({"id": 1, "method": "mining.configure", "params": [
                          ["version-rolling", "minimum-difficulty", "subscribe-extranonce"],
                          {"version-rolling.mask": "ffffffff", "version-rolling.min-bit-count": 2,
                           "minimum-difficulty.value": 0.5}]},
                      {"id": 2, "method": "mining.subscribe", "params": ["bfgminer/5", "00000001"]},
                      {"id": 3, "method": "mining.extranonce.subscribe", "params": []},
                      {"id": 4, "method": "mining.authorize", "params": ["w1", "x"]},
                      {"id": 5, "method": "mining.authorize", "params": ["w2", "bad"]},
                      submit(6, "00000002", "00002000"), submit(7, "00000002", "00002000"),
                      {"id": "a-1", "method": "mining.nonsense", "params": []},
                      {"id": 1.5, "result": True, "error": None})
    write("stratum_server", "configure", bytes([0xf8]) + configure.encode())
    write("stratum_server", "unsubscribed", bytes([3]) + lines(submit(1, "00000001"),
          {"id": 2, "method": "mining.subscribe", "params": [None, 7, "host", 3333]}).encode())
    # Codec: every line above, plus the error forms.
    every = plain + rolling + extra + server + configure + lines(
        {"id": 4, "result": False, "error": "Stale"},
        {"id": 18446744073709551615, "method": "mining.subscribe", "params": []},
        {"id": -5, "method": "mining.subscribe", "params": [None, 7, "host", 3333]})
    write("stratum_codec", "lines", bytes([0x7f]) + every.encode())
    write("stratum_codec", "crlf-split", bytes([0x0b]) + every.replace("\n", "\r\n").encode())
    write("stratum_codec", "too-long", bytes([0]) + ("x" * 40 + "\n" + json.dumps(ok(1)) + "\n").encode())


REGTEST_TEMPLATE = {
    "capabilities": ["proposal"], "version": 536870912,
    "previousblockhash": "050a737918b49d793f4ac91d8461c892a9718efd8114403053652129fd4489d4",
    "transactions": [{"data": "0100", "txid": "00" * 31 + "ff", "hash": "x", "depends": [], "fee": 1}],
    "coinbaseaux": {"flags": ""}, "coinbasevalue": 5000000000,
    "longpollid": "050a737918b49d793f4ac91d8461c892a9718efd8114403053652129fd4489d45",
    "target": "7fffff" + "00" * 29, "mintime": 1795727445,
    "mutable": ["time", "transactions", "prevblock"], "noncerange": "00000000ffffffff",
    "sizelimit": 128000000, "curtime": 1795727445, "bits": "207fffff", "height": 102}


def pool():
    rpc = lambda result, error=None: json.dumps({"result": result, "error": error, "id": 1})
    write("pool_rpc", "gbt-bsv", b"\0" + rpc(REGTEST_TEMPLATE).encode())
    segwit = dict(REGTEST_TEMPLATE, rules=["csv", "!segwit"], height=70000,
                  default_witness_commitment="6a24aa21a9ed" + "11" * 32, transactions=[])
    write("pool_rpc", "gbt-segwit", b"\0" + rpc(segwit).encode())
    write("pool_rpc", "submit-null", b"\0" + rpc(None).encode())
    write("pool_rpc", "submit-duplicate", b"\0" + rpc("duplicate").encode())
    write("pool_rpc", "submit-high-hash", b"\0" + rpc("high-hash").encode())
    write("pool_rpc", "error-warmup", b"\1" + rpc(None, {"code": -28, "message": "Loading block index..."}).encode())
    write("pool_rpc", "unauthorized", b"\2")
    write("pool_rpc", "chaininfo", b"\0" + rpc({"chain": "regtest", "blocks": 101,
          "bestblockhash": REGTEST_TEMPLATE["previousblockhash"]}).encode())
    write("pool_rpc", "blockcount", b"\0" + rpc(101).encode())


def raw_requests():
    """Every recorded request: (path, content type, body)."""
    for f in sorted(glob.glob(os.path.join(TRANSCRIPTS, "**", "*.txt"), recursive=True)):
        for line in open(f, errors="replace"):
            line = line.strip()
            if not line.startswith(("b'POST", 'b"POST')):
                continue
            try:
                raw = ast.literal_eval(line)
            except (ValueError, SyntaxError):
                continue
            head, _, body = raw.partition(b"\r\n\r\n")
            path = head.split(b" ")[1].decode()
            m = re.search(rb"(?i)content-type: ([^\r]*)", head)
            yield path, (m.group(1).decode() if m else ""), body


def dechunk(raw):
    """The body of a recorded chunked HTTP response."""
    _, _, rest = raw.partition(b"\r\n\r\n")
    out = b""
    while rest:
        size, _, rest = rest.partition(b"\r\n")
        try:
            n = int(size, 16)
        except ValueError:
            break
        if n == 0:
            break
        out += rest[:n]
        rest = rest[n + 2:]
    return out


def records(body):
    out = []
    while body:
        size, _, body = body.partition(b"\n")
        if not size.isdigit():
            break
        out.append(body[:int(size)])
        body = body[int(size):]
    return out


def mesos():
    streams = []
    for f in sorted(glob.glob(os.path.join(TRANSCRIPTS, "**", "*.raw-socket.bin"), recursive=True)):
        raw = open(f, "rb").read()
        if raw.startswith(b"HTTP/1.1 200") and b"chunked" in raw[:400]:
            body = dechunk(raw)
            if body:
                streams.append((os.path.basename(f), body, b"executor" in raw[:600] or "exec" in f))
    for name in ["1-proto-stream.body.bin", "2-json-stream.body.bin", "1-proto-first-records.bin"]:
        streams.append((name, open(os.path.join(TRANSCRIPTS, name), "rb").read(), False))
    seen = set()
    for name, body, _ in streams:
        short = body[:8192]
        if short in seen:
            continue
        seen.add(short)
        write("mesos_recordio", name, bytes([7 | (31 << 3)]) + short)
        write("mesos_recordio", name + "-small", bytes([4 | (2 << 3)]) + short[:600])
        for i, rec in enumerate(records(body)[:12]):
            is_json = rec.startswith(b"{")
            executor = b"executor_info" in rec or "exec" in name or "5-executor" in name
            kind = 3 if executor else 1
            write("mesos_json" if is_json else "mesos_protobuf", f"{name}-{i}", bytes([kind]) + rec)
    for i, (path, ctype, body) in enumerate(raw_requests()):
        kind = 2 if "executor" in path else 0
        target = "mesos_json" if "json" in ctype else "mesos_protobuf"
        write(target, f"request-{i}", bytes([kind]) + body)


FRAMEWORK = {"user": "root", "name": "fuzz", "failover_timeout": 3600.0, "checkpoint": True,
             "capabilities": [{"type": "PARTITION_AWARE"}, {"type": "TASK_KILLING_STATE"}]}
RES = lambda name, v: {"name": name, "type": "SCALAR", "scalar": {"value": v}, "role": "*"}


def script(*records):
    return "\n%%\n".join(records)


def req(to, body, sid=True, extra=""):
    head = f"{to} POST /api/v1/{'scheduler' if to == 'm' else 'executor'} ct=json accept=json"
    if sid:
        head += " sid=$SID"
    return head + extra + "\n" + json.dumps(body)


def cluster():
    fid = {"value": "$FID"}
    subscribe = req("m", {"type": "SUBSCRIBE", "subscribe": {"framework_info": FRAMEWORK}}, sid=False)
    executor = {"executor_id": {"value": "miner"}, "command": {"value": "./mesos-miner executor"},
                "resources": [RES("cpus", 0.1), RES("mem", 32.0)]}
    task = {"name": "w1", "task_id": {"value": "w1"}, "agent_id": {"value": "$AGENT"},
            "resources": [RES("cpus", 1.0), RES("mem", 128.0)], "executor": executor,
            "data": "eyJraW5kIjoid29ya2VyIn0="}
    accept = req("m", {"type": "ACCEPT", "framework_id": fid, "accept": {
        "offer_ids": [{"value": "$OFFER"}], "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task]}}],
        "filters": {"refuse_seconds": 1.0}}})
    exec_sub = req("a", {"type": "SUBSCRIBE", "framework_id": fid, "executor_id": {"value": "miner"},
                         "subscribe": {}}, sid=False)
    update = req("a", {"type": "UPDATE", "framework_id": fid, "executor_id": {"value": "miner"},
                       "update": {"status": {"task_id": {"value": "w1"}, "state": "TASK_RUNNING",
                                             "source": "SOURCE_EXECUTOR",
                                             "uuid": "AAECAwQFBgcICQoLDA0ODw==",
                                             "executor_id": {"value": "miner"}}}}, sid=False)
    ack = req("m", {"type": "ACKNOWLEDGE", "framework_id": fid, "acknowledge": {
        "agent_id": {"value": "$AGENT"}, "task_id": {"value": "w1"}, "uuid": "AAECAwQFBgcICQoLDA0ODw=="}})
    kill = req("m", {"type": "KILL", "framework_id": fid, "kill": {"task_id": {"value": "w1"}}})
    reconcile = req("m", {"type": "RECONCILE", "framework_id": fid, "reconcile": {"tasks": [
        {"task_id": {"value": "w1"}}, {"task_id": {"value": "ghost"}}]}})
    message = req("m", {"type": "MESSAGE", "framework_id": fid, "message": {
        "agent_id": {"value": "$AGENT"}, "executor_id": {"value": "miner"}, "data": "aGk="}})
    decline = req("m", {"type": "DECLINE", "framework_id": fid, "decline": {
        "offer_ids": [{"value": "$OFFER"}], "filters": {"refuse_seconds": 5.0}}})
    teardown = req("m", {"type": "TEARDOWN", "framework_id": fid})
    write("cluster_http", "life", script(subscribe, accept, exec_sub, update, ack, "tick 2000",
                                          message, reconcile, kill, "tick 20000", teardown))
    write("cluster_http", "decline-revive", script(subscribe, decline, "tick 6000",
          req("m", {"type": "REVIVE", "framework_id": fid}),
          req("m", {"type": "SUPPRESS", "framework_id": fid}), "close", "tick 5000", subscribe))
    auth = " auth=basic:a:secret-a"
    write("cluster_http", "auth", script("creds a:secret-a,b:secret-b",
          req("m", {"type": "SUBSCRIBE", "subscribe": {"framework_info": dict(FRAMEWORK, principal="a")}},
              sid=False, extra=auth),
          req("m", {"type": "SUBSCRIBE", "subscribe": {"framework_info": dict(FRAMEWORK, principal="b", id=fid)}},
              sid=False, extra=" auth=basic:b:secret-b"),
          req("m", {"type": "SUBSCRIBE", "subscribe": {"framework_info": FRAMEWORK}}, sid=False,
              extra=" auth=Basic~!!!"),
          teardown + ""))
    write("cluster_http", "errors", script(
        "m GET /api/v1/scheduler", "m POST /api/v1/scheduler ct=text/plain\nx",
        "m POST /api/v1/scheduler ct=json\n", "m POST /api/v1/scheduler ct=json\n{\"type\":\"UNKNOWN\"}",
        "m POST /api/v1/scheduler ct=proto accept=proto\n\x08\x01",
        "m POST /api/v1/scheduler ct=json accept=text/html\n" + json.dumps(
            {"type": "SUBSCRIBE", "subscribe": {"framework_info": FRAMEWORK}}),
        "a POST /api/v1/executor ct=json\n{\"type\":\"HEARTBEAT\"}", "a PUT /api/v1/executor"))
    for i, (path, ctype, body) in enumerate(raw_requests()):
        to = "a" if "executor" in path else "m"
        ct = "proto" if "protobuf" in ctype else "json" if "json" in ctype else ctype.replace(" ", "~")
        write("cluster_http", f"recorded-{i}", f"{to} POST {path} ct={ct} accept={ct} sid=$SID\n".encode() + body)


def payloads():
    for f in sorted(glob.glob(os.path.join(TRANSCRIPTS, "**", "*env.txt"), recursive=True)):
        env = "".join(l for l in open(f, errors="replace") if re.match(r"^[A-Z_]+=", l))
        write("executor_env", os.path.basename(f), env)
    write("executor_env", "token", "MESOS_FRAMEWORK_ID=f-0001\nMESOS_EXECUTOR_ID=miner\n"
          "MESOS_AGENT_ENDPOINT=127.0.0.1:5051\nMESOS_SANDBOX=/tmp/s\nMESOS_CHECKPOINT=1\n"
          "MESOS_RECOVERY_TIMEOUT=15mins\nMESOS_SUBSCRIPTION_BACKOFF_MAX=2secs\n"
          "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=1.5secs\n"
          "MESOS_EXECUTOR_AUTHENTICATION_TOKEN=s3cr3t-token-value\n")
    write("executor_env", "bad", "MESOS_CHECKPOINT=yes\nMESOS_AGENT_ENDPOINT=nohost\n"
          "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=5weeks\nMESOS_RECOVERY_TIMEOUT=1e9secs\n")
    report = {"v": 1, "seq": 7, "sent_ms": 1795727445000, "task_id": "worker-1", "kind": "worker",
              "agent_id": "a-S0", "hashes": 123456789, "hashrate_10s": 4.2e6, "hashrate_1m": 4.1e6,
              "hashrate_15m": 0.0, "accepted": 3, "rejected": 1, "stale": 0, "difficulty": 0.01,
              "threads": 2, "kernel": "sha-ni", "pool": {"url": "stratum+tcp://127.0.0.1:3333",
                                                          "state": "connected"}}
    write("scheduler_report", "worker", json.dumps(report))
    server = dict(report, kind="server", task_id="server", pool=None, difficulty=None, server={
        "connections": 4, "workers": 2, "shares_accepted": 10, "shares_rejected": 1, "blocks_found": 1,
        "blocks_accepted": 1, "height": 102, "node": "ok", "url": "stratum+tcp://127.0.0.1:3333"})
    write("scheduler_report", "server", json.dumps(server))
    write("scheduler_report", "spec-worker", json.dumps({"kind": "worker", "pool_url": "stratum+tcp://h:1",
          "user": "addr.w1", "password": "x", "kernel": "auto", "threads": 2, "report_interval_ms": 5000}))
    write("scheduler_report", "spec-server", json.dumps({"kind": "server", "demo": True, "stratum_port": 3333}))


if __name__ == "__main__":
    stratum()
    pool()
    mesos()
    cluster()
    payloads()
    for t in sorted(os.listdir(CORPUS)):
        print(t, len(os.listdir(os.path.join(CORPUS, t))))
