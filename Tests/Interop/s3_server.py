"""A local S3-compatible store for Cairn's object storage tests: moto's server mode (https://pypi.org/project/moto/,
`pip install 'moto[server]'`) behind a small fault-injecting proxy.

Usage: python3 s3_server.py BUCKET

Creates BUCKET, readable by anyone (a bucket policy allowing s3:GetObject to "*", as a public tiles bucket has),
prints one line `PROXY_PORT MOTO_PORT` and serves until stdin closes or the process is killed. Requests to the
proxy go to moto unchanged, except:

- `POST /__fault?fail-puts-after=N` makes every PutObject after the next N answer `503 SlowDown` (with a message
  holding an escape character, which a client must not print raw); N=-1 turns this off.
- `POST /__fault?deny=1` makes every request answer `403 AccessDenied` (as for credentials S3 refuses); `deny=0`
  turns this off.
- `POST /__fault?stall=S` makes every request wait S seconds before it is forwarded; `stall=0` turns this off.
- `GET /__log` answers the methods and paths of the requests forwarded so far, one per line.
"""

import http.client
import http.server
import json
import sys
import threading
import time
import urllib.parse

from moto.server import ThreadedMotoServer
import boto3

bucket = sys.argv[1]
moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
moto.start()
moto_port = moto._server.server_port

s3 = boto3.client(
    "s3", endpoint_url=f"http://127.0.0.1:{moto_port}", aws_access_key_id="test", aws_secret_access_key="test",
    region_name="us-east-1")
s3.create_bucket(Bucket=bucket)
s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                   "Resource": f"arn:aws:s3:::{bucket}/*"}],
}))

lock = threading.Lock()
state = {"fail_after": -1, "deny": False, "stall": 0.0, "log": []}


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/xml"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if self.path.startswith("/__fault"):
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            with lock:
                if "fail-puts-after" in query:
                    state["fail_after"] = int(query["fail-puts-after"][0])
                if "deny" in query:
                    state["deny"] = query["deny"][0] == "1"
                if "stall" in query:
                    state["stall"] = float(query["stall"][0])
            return self.reply(200, b"ok\n", "text/plain")
        if self.path == "/__log":
            with lock:
                text = "".join(f"{m} {p}\n" for m, p in state["log"])
            return self.reply(200, text.encode(), "text/plain")
        with lock:
            deny, stall = state["deny"], state["stall"]
        if stall:
            time.sleep(stall)
        if deny:
            return self.reply(
                403,
                b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
                b"<Message>Access Denied</Message></Error>")
        if self.command == "PUT":
            with lock:
                if state["fail_after"] == 0:
                    return self.reply(
                        503,
                        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>"
                        b"<Message>Please reduce your request rate.\x1b[2K</Message></Error>")
                if state["fail_after"] > 0:
                    state["fail_after"] -= 1
        with lock:
            state["log"].append((self.command, self.path))
        connection = http.client.HTTPConnection("127.0.0.1", moto_port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
        connection.request(self.command, self.path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        self.send_response(response.status)
        for k, v in response.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length", "server", "date"):
                self.send_header(k, v)
        # A HEAD answer's Content-Length is the object's size, as moto said.
        length = response.getheader("Content-Length") if self.command == "HEAD" else None
        self.send_header("Content-Length", length or str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        connection.close()

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = forward


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
threading.Thread(target=server.serve_forever, daemon=True).start()
print(server.server_address[1], moto_port, flush=True)
sys.stdin.read()
server.shutdown()
moto.stop()
