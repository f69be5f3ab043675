"""Hub-side tools: the reference subscriber a hub developer runs against real nodes (`shelf-node hub watch`).

`tracker` is pure (topic + payload in, a validated record out); `watcher` subscribes with a
persistent session and feeds it. Nothing in the node imports this package.
"""
