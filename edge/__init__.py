"""shelf-node: the smart-shelf node daemon and its tools."""

__version__ = "0.1.0"
