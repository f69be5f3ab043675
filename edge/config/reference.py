"""Render the configuration reference (docs/config.md) from the models themselves, so it cannot drift.

    python -m edge.config.reference > docs/config.md
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from edge.config.base import section_model_of
from edge.config.root import NodeConfig

INTRO = """# Configuration reference

One TOML file: `/etc/shelf-node/config.toml` in production, `--config FILE` (or `$SHELF_NODE_CONFIG`)
to override. It is validated at start; unknown keys are refused, and each problem is reported on its
own line as `FILE: key.path: what is wrong, what is allowed (got VALUE)`, the value written as in the
file (`true`, `"text"`, `[6, 8]`). A cross-key problem names the key to change (`mqtt.reconnect_max_s:
must be at least reconnect_min_s (9) (got 1.0)`); no message repeats a whole table. Numbers must be
finite (`nan` and `inf` are refused) and are never `true`/`false`, flags are never numbers nor quoted
(`"no"`, `"true"`), strings
are never empty and paths never start with `~` (nothing expands it). Examples:
`config/example-node.toml` (real node), `config/sim-node.toml` (simulated shelf).

## Checking a file: `shelf-node config check FILE`

It checks what `run` checks at start, and exits 2 on the first kind of problem it finds (every problem
of that kind listed) or 0 when `run` would accept the file:

1. the schema: every key and value, as above;
2. the files the config refers to: the secret behind `mqtt.password` (read, never shown; an empty file
   is refused), `[mqtt.tls]` files (the CA must load as PEM, the key must be the unencrypted key of
   `cert_file`), `[detector]` model and labels (readable; their sha256 when `model_sha256` /
   `labels_sha256` is set), a `[camera]` video file or frame directory, `outbox.path`'s directory, and
   `node.state_dir` (a directory the node can write, or one the node can create: only its last
   component is created, as systemd's `StateDirectory=` does);
3. the `[detector]` model loaded in the TFLite runtime and its label file parsed, as `run` loads them
   (a saved web page named `detect.tflite` fails here even without `model_sha256`), and the
   `[fusion] planogram` file validated against the node's plates (as `shelf-node planogram check`).

`--schema-only` skips steps 2 and 3 and says so. Lines starting `note:` do not fail the check; they
say what could not be checked here or what the node will wait for: a `credential:` secret when
`$CREDENTIALS_DIRECTORY` is not set (only systemd sets it; check the file of the unit's
`LoadCredential=`), a serial port or camera device that is not plugged in now, a state directory the
node will create, a relative path (the node resolves it against its working directory: `/` under
systemd), a secret file or TLS key that every user can read. Files are checked as the user running
the command; run it as the service user (`sudo -u shelf-node shelf-node config check FILE`) to check
their permissions too. `--json` prints `ok`, `problems`, `notes`, `checked` and the files checked.

## Secrets

Secrets are never inline: `password = "file:/etc/shelf-node/secrets/mqtt-password"` reads a file, and
`password = "credential:mqtt-password"` reads `$CREDENTIALS_DIRECTORY/mqtt-password` (systemd
`LoadCredential=`). Anything else is refused, and the refused value is never printed: an error says
`(got an inline value, 7 characters, not shown)`. The same holds for every key whose name holds
password, passwd, passphrase, secret, token or credential, known or misspelt, or a word one typo from
one of them (`pasword`, `passowrd`). `config show` and the
hub's `config` command print references only.

This reference is generated from the models (`python -m edge.config.reference > docs/config.md`);
a test fails when it is out of date.
"""

def render() -> str:
    out = [INTRO]
    _section(out, "", NodeConfig, top=True)
    return "\n".join(out).rstrip() + "\n"


def _section(out: list[str], path: str, model: type[BaseModel], top: bool = False) -> None:
    rows: list[str] = []
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, field in model.model_fields.items():
        key = f"{path}.{name}" if path else name
        sub = section_model_of(field.annotation)
        if sub is not None:
            array = typing.get_origin(field.annotation) is list
            nested.append((f"{key}" if not array else f"{key}[]", sub))
            continue
        default = "**required**" if field.is_required() else _default(field.default)
        rows.append(f"| `{name}` | {_type_name(field.annotation)} | {default} | {field.description or ''} |")
    if not top:
        title = f"[[{path[:-2]}]]" if path.endswith("[]") else f"[{path}]"
        doc = (model.__doc__ or "").strip().split("\n")[0] if model.__doc__ else ""
        out.append(f"## `{title}`\n")
        if doc and not doc.startswith("Base model") and "Owner" not in doc:
            out.append(doc + "\n")
        out.append("| key | type | default | meaning |\n|---|---|---|---|")
        out.extend(rows)
        out.append("")
    for key, sub in nested:
        _section(out, key, sub)


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):  # TOML has no null: an optional key is one left out
        return " or ".join(_type_name(a) for a in typing.get_args(annotation) if a is not type(None))
    if origin is typing.Literal:
        return " / ".join(f"`{json.dumps(a)}`" for a in typing.get_args(annotation))
    if origin is list:
        return f"list of {_type_name(typing.get_args(annotation)[0])}"
    if origin is tuple:
        return "[" + ", ".join(_type_name(a) for a in typing.get_args(annotation)) + "]"
    return {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "Path": "path"}.get(
        getattr(annotation, "__name__", str(annotation)), getattr(annotation, "__name__", str(annotation)))


def _default(value: Any) -> str:
    if value is PydanticUndefined:
        return ""
    if value is None:
        return "unset"
    if isinstance(value, BaseModel):
        return "see below"
    return f"`{json.dumps(value, default=str)}`"


if __name__ == "__main__":
    print(render(), end="")
