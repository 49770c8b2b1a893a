"""An event's date given as a range: refused clearly when malformed, drawn per run, set per run by a design."""

import numpy as np
import pytest

from sim.runs.scenario import ScenarioError, load_scenario

SANCTIONS = "  - type: secondary_sanctions\n    actor: US\n    target: RU\n    magnitude: 1.0\n"


def scenario(tmp_path, at: str, extra: str = ""):
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\ndescription: d\nevents:\n{SANCTIONS}    at: {at}\n{extra}")
    return path


@pytest.mark.parametrize(
    "at,expected",
    [
        ("[2026-01]", "two rising dates"),
        ("[2027-01, 2026-01]", "two rising dates"),
        ("[2026-01, soon]", "two rising dates"),
        ("[2024-01, 2026-01]", "before the scenario start"),
    ],
)
def test_a_malformed_date_range_is_refused_with_file_line_and_field(tmp_path, at, expected):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(scenario(tmp_path, at))
    assert str(caught.value).startswith(f"{tmp_path / 's.yaml'}:8: events[0].at:")
    assert expected in str(caught.value)


def test_each_run_draws_its_quarter_within_the_range_and_keeps_the_events_length(tmp_path):
    s = load_scenario(scenario(tmp_path, "[2026-01, 2027-01]", "    until: 2026-07\n"))
    assert s.as_dict()["events"][0]["at"] == ["2026-01", "2027-01"]
    model = s.model(runs=4000, seed=2, record=False)
    event = model.events[0]
    steps = event.steps(model, 0)
    first = model.calendar.step_of(event.at)
    assert set(np.unique(steps)) == set(range(first, first + 5))  # five quarters, 2026-01 to 2027-01
    assert np.all(np.abs(np.bincount(steps - first) / 4000 - 0.2) < 0.03)  # each about as likely
    model.step()
    model.step()
    model.step()  # the first quarters of the range have fired
    shocks = [sh for sh in model.shocks if np.any(sh.amount != 0)]
    assert shocks and {sh.end - sh.start for sh in shocks} == {2}  # two quarters long, whenever it fell
    for sh in shocks:  # each quarter's firing moves only the runs whose event falls in it
        assert np.array_equal(sh.amount != 0, steps == sh.start - 1)


def test_the_same_run_draws_the_same_date_in_any_chunk(tmp_path):
    s = load_scenario(scenario(tmp_path, "[2026-01, 2028-01]"))
    whole = s.model(runs=50, seed=4, record=False)
    part = s.model(runs=10, seed=4, first_run=20, record=False)
    np.testing.assert_array_equal(whole.events[0].steps(whole, 0)[20:30], part.events[0].steps(part, 0))


def test_a_design_sets_each_runs_date_and_magnitude(tmp_path):
    import dataclasses

    s = load_scenario(scenario(tmp_path, "[2026-01, 2028-01]"))
    early = s.model(runs=2, seed=1, record=False, event_values={"events[0].at": np.array([3, 7])})
    assert list(early.events[0].steps(early, 0)) == [3, 7]
    calm = s.model(runs=2, seed=1, record=False, event_values={"events[0].magnitude": np.zeros(2)})
    calm.run_for(s.steps)
    none = dataclasses.replace(s, events=[]).model(runs=2, seed=1, record=False)
    none.run_for(s.steps)
    np.testing.assert_array_equal(calm.hedger.alignment, none.hedger.alignment)  # magnitude 0: as no event
