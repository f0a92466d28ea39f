"""A scripted OpenAI-compatible server on 127.0.0.1, for the error paths a real model
server cannot be made to take on demand (timeouts, malformed output, 429, 5xx): each
request to /v1/chat/completions takes the next step of the script. A step is a dict:
`{"content": "..."}` (a 200 with that message), `{"status": 429, "headers": {...}}`,
`{"sleep": seconds, ...}` (then the rest of the step), or a callable of the request's
JSON returning such a dict."""

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Step = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class Script:
    steps: list[Step]
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    stop: threading.Event = field(default_factory=threading.Event)

    def next(self, body: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(body)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        return step(body) if callable(step) else step


def completion(content: str, model: str = "scripted") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


@contextmanager
def scripted(steps: Sequence[Step]) -> Iterator[Script]:
    script = Script(list(steps))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            step = script.next(body)
            if step.get("sleep"):
                script.stop.wait(float(step["sleep"]))
            status = int(step.get("status", 200))
            payload = (
                completion(step["content"], body.get("model", "scripted"))
                if status == 200
                else {"error": {"message": step.get("message", "scripted error")}}
            )
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                for name, value in step.get("headers", {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    script.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield script
    finally:
        script.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
