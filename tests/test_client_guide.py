"""The client guide (docs/clients.md) is proven: every root field of schema.graphql has an
example, every example runs in order against a real ``accord dev`` (answers chained into
later variables, as a client would), and the npm toolchain (graphql-codegen's client preset,
then ``tsc --strict``) compiles its operations and code samples against schema.graphql.
The guide's conventions are in ``tests/client_guide.py``."""

from __future__ import annotations

import io
import json
import re
import shutil
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import pytest
from graphql import OperationDefinitionNode, build_schema, parse, validate
from PIL import Image
from websockets.sync.client import connect

from tests.authenticator import SoftwareAuthenticator
from tests.client_guide import (
    GUIDE,
    PLACEHOLDER,
    ROOT,
    Example,
    code_block,
    contains,
    examples,
    sample_answers,
)
from tests.processes import accord, clean_env, free_port, stop, wait_ready

CLIENTS = ROOT / "clients" / "typescript"
SCHEMA = build_schema((ROOT / "schema.graphql").read_text())


# --- without a server -------------------------------------------------------------------------


def test_every_root_field_has_an_example():
    covered: dict[str, set[str]] = {"query": set(), "mutation": set(), "subscription": set()}
    for example in examples():
        for definition in parse(example.document).definitions:
            assert isinstance(definition, OperationDefinitionNode)
            covered[definition.operation.value] |= {
                selection.name.value for selection in definition.selection_set.selections
            }
    roots = {
        "query": SCHEMA.query_type,
        "mutation": SCHEMA.mutation_type,
        "subscription": SCHEMA.subscription_type,
    }
    missing = {
        kind: sorted(set(root.fields) - covered[kind]) for kind, root in roots.items() if root
    }
    assert missing == {"query": [], "mutation": [], "subscription": []}, missing


def test_every_example_fits_the_schema():
    for example in examples():
        errors = validate(SCHEMA, parse(example.document))
        assert not errors, f"docs/clients.md:{example.line}: {errors}"
        json.loads(example.variables)  # placeholders sit inside strings: still JSON


def test_the_ready_codegen_config_is_the_guides():
    assert (CLIENTS / "codegen.ts").read_text() == code_block(GUIDE.read_text(), "codegen.ts")


def test_the_convention_reads_reruns_and_directives():
    text = """
<!-- example: bearer=none -->
```graphql
mutation Login($input: LoginInput!) { login(input: $input) { token } }
```

```json
{"input": {"accountName": "a", "password": "b"}}
```

an answer, not an example:

```json
{"data": null}
```

<!-- example: operation=Login name=Again expect=errors -->
```json
{"input": {}}
```
"""
    first, again = examples(text)
    assert (first.name, first.kind, first.directives) == ("Login", "mutation", {"bearer": "none"})
    assert json.loads(first.variables) == {"input": {"accountName": "a", "password": "b"}}
    assert (again.name, again.operation, again.expects_errors) == ("Again", "Login", True)
    assert again.document == first.document and json.loads(again.variables) == {"input": {}}


def test_a_sample_answer_may_leave_parts_out():
    answer = {"data": {"x": {"cursor": "c2VxOjI6", "results": [{"a": 1, "b": 2}], "n": None}}}
    assert contains(answer, {"data": {"x": {"cursor": "...", "results": [{"a": 1}]}}})
    assert contains(answer, {"data": {"x": {"cursor": "c2V...", "n": None}}})
    assert not contains(answer, {"data": {"x": {"results": []}}})
    assert not contains(answer, {"data": {"x": {"results": [{"a": 2}]}}})
    assert not contains(answer, {"data": {"x": {"missing": None}}})


# --- against a live server --------------------------------------------------------------------


class GuideRun:
    """Runs the guide's examples in order against one ``accord dev``, keeping every answer."""

    def __init__(self, url: str, staff_password: str, mail_folder: Path | None = None) -> None:
        self.url = url
        #: Where the dev server's local SMTP server saves what it receives (``var/mail``).
        self.mail_folder = mail_folder
        self.http = httpx.Client(base_url=url, timeout=60)
        self.staff_password = staff_password
        self.answers: dict[str, Any] = {}
        self.bodies: dict[str, Any] = {}
        self.bearer: str | None = None
        # One moment for the whole walkthrough: the same `{{now-60s}}` is the same time
        # wherever it stands, as a retry resends the timestamp first sent.
        self.started = datetime.now(UTC)
        #: The TOTP step each secret last gave a code for (a code is accepted once).
        self.totp_steps: dict[str, int] = {}
        #: Codes ``{{mailCode:...}}`` handed out: a code works once, so an older one still
        #: in the mail folder is never the answer while the newer one is on its way.
        self.mailed_codes: set[str] = set()
        # One authenticator for the whole run: the passkey it makes signs in later on. Its
        # pages are on http://localhost:<port> (browsers refuse WebAuthn on an IP address).
        self.authenticator = SoftwareAuthenticator()
        self.page_origin = url.replace("127.0.0.1", "localhost")

    # placeholders ---------------------------------------------------------------------------

    def value(self, reference: str) -> Any:
        if reference == "demo.staffPassword":
            return self.staff_password
        if reference.startswith("totp:"):
            return self.totp(str(self.value(reference.split(":", 1)[1])))
        if reference.startswith("devIdToken:"):
            answer = self.http.get("/dev/oidc/id-token", params={"sub": reference.split(":")[1]})
            assert answer.status_code == 200, answer.text
            return answer.json()["id_token"]
        if reference.startswith("mailCode:"):
            return self.mailed_code(reference.split(":", 1)[1])
        if reference.startswith("passkeyCreate:"):
            options = self.value(reference.split(":", 1)[1])
            return self.authenticator.create(options, origin=self.page_origin)
        if reference.startswith("passkeyGet:"):
            options = self.value(reference.split(":", 1)[1])
            return self.authenticator.get(options, origin=self.page_origin)
        if reference.startswith("linkToken:"):
            text = self.value(reference.split(":", 1)[1])
            link = re.search(r"https?://\S+", text)
            assert link, f"{{{{{reference}}}}}: no link in {text!r}"
            return parse_qs(urlsplit(link.group(0)).query)["token"][0]
        moment = re.fullmatch(r"now(?:([+-]\d+)s)?", reference)
        if moment:
            shift = timedelta(seconds=int(moment.group(1) or 0))
            return (self.started + shift).isoformat(timespec="milliseconds")
        name, *path = reference.split(".")
        assert name in self.answers, f"{{{{{reference}}}}}: no earlier example named {name}"
        found = self.answers[name]
        for step in path:
            found = found[int(step)] if isinstance(found, list) else found[step]
        return found

    def totp(self, secret: str) -> str:
        """The code an authenticator app would show for ``secret``, from a step after the
        last one used (the server refuses a used step and older ones). The server takes the
        step before and after its own: the one before only while it will still be within
        that window when the request arrives, and the one after when the current step is
        used already; a third code within one step waits for the next step."""
        totp = pyotp.TOTP(secret)
        last = self.totp_steps.get(secret)
        while True:
            moment = datetime.now(UTC)
            current = totp.timecode(moment)
            earliest = current - 1 if moment.timestamp() % totp.interval < 20 else current
            step = earliest if last is None else max(earliest, last + 1)
            if step <= current + 1:
                break
            time.sleep(1)
        self.totp_steps[secret] = step
        return totp.generate_otp(step)

    def mailed_code(self, address: str) -> str:
        """The newest verification code the dev server mailed to ``address`` and not handed
        out before: its worker sends it a moment after the mutation that asked, so the
        folder is watched a while."""
        assert self.mail_folder is not None, "this run has no mail folder"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            files = sorted(self.mail_folder.glob("*.eml")) if self.mail_folder.is_dir() else []
            for path in reversed(files):
                message = message_from_bytes(path.read_bytes())
                if address not in str(message["X-Envelope-To"]).split(", "):
                    continue
                payload = message.get_payload(decode=True)
                found = re.search(
                    r"(?:Your code is|and code) (\d{6})", payload.decode() if payload else ""
                )
                if found and found.group(1) not in self.mailed_codes:
                    self.mailed_codes.add(found.group(1))
                    return found.group(1)
                if found:  # the newest is spent: the one asked for is still on its way
                    break
            time.sleep(0.2)
        raise AssertionError(f"no code mailed to {address} in {self.mail_folder} within 60 s")

    def fill(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: self.fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        if isinstance(value, str):
            whole = PLACEHOLDER.fullmatch(value)
            if whole:
                return self.value(whole.group(1).strip())
            return PLACEHOLDER.sub(lambda m: str(self.value(m.group(1).strip())), value)
        return value

    # running --------------------------------------------------------------------------------

    def headers(self, example: Example | None = None) -> dict[str, str]:
        sent = {"authorization": f"Bearer {self.bearer}"} if self.bearer else {}
        if example is not None and "user-agent" in example.directives:
            sent["user-agent"] = example.directives["user-agent"]
        return sent

    def prepare(self, example: Example) -> dict[str, Any]:
        bearer = example.directives.get("bearer")
        if bearer is not None:
            self.bearer = None if bearer == "none" else self.fill(bearer)
        return self.fill(json.loads(example.variables))

    def run(self, example: Example) -> dict[str, Any]:
        variables = self.prepare(example)
        operation = {
            "query": example.document,
            "variables": variables,
            "operationName": example.operation,
        }
        upload = example.directives.get("upload")
        if upload:
            answer = self.http.post(
                "/graphql",
                data={
                    "operations": json.dumps(operation),
                    "map": json.dumps({"0": [f"variables.{upload}"]}),
                },
                files={"0": ("picture.png", png(), "image/png")},
                headers=self.headers(example),
            )
        else:
            answer = self.http.post("/graphql", json=operation, headers=self.headers(example))
        assert answer.status_code == 200, f"{where(example)}: {answer.status_code} {answer.text}"
        return self.judge(example, answer.json())

    def judge(self, example: Example, body: dict[str, Any]) -> dict[str, Any]:
        typed = list(typed_errors(body.get("data")))
        if example.expects_errors:
            assert body.get("errors") or typed, f"{where(example)}: expected an error: {body}"
        else:
            assert "errors" not in body, f"{where(example)}: {body['errors']}"
            assert not typed, f"{where(example)}: typed errors {typed}"
        self.answers[example.name] = body.get("data")
        self.bodies[example.name] = body
        return body

    def subscribe(self, example: Example, trigger: Example | None) -> None:
        """graphql-transport-ws, as the graphql-ws client speaks it."""
        variables = self.prepare(example)
        ws_url = self.url.replace("http://", "ws://") + "/graphql"
        with connect(ws_url, subprotocols=["graphql-transport-ws"], open_timeout=30) as ws:
            payload = {"authorization": f"Bearer {self.bearer}"} if self.bearer else {}
            ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            assert json.loads(ws.recv(timeout=30))["type"] == "connection_ack"
            ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {
                            "query": example.document,
                            "variables": variables,
                            "operationName": example.operation,
                        },
                    }
                )
            )
            # The server subscribes (to Redis) a moment after it reads this, and a busy
            # machine makes that moment long: a stream that speaks at once (a snapshot) is
            # read first; otherwise the trigger runs, and runs again (it is safe to repeat,
            # see tests/client_guide.py) while the stream stays silent, up to a deadline.
            deadline = time.monotonic() + 60
            message = self.next_message(ws, example, wait=0.3)
            triggered, window = False, 1.0
            while message is None and trigger is not None and time.monotonic() < deadline:
                self.run(trigger)
                triggered = True
                message = self.next_message(ws, example, wait=window)
                window = min(window * 2, 8.0)
            if trigger is not None and not triggered:
                self.run(trigger)
            if message is None:
                message = self.next_message(ws, example, wait=deadline - time.monotonic())
            assert message is not None, f"{where(example)}: no message within 60 s"
            self.judge(example, message["payload"])
            ws.send(json.dumps({"id": "1", "type": "complete"}))

    @staticmethod
    def next_message(ws: Any, example: Example, wait: float) -> dict[str, Any] | None:
        """The stream's next ``next`` message within ``wait`` seconds (pings answered)."""
        deadline = time.monotonic() + wait
        while True:
            try:
                message = json.loads(ws.recv(timeout=max(0.0, deadline - time.monotonic())))
            except TimeoutError:
                return None
            if message["type"] == "ping":
                ws.send(json.dumps({"type": "pong"}))
                continue
            assert message["type"] == "next", f"{where(example)}: {message}"
            return message


def where(example: Example) -> str:
    return f"docs/clients.md:{example.line} ({example.name})"


def typed_errors(data: Any):
    """Every non-empty ``errors`` list of a payload, at any depth."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "errors" and isinstance(value, list):
                yield from value
            else:
                yield from typed_errors(value)
    elif isinstance(data, list):
        for item in data:
            yield from typed_errors(item)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 120, 40)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.slow
def test_the_guides_examples_run_against_accord_dev(tmp_path):
    port = free_port()
    log = tmp_path / "dev.log"
    env = clean_env(
        ACCORD_SMTP_PORT=str(free_port()),
        # Every sign-in of the guide comes from this one address within a minute or so:
        # more than the default per-address limit allows one client network.
        ACCORD_LOGIN_LIMIT_PER_ADDRESS="100/minute;1000/hour",
    )
    process = accord("dev", "--port", str(port), cwd=tmp_path, env=env, log=log)
    try:
        wait_ready(port, process, log)
        printed = re.search(r"demo\.admin / (\S+)", log.read_text())
        assert printed, log.read_text()
        run = GuideRun(f"http://127.0.0.1:{port}", printed.group(1), tmp_path / "var" / "mail")
        queue = examples()
        ran = 0
        while queue:
            example = queue.pop(0)
            if example.kind == "subscription":
                trigger = queue.pop(0) if queue else None
                run.subscribe(example, trigger)
                ran += 1 + (trigger is not None)
            else:
                run.run(example)
                ran += 1
        assert ran == len(examples())
        for sample in sample_answers():
            answer = run.bodies[sample.name]
            assert contains(answer, json.loads(sample.body)), (
                f"docs/clients.md:{sample.line}: the sample answer of {sample.name} is not "
                f"what the server answered: {json.dumps(answer, indent=1)}"
            )
        run.http.close()
    finally:
        process.send_signal(signal.SIGTERM)
        stop(process)


# --- the npm toolchain ------------------------------------------------------------------------


@pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="node and npm are not installed (.ci/run installs them and runs this check)",
)
def test_the_guides_operations_compile_with_codegen_and_tsc():
    """`npm run check`: the guide's operations to .graphql files, graphql-codegen's client
    preset over them with strictScalars, then tsc --strict over the generated types and the
    guide's TypeScript samples. It fails when an operation stops matching schema.graphql."""
    if not (CLIENTS / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=CLIENTS, check=True)
    done = subprocess.run(
        ["npm", "run", "--silent", "check"], cwd=CLIENTS, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
