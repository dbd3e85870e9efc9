"""Reads the examples of the client guide (docs/clients.md), so that a test can run them.

The convention, for whoever edits the guide:

- every ```graphql block is an operation with a unique name; the ```json block right after
  it (blank lines between) holds its variables (none: ``{}``);
- a ```json block after ``<!-- example: operation=Name name=Other -->`` runs the earlier
  operation ``Name`` again with these variables; its answer is known as ``Other``;
- an ``<!-- example: ... -->`` comment right before a block sets, by ``key=value``:
  ``bearer={{Ref}}`` or ``bearer=none`` (the token sent from this example on: sticky),
  ``expect=errors`` (the example shows an error: its answer must have one),
  ``upload=input.file`` (sent as a GraphQL multipart request with a small PNG there),
  ``user-agent=okhttp/4.12.0`` (this example only is sent with that User-Agent, as from
  another device; no spaces);
- ``{{...}}`` in variables and in ``bearer`` is filled in when the example runs:
  ``{{Name.path.0.to}}`` from the answer (``data``) of the earlier example ``Name``,
  ``{{now}}``/``{{now-60s}}``/``{{now+3600s}}`` (from the moment the run started, so the
  same text is the same time throughout: a retry resends what was sent), ``{{devIdToken:SUBJECT}}``,
  ``{{demo.staffPassword}}``, ``{{totp:Name.path.to.secret}}`` (the current TOTP code of a
  secret from an earlier answer, from a later time step at every use: a code works once),
  ``{{mailCode:ADDRESS}}`` (the newest verification code, not handed out before, the dev
  server mailed to ADDRESS, read from its mail folder ``var/mail/``),
  ``{{passkeyCreate:Ref.path}}``/``{{passkeyGet:Ref.path}}``
  (a software authenticator's answer, as ``JSON.stringify(credential.toJSON())``, to the
  options JSON at ``Ref.path``: it keeps its passkeys for the whole run),
  ``{{linkToken:Name.path.to.text}}`` (the ``token`` query
  parameter of the first link in that text, as a user opening it would send it);
- a subscription is opened where it stands, the example after it is run, and then the
  subscription must deliver a message without errors; while the subscription stays silent
  the example after it is run again (the server may not be listening yet on a busy
  machine), so that example must be safe to repeat;
- a ```json block after ``<!-- answer: Name -->`` is a sample answer: the answer of the
  example ``Name`` (the whole body) must contain it (objects: these keys; lists: these items
  in order; a string ending in ``...``: a string starting so).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "clients.md"

FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)
DIRECTIVE = re.compile(r"<!--\s*example:(.*?)-->\s*$", re.S)
ANSWER = re.compile(r"<!--\s*answer:\s*(\w+)\s*-->\s*$")
OPERATION_NAME = re.compile(r"^\s*(query|mutation|subscription)\s+(\w+)")
PLACEHOLDER = re.compile(r"\{\{([^{}]+)\}\}")


@dataclass
class Example:
    name: str
    operation: str
    kind: str  # query, mutation or subscription
    document: str
    variables: str
    line: int
    directives: dict[str, str] = field(default_factory=dict)

    @property
    def expects_errors(self) -> bool:
        return self.directives.get("expect") == "errors"


@dataclass
class _Block:
    language: str
    body: str
    start: int
    end: int
    directives: dict[str, str] | None
    answer_of: str | None


def _blocks(text: str) -> list[_Block]:
    blocks = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip()
        last_line = before[before.rfind("\n") + 1 :] if before else ""
        directive = DIRECTIVE.search(last_line)
        answer = ANSWER.search(last_line)
        directives = None
        if directive:
            directives = dict(pair.split("=", 1) for pair in directive.group(1).split())
        blocks.append(
            _Block(
                match.group(1),
                match.group(2),
                match.start(),
                match.end(),
                directives,
                answer.group(1) if answer else None,
            )
        )
    return blocks


def examples(text: str | None = None) -> list[Example]:
    """The guide's examples in order."""
    text = GUIDE.read_text() if text is None else text
    blocks = _blocks(text)
    found: list[Example] = []
    by_operation: dict[str, Example] = {}
    used: set[int] = set()
    for i, block in enumerate(blocks):
        line = text.count("\n", 0, block.start) + 1
        if block.language == "graphql":
            header = OPERATION_NAME.match(block.body)
            assert header, f"docs/clients.md:{line}: an operation without a name"
            kind, name = header.groups()
            assert name not in by_operation, f"docs/clients.md:{line}: a second {name}"
            variables = "{}"
            following = blocks[i + 1] if i + 1 < len(blocks) else None
            if (
                following is not None
                and following.language == "json"
                and following.directives is None
                and following.answer_of is None
                and not text[block.end : following.start].strip()
            ):
                variables = following.body
                used.add(i + 1)
            example = Example(name, name, kind, block.body, variables, line, block.directives or {})
            by_operation[name] = example
            found.append(example)
        elif block.language == "json" and block.directives and i not in used:
            directives = dict(block.directives)
            operation = directives.pop("operation", None)
            assert operation in by_operation, (
                f"docs/clients.md:{line}: `operation=` must name an earlier operation"
            )
            original = by_operation[operation]
            name = directives.pop("name", None)
            assert name, f"docs/clients.md:{line}: a rerun needs `name=`"
            found.append(
                Example(
                    name,
                    operation,
                    original.kind,
                    original.document,
                    block.body,
                    line,
                    directives,
                )
            )
    names = [example.name for example in found]
    assert len(names) == len(set(names)), "two examples of the guide share a name"
    return found


def code_block(text: str, file_name: str) -> str:
    """The guide's ```ts block that starts with ``// file: <file_name>``."""
    for block in _blocks(text):
        if block.language == "ts" and block.body.startswith(f"// file: {file_name}\n"):
            return block.body
    raise AssertionError(f"no ```ts block for {file_name} in docs/clients.md")


@dataclass
class SampleAnswer:
    name: str
    body: str
    line: int


def sample_answers(text: str | None = None) -> list[SampleAnswer]:
    """The sample answers (``<!-- answer: Name -->``) of the guide."""
    text = GUIDE.read_text() if text is None else text
    return [
        SampleAnswer(block.answer_of, block.body, text.count("\n", 0, block.start) + 1)
        for block in _blocks(text)
        if block.answer_of is not None and block.language == "json"
    ]


def contains(answer: object, sample: object) -> bool:
    """``sample`` is ``answer`` with parts left out (see the module's docstring)."""
    if isinstance(sample, dict):
        return isinstance(answer, dict) and all(
            key in answer and contains(answer[key], value) for key, value in sample.items()
        )
    if isinstance(sample, list):
        return (
            isinstance(answer, list)
            and len(answer) == len(sample)
            and all(contains(a, s) for a, s in zip(answer, sample, strict=True))
        )
    if isinstance(sample, str) and sample.endswith("..."):
        return isinstance(answer, str) and answer.startswith(sample[:-3])
    return answer == sample
