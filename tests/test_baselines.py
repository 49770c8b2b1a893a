"""Golden baselines: whole runs of every shipped scenario against their recorded key results.

``tests/baselines/<scenario>.json`` holds, for each scenario of ``scenarios/*.yaml`` at seed 1 and 200
runs, the key results of the run (survival, failure modes, final alignment quantiles, tiers, satisfaction,
courtship, coercion, hedging index) and a sha256 of its trajectories and verdicts. A fresh run must give them
exactly: the model is deterministic, the same bits for the same seed (docs/ODD.md 9), so no tolerance.

A change of the model that moves them updates them on purpose, in the same commit, saying why:

    .venv/bin/python tests/test_baselines.py            # rewrites tests/baselines/*.json from fresh runs

An upgrade of numpy or numba may move the last bits too; then the sha256 changes while the key results
agree to many digits, and the message of the failing test shows by how much.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, SCENARIOS

from sim.model.domain import DIMENSIONS, POWERS, TIERS
from sim.runs.scenario import load_scenario

BASELINES = Path(__file__).resolve().parent / "baselines"
RUNS, SEED = 200, 1
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
SHIPPED = sorted(SCENARIOS.glob("*.yaml"))


def results(path: Path) -> dict[str, object]:
    """The key results of scenario ``path`` run with ``RUNS`` runs at ``SEED``, as its baseline holds them."""
    scenario = load_scenario(path)
    m = scenario.model(runs=RUNS, seed=SEED)
    m.run_for(scenario.steps)
    t = m.trajectories()
    digest = hashlib.sha256()
    for key, value in sorted(t.items()):
        digest.update(key.encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    digest.update(m.verdict.mode.tobytes())
    digest.update(m.verdict.step.tobytes())
    digest.update(m.verdict.coerced_step.tobytes())
    final = {key: value[-1] for key, value in t.items()}

    def per_power(x: np.ndarray) -> dict[str, float]:
        return {p: float(x[:, i].mean()) for i, p in enumerate(POWERS)}

    return {
        "scenario": str(path.relative_to(REPO)),
        "scenario_sha256": scenario.content_hash(),
        "runs": RUNS,
        "seed": SEED,
        "steps": scenario.steps,
        "strategy": m.strategy,
        "survival": m.survival_probability(),
        "failure_modes": m.failure_modes(),
        "failure_step_mean": float(m.verdict.step[m.verdict.step >= 0].mean()) if (m.verdict.step >= 0).any() else None,
        "recovered": float(m.verdict.recovered.mean()),
        "sustained_coercion": float(m.verdict.coerced.mean()),
        "final_alignment_quantiles": {
            p: [float(q) for q in np.quantile(final["alignment"][:, i], QUANTILES)] for i, p in enumerate(POWERS)
        },
        "final_alignment_mean": per_power(final["alignment"]),
        "final_tier_counts": {
            p: np.bincount(final["tier"][:, i], minlength=len(TIERS)).tolist() for i, p in enumerate(POWERS)
        },
        "final_satisfaction_mean": {d: float(final["satisfaction"][:, i].mean()) for i, d in enumerate(DIMENSIONS)},
        "final_courtship_mean": per_power(final["courtship"]),
        "final_coercion_mean": per_power(final["coercion"]),
        "final_memory_mean": per_power(final["memory"]),
        "final_hedging_index": {
            "mean": float(final["hedging_index"].mean()),
            "quantiles": [float(q) for q in np.quantile(final["hedging_index"], QUANTILES)],
        },
        "trajectories_sha256": digest.hexdigest(),
    }


def baseline(path: Path) -> Path:
    return BASELINES / f"{path.stem}.json"


def test_every_shipped_scenario_has_a_baseline():
    assert SHIPPED
    assert sorted(p.name for p in BASELINES.glob("*.json")) == sorted(f"{p.stem}.json" for p in SHIPPED)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_a_fresh_run_gives_its_baseline(path):
    recorded = json.loads(baseline(path).read_text())
    fresh = json.loads(json.dumps(results(path)))  # through JSON, as recorded (floats round-trip exactly)
    moved = {k: (recorded.get(k), v) for k, v in fresh.items() if recorded.get(k) != v}
    assert not moved, (
        f"{path.name} moved from its baseline (recorded, fresh): {moved}; if the model changed on purpose, "
        "rewrite the baselines with `python tests/test_baselines.py` and say why in the commit"
    )
    assert recorded.keys() == fresh.keys()


def update() -> None:
    """Rewrite every baseline from a fresh run, and remove those of scenarios no longer shipped."""
    BASELINES.mkdir(exist_ok=True)
    for stale in set(BASELINES.glob("*.json")) - {baseline(p) for p in SHIPPED}:
        stale.unlink()
    for path in SHIPPED:
        baseline(path).write_text(json.dumps(results(path), indent=2) + "\n")
        print(f"wrote {baseline(path).relative_to(REPO)}")


if __name__ == "__main__":
    if sys.argv[1:] not in ([], ["--update"]):
        sys.exit("usage: python tests/test_baselines.py [--update]  (rewrites tests/baselines/*.json)")
    update()
