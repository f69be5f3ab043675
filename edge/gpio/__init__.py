"""The status LED and the button: which pattern the LED shows for the node's state, what a short and a
long press do (docs/gpio.md). `patterns`, `button` and `panel` are pure (the clock is an argument);
`runner` drives them from the pins of edge/hw/gpio.py in one thread, and runs without them when the
GPIO is absent or fails."""
