"""Broker fixture placeholder; the MQTT owner replaces it with a real mosquitto fixture."""
