#!/usr/bin/env python3
"""Cold starts of Lambda binaries against an emulated Lambda Runtime API (`make bench-cold`).

    scripts/lambda_runtime_emulator.py [--rounds N] [--env VAR=VALUE]... NAME=BINARY...

The first NAME=BINARY is the baseline (the hello-world); the others are compared with it.

Each binary is started the way Lambda starts a `provided.al2023` bootstrap: a clean environment
holding only Lambda's variables (AWS_LAMBDA_RUNTIME_API pointing at this emulator, function name,
memory size, version, region, credentials...) and the application's variables. The emulator is
the Runtime API (python stdlib http.server on 127.0.0.1, a new ephemeral port for every start):

    GET  /2018-06-01/runtime/invocation/next           the first one marks the end of init, and
                                                       gets one event; later ones wait (as Lambda
                                                       does between events) until the process is
                                                       killed
    POST /2018-06-01/runtime/invocation/{id}/response  the event's answer
    POST /2018-06-01/runtime/invocation/{id}/error     the event failed
    POST /2018-06-01/runtime/init/error                init failed (the run is marked failed)

Cold start = from just before spawning the process to the moment the process opened the
connection that carried its first `GET .../next` (taken when the server accepts the connection,
before any Python request parsing; lambda_runtime opens its first connection for that request).
After the first event is answered, peak RSS is read from /proc/<pid>/status (VmHWM) and the
process is killed (SIGKILL). A process that exits, reports an init error, or does not ask for an
event within the timeout is a failed run; its output is printed.

Rounds are interleaved (round r starts every binary once, in an order rotated by r) after one
discarded warm-up round that brings every binary into the page cache, so a burst of load from
elsewhere on the machine spreads over all binaries instead of landing on one.

Prints a Markdown table (median cold start, stripped size, × baseline, peak RSS) and the samples.
"""

import argparse
import http.server
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

API = "/2018-06-01/runtime"
ACCOUNT = "123456789012"
REGION = "us-east-1"
TIMEOUT_S = 30  # template.yaml Globals: Timeout
INIT_TIMEOUT_S = 10.0  # Lambda allows 10 s of init
INVOKE_TIMEOUT_S = 5.0

# Test-only values, never real credentials (local/src/lib.rs test_secrets and its bridge
# environment). Every function gets all of them, as in a deployment with X, Discord and bot
# routing configured: outbound-delivery then builds both its X and Discord clients (its largest
# init). Every URL points at the discard port on loopback, so nothing can reach a real service
# (nothing is called at init anyway). Read by, in crates/core/src: config.rs PublicUrl,
# x/webhook.rs CrcConfig/XInbound, x/worker.rs XWorker, x/mod.rs, flex.rs FlexWebhooks,
# delivery.rs Delivery, bot/mod.rs Chatbot, routing.rs, conversations.rs, twilio/mod.rs, discord/mod.rs,
# discord/webhook.rs DiscordInteractions, discord/worker.rs DiscordWorker.
NOWHERE = "http://127.0.0.1:9"
APP_ENV = {
    "RUST_LOG": "info",  # template.yaml Globals
    "PUBLIC_BASE_URL": "https://bench.example.invalid",
    "TABLE_NAME": "flex-bridge-bench",
    "DELIVERY_QUEUE_URL": f"{NOWHERE}/{ACCOUNT}/flex-bridge-bench-delivery.fifo",
    "DISCORD_QUEUE_URL": f"{NOWHERE}/{ACCOUNT}/flex-bridge-bench-discord.fifo",
    "X_INTAKE_QUEUE_URL": f"{NOWHERE}/{ACCOUNT}/flex-bridge-bench-x-intake.fifo",
    "DELIVERY_MAX_RECEIVES": "5",
    "CONVERSATION_CLOSE_AFTER": "PT24H",
    "ROUTING": "bot",
    "FLEX_WORKSPACE_SID": "WS00000000000000000000000000000001",
    "FLEX_WORKFLOW_SID": "WW00000000000000000000000000000001",
    "BOT_NAME": "Emberfall Assistant",
    "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
    "TWILIO_AUTH_TOKEN": "TEST_ONLY_twilio_auth_token_0123456789",
    "TWILIO_CONVERSATIONS_URL": NOWHERE,
    "TWILIO_FLEX_URL": NOWHERE,
    "TWILIO_TASKROUTER_URL": NOWHERE,
    "X_CONSUMER_KEY": "TEST_ONLY_consumer_key",
    "X_CONSUMER_SECRET": "TEST_ONLY_consumer_secret_0123456789abcdefghijklmnopqrstuv",
    "X_ACCESS_TOKEN": "1514100000000000001-TEST_ONLY_access_token",
    "X_ACCESS_TOKEN_SECRET": "TEST_ONLY_access_token_secret",
    "X_ACCOUNT_ID": "1514100000000000001",
    "X_API_URL": NOWHERE,
    "DISCORD_APPLICATION_ID": "1100000000000000001",
    # RFC 8032 test vector 1: a valid Ed25519 public key (64 hex digits), public by definition.
    "DISCORD_PUBLIC_KEY": "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    "DISCORD_BOT_TOKEN": "TEST_ONLY_discord_bot_token.0123456789",
    "DISCORD_BUG_CHANNEL_ID": "1100000000000000002",
    "DISCORD_FEATURE_CHANNEL_ID": "1100000000000000003",
    "DISCORD_API_URL": NOWHERE,
}


def lambda_env(name, port, extra=()):
    """What Lambda puts in a provided.al2023 function's environment (nothing is inherited)."""
    return {
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "1",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[1]00000000000000000000000000000000",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY": "AKIDTESTONLY0000000",
        "AWS_ACCESS_KEY_ID": "AKIDTESTONLY0000000",
        "AWS_SECRET_ACCESS_KEY": "TEST_ONLY_secret_access_key",
        "AWS_SESSION_TOKEN": "TEST_ONLY_session_token",
        "AWS_ENDPOINT_URL": NOWHERE,
        # No HOME, as on Lambda: the AWS SDK then looks for its profile files under "~/.aws"
        # relative to the working directory (an empty scratch directory), finds none, and this
        # machine's ~/.aws (if any) stays out of it.
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        "_HANDLER": "bootstrap",
        "LAMBDA_TASK_ROOT": "/var/task",
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
        "LD_LIBRARY_PATH": (
            "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task"
            ":/var/task/lib:/opt/lib"
        ),
        **APP_ENV,
        **dict(extra),
    }


def event_for(name, repo):
    """The first event: an SQS batch for run_sqs consumers, an API Gateway HTTP API (v2) request
    for run_http routes (method and path from the `//! \\`POST /path\\`` line of main.rs), an
    object for anything else. The requests carry no signatures, so each function answers 4xx
    without calling anything."""
    main_rs = os.path.join(repo, "functions", name, "src", "main.rs")
    try:
        with open(main_rs, encoding="utf-8") as f:
            source = f.read()
    except OSError:
        return {"hello": "world"}
    if "run_sqs" in source:
        return {"Records": []}
    if "run_http" not in source:
        return {"hello": "world"}
    m = re.search(r"`(GET|POST|PUT|DELETE|PATCH) (/[^`?\s]*)", source)
    method, path = (m.group(1), m.group(2)) if m else ("POST", "/")
    query = "crc_token=bench" if method == "GET" else ""
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {
            "content-type": "application/x-www-form-urlencoded",
            "host": "bench.example.invalid",
            "user-agent": "bench-cold",
        },
        "queryStringParameters": dict([query.split("=")]) if query else None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "benchapi",
            "domainName": "bench.example.invalid",
            "domainPrefix": "bench",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "bench-cold",
            },
            "requestId": "bench-request",
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": "" if method == "GET" else "Body=hello",
        "isBase64Encoded": False,
    }


class Run:
    """One process start: what the Runtime API saw of it."""

    def __init__(self, name, event):
        self.name = name
        self.event = json.dumps(event).encode()
        self.request_id = str(uuid.uuid4())
        self.lock = threading.Lock()
        self.ready_at = None  # perf_counter of the first GET /next's connection
        self.init_error = None
        self.response = None  # (kind, body) of the first event's answer
        self.changed = threading.Event()  # set on anything the main thread waits for
        self.over = threading.Event()  # the process is gone: release waiting handlers


class Server(http.server.ThreadingHTTPServer):
    """The Runtime API for one run: a new port each time, so a connection still queued from a
    killed process can never reach the next run."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, run):
        super().__init__(("127.0.0.1", 0), Handler)
        self.run = run
        self.thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def get_request(self):
        # The earliest moment the process is seen: the connection is accepted here, in the
        # serving thread, before a handler thread is started or a byte is parsed.
        sock, addr = super().get_request()
        return sock, (addr, time.perf_counter())

    def handle_error(self, request, client_address):
        # A killed process leaves connections behind; their errors are expected.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)

    def stop(self):
        self.shutdown()
        self.server_close()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as lambda_runtime's hyper client expects

    def setup(self):
        super().setup()
        self.accepted_at = self.client_address[1]
        self.client_address = self.client_address[0]
        self.run = self.server.run
        self.first_request = True

    def log_message(self, *args):
        pass

    def body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():  # streamed answers
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        run, first, self.first_request = self.run, self.first_request, False
        if self.path != f"{API}/invocation/next" or run is None:
            return self.send(404, b'{"errorType":"NotFound"}')
        with run.lock:
            hand_out = run.ready_at is None
            if hand_out:
                # This connection's accept time, if it was opened for this request.
                run.ready_at = self.accepted_at if first else time.perf_counter()
        if not hand_out:
            # Lambda freezes the process here until the next event; we kill it instead.
            run.over.wait()
            self.close_connection = True
            return
        deadline_ms = int(time.time() * 1000) + TIMEOUT_S * 1000
        trace = (
            f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};"
            f"Parent={uuid.uuid4().hex[:16]};Sampled=0"
        )
        self.send(
            200,
            run.event,
            [
                ("Content-Type", "application/json"),
                ("Lambda-Runtime-Aws-Request-Id", run.request_id),
                ("Lambda-Runtime-Deadline-Ms", str(deadline_ms)),
                (
                    "Lambda-Runtime-Invoked-Function-Arn",
                    f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{run.name}",
                ),
                ("Lambda-Runtime-Trace-Id", trace),
            ],
        )
        run.changed.set()

    def do_POST(self):
        self.first_request = False
        run, body = self.run, self.body()
        m = re.fullmatch(rf"{API}/invocation/([^/]+)/(response|error)", self.path)
        if run is not None and self.path == f"{API}/init/error":
            run.init_error = body.decode(errors="replace") or "(empty init error)"
            self.send(202, b'{"status":"OK"}')
            run.changed.set()
        elif run is not None and m and m.group(1) == run.request_id:
            if run.response is None:
                run.response = (m.group(2), body.decode(errors="replace"))
            self.send(202, b'{"status":"OK"}')
            run.changed.set()
        else:
            self.send(400, b'{"errorType":"InvalidRequestID"}')


def vm_hwm_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def tail(path, lines=20):
    with open(path, errors="replace") as f:
        return "".join(f.readlines()[-lines:]).rstrip()


def start_once(name, binary, event, scratch, extra_env=()):
    """Starts `binary` once. Returns (cold start ms, VmHWM kB, first answer) or raises
    RuntimeError with the reason and the process's output."""
    run = Run(name, event)
    server = Server(run)
    env = lambda_env(name, server.server_address[1], extra_env)
    out_path = os.path.join(scratch, "output.log")
    with open(out_path, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [binary], env=env, cwd=scratch, stdin=subprocess.DEVNULL, stdout=out, stderr=out
        )
    try:
        failure = None
        deadline = start + INIT_TIMEOUT_S
        while run.ready_at is None and failure is None:
            run.changed.wait(0.005)
            run.changed.clear()
            if run.init_error is not None:
                failure = f"init error reported to /runtime/init/error: {run.init_error}"
            elif run.ready_at is None and proc.poll() is not None:
                time.sleep(0.05)  # let a last init/error POST land
                failure = f"exited with status {proc.returncode} before asking for an event"
                if run.init_error is not None:
                    failure += f"; init error: {run.init_error}"
            elif time.perf_counter() > deadline:
                failure = f"no GET /invocation/next within {INIT_TIMEOUT_S:.0f} s"
        if failure is None:
            deadline = time.perf_counter() + INVOKE_TIMEOUT_S
            while run.response is None and time.perf_counter() < deadline:
                if proc.poll() is not None:
                    break
                run.changed.wait(0.01)
                run.changed.clear()
        hwm = vm_hwm_kb(proc.pid)
    finally:
        proc.kill()
        proc.wait()
        run.over.set()
        server.stop()
    if failure is not None:
        raise RuntimeError(f"{failure}\n--- output ---\n{tail(out_path)}")
    if run.response is None:
        raise RuntimeError(
            f"no answer to the first event within {INVOKE_TIMEOUT_S:.0f} s\n"
            f"--- output ---\n{tail(out_path)}"
        )
    return (run.ready_at - start) * 1000.0, hwm, run.response


def stripped_size(binary, scratch):
    """Size of the binary as deployed: as built when the profile strips (no .symtab),
    otherwise of a stripped copy."""
    sections = subprocess.run(
        ["readelf", "-S", "-W", binary], capture_output=True, text=True, check=False
    ).stdout
    if ".symtab" not in sections and ".debug_info" not in sections:
        return os.path.getsize(binary), False
    copy = os.path.join(scratch, "stripped")
    subprocess.run(["strip", "-o", copy, binary], check=True)
    return os.path.getsize(copy), True


def summary(response):
    kind, body = response
    try:
        doc = json.loads(body)
    except ValueError:
        return f"{kind}: {body[:80]}"
    if isinstance(doc, dict) and "statusCode" in doc:
        return f"{kind}: HTTP {doc['statusCode']} {str(doc.get('body', ''))[:60]}"
    return f"{kind}: {json.dumps(doc)[:80]}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--repo", default=os.path.dirname(here), help="for functions/*/src")
    parser.add_argument(
        "--env", action="append", default=[], metavar="VAR=VALUE",
        help="one more variable for every binary (experiments)",
    )
    parser.add_argument("binaries", nargs="+", metavar="NAME=BINARY")
    args = parser.parse_args()
    extra_env = [v.split("=", 1) for v in args.env]
    targets = []
    for spec in args.binaries:
        name, _, binary = spec.partition("=")
        if not binary or not os.access(binary, os.X_OK):
            parser.error(f"{spec}: expected NAME=path-to-an-executable")
        targets.append((name, os.path.abspath(binary)))

    samples = {name: [] for name, _ in targets}
    hwm = {name: 0 for name, _ in targets}
    answers, failed = {}, {}
    events = {name: event_for(name, args.repo) for name, _ in targets}
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as scratch:
        sizes = {name: stripped_size(binary, scratch) for name, binary in targets}
        print(
            "Runtime API emulator on 127.0.0.1 (a new port per start); "
            f"1 warm-up round + {args.rounds} rounds of {len(targets)} binaries",
            file=sys.stderr,
        )
        for r in range(args.rounds + 1):
            shift = r % len(targets)
            for name, binary in targets[shift:] + targets[:shift]:
                if name in failed:
                    continue
                try:
                    ms, kb, answer = start_once(name, binary, events[name], scratch, extra_env)
                except RuntimeError as e:
                    failed[name] = str(e)
                    print(f"FAILED {name}: {e}", file=sys.stderr)
                    continue
                answers.setdefault(name, answer)
                if r > 0:  # round 0 is the warm-up
                    samples[name].append(ms)
                    hwm[name] = max(hwm[name], kb or 0)
            if r > 0:
                print(f"  round {r}/{args.rounds} done", file=sys.stderr)
    base_name = targets[0][0]
    base = statistics.median(samples[base_name]) if base_name not in failed else None
    mib = 1024 * 1024
    print()
    print(
        "| function | stripped binary size (MB) | cold start median (ms) | × hello-world "
        "| peak RSS (MB) |"
    )
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, _ in targets:
        size = f"{sizes[name][0] / mib:.2f}"
        if name in failed:
            print(f"| {name} | {size} | FAILED (init) | | |")
            continue
        med = statistics.median(samples[name])
        ratio = f"{med / base:.2f}" if base else ""
        print(f"| {name} | {size} | {med:.2f} | {ratio} | {hwm[name] / 1024:.1f} |")
    print()
    print(
        f"Median of {args.rounds} starts each (after a warm-up round), interleaved. "
        "MB = 2^20 bytes. Cold start: spawn to the first GET /runtime/invocation/next. "
        "Peak RSS: VmHWM after the first event was answered, highest of the runs."
    )
    if any(stripped for _, stripped in sizes.values()):
        print("Sizes of stripped copies: " + ", ".join(n for n, (_, s) in sizes.items() if s) + ".")
    print()
    print("Samples (ms), sorted; first answer:")
    for name, _ in targets:
        if name in failed:
            print(f"- {name}: FAILED: {failed[name].splitlines()[0]}")
            continue
        values = ", ".join(f"{v:.2f}" for v in sorted(samples[name]))
        print(f"- {name}: {values}; {summary(answers[name])}")
    if failed:
        print()
        for name, reason in failed.items():
            print(f"### {name} failed\n\n```\n{reason}\n```")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
