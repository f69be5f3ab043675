"""The node file an installer drops on the boot partition (`shelf-node.toml`):

    store_id = "store-0042"
    node_id = "aisle3-bay2-shelf4"

    [broker]
    host = "hub.store-0042.lan"
    port = 8883                  # default 8883 with tls, 1883 without
    username = "aisle3-bay2-shelf4"
    password = "..."             # the one place a secret is written inline; moved to secrets/ at first boot
    tls = true                   # default true
    ca_pem = '''-----BEGIN CERTIFICATE-----
    ...
    -----END CERTIFICATE-----''' # optional: the store CA; without it the system's CAs verify the broker
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator

from edge.config.base import Section, problem_at
from edge.config.loader import load_toml_model
from edge.config.node import IDENTIFIER

PEM_BEGIN = "-----BEGIN CERTIFICATE-----"
DOCS = "docs/install.md"


class BrokerSection(Section):
    host: str = Field(description="The store hub's broker host name or address.")
    port: int | None = Field(default=None, gt=0, lt=65536, description="Unset: 8883 with tls, 1883 without.")
    username: str | None = Field(default=None, description="Broker user name of this node.")
    password: str | None = Field(default=None, description="Broker password; moved to secrets/mqtt-password.")
    tls: bool = Field(default=True, description="Connect with TLS.")
    ca_pem: str | None = Field(default=None, description="The CA certificate (PEM) that signed the broker's.")

    @field_validator("ca_pem")
    @classmethod
    def _is_pem(cls, value: str | None) -> str | None:
        if value is not None and PEM_BEGIN not in value:
            raise ValueError(f"must be a PEM certificate (a block starting {PEM_BEGIN})")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> BrokerSection:
        if self.password is not None and self.username is None:
            raise problem_at("username", "is missing but broker.password is set; set the broker user name")
        if self.ca_pem is not None and not self.tls:
            raise problem_at("ca_pem", "is set but broker.tls is false; remove ca_pem or set tls = true")
        return self

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else (8883 if self.tls else 1883)


class NodeFile(Section):
    store_id: str = Field(pattern=IDENTIFIER, description="Store identifier.")
    node_id: str = Field(pattern=IDENTIFIER, description="This shelf node's identifier within the store.")
    broker: BrokerSection


def load_node_file(path: Path) -> NodeFile:
    """ConfigError with one located line per problem (a password is never quoted back); the file is read as
    every config file is (edge.config.loader.load_toml_model: not UTF-8, unreadable)."""
    return load_toml_model(path, NodeFile, if_missing=f"the installer puts it on the boot partition ({DOCS})",
                           docs=DOCS)
