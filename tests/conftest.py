"""Fixtures shared by the test suite: the repository, the source documents, worlds to test mechanisms on."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest

from sim.params import World, load_parameters
from sim.streams import Streams

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "scenarios"
# The five source documents live beside the repository, in ../shared/sources (MODEL.md).
SOURCES = REPO.parent / "shared" / "sources"


@pytest.fixture(scope="session")
def sources() -> Path:
    """The folder of source documents; in CI its absence is a failure, elsewhere a skip."""
    if not SOURCES.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"the source documents are missing: expected them in {SOURCES}")
        pytest.skip(f"the source documents are not beside this checkout ({SOURCES})")
    return SOURCES


def make_world(n: int = 4, uncertainty: bool = False, **values: float) -> World:
    """A World of ``n`` runs: the defaults, or draws from the ranges; ``values`` override by path (dots as __)."""
    params = load_parameters()
    runs = np.arange(n, dtype=np.uint64)
    drawn = params.draw(runs, Streams(11, runs) if uncertainty else None)
    for path, v in values.items():
        drawn[path.replace("__", ".")] = np.full(n, float(v))
    return World.assemble(drawn)


def with_scalars(world: World, **changes) -> World:
    return dataclasses.replace(world, scalars={**world.scalars, **changes})


@pytest.fixture
def world() -> World:
    return make_world()
