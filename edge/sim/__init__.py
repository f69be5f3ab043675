"""The shelf simulator: a simulated load-cell MCU (live on a pty, or offline to a capture file
with ground truth). See docs/simulator.md. Entry points: `edge.sim.generate.generate_scenario`,
`edge.sim.scenario.load_scenario`, `edge.sim.offline.simulate_to_capture`, `edge.sim.pty_shelf.PtyShelf`.
"""
