"""First-boot provisioning (docs/install.md): the installer's small node file on the boot partition becomes
the node's /etc/shelf-node config and secret, and leaves the boot partition."""

from edge.provision.first_boot import NODE_FILE_NAME, ProvisionResult, provision, provisioning_problem

__all__ = ["NODE_FILE_NAME", "ProvisionResult", "provision", "provisioning_problem"]
