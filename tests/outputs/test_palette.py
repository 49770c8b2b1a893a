"""The colours of the powers and the demands, told apart by viewers with colour-blind eyes.

Each pair of colours that share a chart must stay distinct (CIE76 ΔE of at
least 20 in CIELAB) for normal vision and as simulated for protanopia,
deuteranopia and tritanopia (Machado, Oliveira and Fernandes 2009, severity
1). The former palette (the United States blue beside Russia purple) fails it.
"""

import itertools

import numpy as np
import pytest

from sim.outputs.plots import COLOURS, DIM_COLOURS, HEDGING_COLOUR

VISION = {
    "normal": np.eye(3),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}  # fmt: skip
SRGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
WHITE = np.array([0.95047, 1.0, 1.08883])
DISTINCT = 20.0


def linear(colour: str) -> np.ndarray:
    c = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def lab(rgb: np.ndarray) -> np.ndarray:
    x = SRGB_TO_XYZ @ np.clip(rgb, 0, 1) / WHITE
    f = np.where(x > 0.008856, np.cbrt(x), 7.787 * x + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def worst(colours) -> float:
    return min(
        float(np.linalg.norm(lab(m @ linear(a)) - lab(m @ linear(b))))
        for a, b in itertools.combinations(colours, 2)
        for m in VISION.values()
    )


@pytest.mark.parametrize(
    "colours",
    [list(COLOURS.values()), [*DIM_COLOURS.values(), HEDGING_COLOUR]],
    ids=["powers", "demands and hedging"],
)
def test_colours_that_share_a_chart_are_told_apart_by_every_kind_of_eye(colours):
    assert worst(colours) >= DISTINCT


def test_the_check_fails_the_former_palette():
    assert worst(["#1f5fa8", "#c0392b", "#6c3483"]) < DISTINCT  # blue and purple, to a protanope
