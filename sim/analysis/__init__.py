"""Analysis of the model: history, forecasts and their scores, calibration, sensitivity, discovery, facts.

Each is built on the runs of the layer below; none is needed to run a scenario.
"""
