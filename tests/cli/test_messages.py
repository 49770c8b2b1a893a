"""What a message may say: the file, line and field at fault in the user's words; no Python internals;
nothing of a file beyond the offending token; and ``validate`` refuses exactly what ``run`` refuses.
"""

from pathlib import Path

import pytest
from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli.main import main
from sim.model.params import ParameterError
from sim.runs.scenario import ScenarioError, load_scenario
from sim.runs.sweep import load_design

HEAD = "name: Test\ndescription: A test scenario.\n"
INTERNALS = (
    "NoneType",
    "datetime",
    "set_int_max_str_digits",
    "<unicode string>",
    "position ",
    "PosixPath",
    "Traceback",
    "'str'",
    "'int'",
    "maximum recursion",
    "Errno",
)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def refusal(path) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    for word in INTERNALS:
        assert word not in str(info.value), str(info.value)
    return info.value


# -- no Python internals ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("# only a comment\n", 1, "found nothing (null, or only comments)"),
        (HEAD + "horizon: 2030-01-01\n", 3, "expected a date as YYYY-MM, got '2030-01-01'"),
        (HEAD + f"runs: 1{'0' * 5000}\n", 3, "got a whole number of 5001 digits"),
        (HEAD + "runs: 5\x07\n", 3, "the character U+0007 is not allowed"),
        (HEAD + "seed: !!binary aGVsbG8=\n", 3, "the tag !!binary is not used here"),
        (HEAD + "sources: !!set {a: null}\n", 3, "the tag !!set is not used here"),
        (HEAD + "start: !!timestamp 2025-07-01\n", 3, "the tag !!timestamp is not used here"),
        (HEAD + "runs: null\n", 3, "got null"),
        (HEAD + "uncertainty: [yes]\n", 3, "got [True]".replace("True", "true")),
    ],
)
def test_messages_speak_yaml_not_python(tmp_path, text, line, expected):
    err = refusal(write(tmp_path / "s.yaml", text))
    assert err.line == line and expected in str(err)


def test_exponents_are_numbers(tmp_path):
    assert load_scenario(write(tmp_path / "a.yaml", HEAD + "runs: 1e3\n")).runs == 1000
    params = load_scenario(write(tmp_path / "b.yaml", HEAD + "parameters:\n  powers.RU.reach: 4.5e-1\n"))
    assert params.parameter_set.value("powers.RU.reach") == 0.45
    err = refusal(write(tmp_path / "c.yaml", HEAD + "parameters:\n  powers.RU.reach: 1e308\n"))
    assert "expected values in [0, 1], got 1e+308" in str(err)
    err = refusal(write(tmp_path / "d.yaml", HEAD + "runs: 2.5e0\n"))
    assert "expected a whole number from 1 to 100000000, got 2.5" in str(err)


def test_a_base_that_is_a_folder_says_so(tmp_path):
    (tmp_path / "world.yaml").mkdir()
    err = refusal(write(tmp_path / "s.yaml", HEAD + "base: world.yaml\n"))
    assert err.line == 3 and "is a folder; expected a scenario file" in str(err)
    (tmp_path / "world").mkdir()
    err = refusal(write(tmp_path / "t.yaml", HEAD + "base: world\n"))
    assert "ending in .yaml or .yml" in str(err) and "not found" not in str(err)


def test_merge_keys_may_be_overridden_but_own_keys_not_repeated(tmp_path):
    text = HEAD + "events:\n  - &e {type: summit, at: 2026-01, actor: US}\n  - <<: *e\n    at: 2027-01\n"
    s = load_scenario(write(tmp_path / "m.yaml", text))
    assert [str(e.at) for e in s.events] == ["2026-01", "2027-01"] and s.events[1].fields["actor"] == "US"
    twice = text + "    at: 2028-01\n"
    err = refusal(write(tmp_path / "twice.yaml", twice))
    assert err.line == 7 and "duplicate key" in str(err)


# -- nothing of a file beyond the token at fault --------------------------------------------------
SECRET = "correct-horse-battery-staple"


def test_base_reaches_only_scenario_files_and_never_echoes_another_file(tmp_path):
    write(tmp_path / "shadow", f"root:{SECRET}:19000:0:99999:7:::\n")
    write(tmp_path / "secrets.yaml", f"password: {SECRET}\napi_key: {SECRET}\n")
    write(tmp_path / "words.yaml", f"{SECRET} {SECRET}\n")
    write(tmp_path / "broken.yaml", f"{SECRET}: [\n")
    for base in (str(tmp_path / "shadow"), "shadow", "secrets.yaml", "words.yaml", "broken.yaml"):
        err = refusal(write(tmp_path / "s.yaml", HEAD + f"base: {base}\n"))
        assert SECRET not in str(err), str(err)
    write(tmp_path / "config.yaml", f"{SECRET}: true\n")  # even a key of a file that is not a scenario
    err = refusal(write(tmp_path / "s.yaml", HEAD + "base: config.yaml\n"))
    assert SECRET not in str(err) and "not a scenario file" in str(err)
    sweep = write(tmp_path / "d.yaml", f"name: d\nscenario: {tmp_path / 'shadow'}\nparameters: {{}}\n")
    with pytest.raises(ScenarioError, match=r"ending in \.yaml or \.yml") as info:
        load_design(sweep)
    assert SECRET not in str(info.value)


def test_long_values_are_shortened_in_messages(tmp_path):
    err = refusal(write(tmp_path / "s.yaml", HEAD + f"runs: {'x' * 5000}\n"))
    assert len(str(err)) < 300
    err = refusal(write(tmp_path / "t.yaml", HEAD + f"{'k' * 5000}: 1\n"))
    assert len(str(err)) < 500


# -- validate refuses what run refuses ---------------------------------------------------------------
def test_thresholds_that_runs_would_draw_out_of_order_are_refused_by_validate(tmp_path):
    path = write(tmp_path / "t.yaml", HEAD + "parameters: {thresholds.comprehensive: [0.05, 0.45]}\n")
    validate = run_cli("validate", path)
    run = run_cli("run", path, "--out", tmp_path / "o")
    for done in (validate, run):
        assert done.returncode == 2
        assert f"{path}:3: parameters.thresholds.comprehensive: tiers must rise strictly" in done.stderr
    assert not (tmp_path / "o").exists()


THRESHOLD = st.one_of(
    st.floats(0, 1),
    st.lists(st.floats(0, 1), min_size=2, max_size=2).map(sorted),
)
DRAWN = ["thresholds.comprehensive", "thresholds.strategic", "thresholds.comprehensive_strategic"]
DRAWN += ["thresholds.alliance", "hedger.alignment.CN", "hedger.four_nos"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.fixed_dictionaries({}, optional=dict.fromkeys(DRAWN, THRESHOLD)), uncertainty=st.booleans())
def test_whatever_validate_accepts_every_run_can_draw(tmp_path, values, uncertainty):
    params = "".join(f"  {k}: {v}\n" for k, v in values.items())
    text = HEAD + f"uncertainty: {str(uncertainty).lower()}\nparameters:\n{params or '  {}'}\n"
    if not params:
        text = HEAD + f"uncertainty: {str(uncertainty).lower()}\n"
    try:
        scenario = load_scenario(write(tmp_path / "p.yaml", text))
    except ScenarioError:
        return
    try:
        scenario.model(runs=3000, seed=7)
    except ParameterError as exc:
        pytest.fail(f"validate accepted what a run refuses: {exc}\n{text}")


# -- names are text, not mathtext --------------------------------------------------------------------
MATHTEXT = "Tariff $\\\\alpha_{x$ storm"


@pytest.mark.slow
def test_a_name_with_dollars_runs_compares_and_sweeps(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "s.yaml", f'name: "{MATHTEXT}"\ndescription: d\nhorizon: 2026-07\nruns: 20\n')
    write(
        tmp_path / "d.yaml", f'name: "{MATHTEXT}"\nscenario: s.yaml\nruns: 10\nparameters:\n  powers.RU.reach: {{}}\n'
    )
    assert main(["run", "s.yaml", "--out", "run", "--quiet"]) == 0
    assert main(["compare", "s.yaml", "s.yaml", "--out", "cmp", "--quiet"]) == 0
    assert main(["sweep", "d.yaml", "--out", "swp", "--quiet"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmp", "d.yaml", "run", "s.yaml", "swp"]


def test_a_lone_surrogate_is_refused_by_validate_with_its_line(tmp_path):
    path = write(tmp_path / "s.yaml", 'description: d\nname: "Tariff \\ud800"\n')
    err = refusal(path)
    assert err.line == 2 and "surrogate" in str(err)
    done = run_cli("run", path, "--out", tmp_path / "o")
    assert done.returncode == 2 and sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


def test_the_dashboard_draws_a_name_with_dollars():
    import json

    from sim.classroom.charts import world_chart
    from sim.classroom.lesson import Lesson

    lesson = Lesson()
    lesson.upload("dollars.yaml", f'name: "{MATHTEXT}"\ndescription: d\n'.encode())
    option = json.loads(json.dumps(world_chart(lesson.model())))  # plain data for the browser, drawn as text
    assert option["title"]["text"].startswith(lesson.scenario.name) and "$" in lesson.scenario.name


# -- tags and huge literals ----------------------------------------------------------------------------
TAGGED = ["!!int abc", "!!float x", "!!bool abc", '!!int ""', "!!map abc", "!!seq abc", "!!int [1]", "!!int 0x"]
TAGGED += ["!!str 5", "!foo 3", "!<tag:yaml.org,2002:python/none> x"]


@pytest.mark.parametrize("value", TAGGED)
def test_a_value_written_with_a_tag_is_refused_at_its_line(tmp_path, value):
    err = refusal(write(tmp_path / "s.yaml", HEAD + f"runs: {value}\n"))
    assert err.line == 3 and "is not used here; expected text, numbers, lists, mappings" in str(err), str(err)


@pytest.mark.parametrize("value", ["0x" + "f" * 5000, "0o" + "7" * 5000, "0b" + "1" * 5000, "1_000" * 1000, "0x_"])
def test_a_huge_or_broken_literal_is_refused_and_never_converted(tmp_path, value):
    err = refusal(write(tmp_path / "s.yaml", HEAD + f"runs: {value}\n"))
    assert err.line == 3 and "runs" in str(err) and len(str(err)) < 300, str(err)


def test_every_command_that_reads_yaml_refuses_a_tag_in_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "bad.yaml", HEAD + "runs: !!int abc\n")
    write(tmp_path / "ok.yaml", HEAD + "horizon: 2026-07\nruns: 10\n")
    write(tmp_path / "design.yaml", "name: d\nscenario: ok.yaml\nruns: !!float x\nparameters:\n  powers.RU.reach: {}\n")
    write(tmp_path / "record.yaml", "years: !!seq abc\n")
    commands = [
        ["validate", "bad.yaml"],
        ["run", "bad.yaml"],
        ["compare", "ok.yaml", "bad.yaml"],
        ["sweep", "design.yaml"],
        ["sensitivity", "bad.yaml"],
        ["discover", "bad.yaml"],
        ["history", "--scenario", "bad.yaml"],
        ["history", "--record", "record.yaml"],
        ["calibrate", "--scenario", "bad.yaml"],
        ["calibrate", "--record", "record.yaml"],
    ]
    for command in commands:
        done = run_cli(*command)
        assert done.returncode == 2, (command, done.stderr)
        assert "is not used here" in done.stderr and done.stderr.count("\n") == 1, (command, done.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml", "design.yaml", "ok.yaml", "record.yaml"]


# -- what a file may print ------------------------------------------------------------------------------
HOSTILE = ["\\e[2J\\e[H", "\\u202e", "two\\nlines", "\\r", "\\a", "\\x85", "\\u2028"]  # as YAML writes them


@pytest.mark.parametrize("text", HOSTILE)
def test_text_from_a_file_is_escaped_in_every_message(tmp_path, monkeypatch, text):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "ok.yaml", HEAD)
    scenarios = [
        HEAD + f'"bad{text}key": 1\n',
        HEAD + f'events:\n  - type: "tar{text}iff"\n    at: 2026-01\n',
        HEAD + f'events:\n  - type: summit\n    at: 2026-01\n    "ac{text}tor": US\n',
        HEAD + f'parameters:\n  "powers.RU.re{text}ach": 0.5\n',
        HEAD + f'base: "wor{text}ld.yaml"\n',
        HEAD + f'base: "wor{text}ld"\n',
        HEAD + f'strategy: "he{text}dge"\n',
        HEAD + f'horizon: "20{text}30-01"\n',
    ]
    commands = [["validate", write(tmp_path / f"s{i}.yaml", t)] for i, t in enumerate(scenarios)]
    design = f'name: d\nscenario: ok.yaml\n"k{text}": 1\nparameters:\n  powers.RU.reach: {{}}\n'
    commands.append(["sweep", write(tmp_path / "d.yaml", design)])
    for command in commands:
        done = run_cli(*command)
        assert done.returncode == 2, (command, done.stderr)
        assert done.stderr.endswith("\n") and done.stderr[:-1].isprintable(), (command, done.stderr)


def test_names_and_paths_from_a_file_are_bounded(tmp_path):
    err = refusal(write(tmp_path / "a.yaml", f"name: {'n' * 100_000}\ndescription: d\n"))
    assert err.line == 1 and "name" in str(err) and len(str(err)) < 300, str(err)[:300]
    err = refusal(write(tmp_path / "b.yaml", f"name: {'n' * 500}\ndescription: d\n"))
    assert err.line == 1 and "expected at most 200" in str(err) and len(str(err)) < 300, str(err)[:300]
    for length in (5_000, 3_000):
        err = refusal(write(tmp_path / "c.yaml", HEAD + f"base: {'b' * length}.yaml\n"))
        assert err.line == 3 and len(str(err)) < 400, str(err)[:400]


def test_a_whole_number_may_be_written_with_an_exponent_up_to_its_limit(tmp_path):
    assert load_scenario(write(tmp_path / "a.yaml", HEAD + "seed: 2e18\n")).seed == 2 * 10**18
    assert load_scenario(write(tmp_path / "b.yaml", HEAD + "runs: 1e8\n")).runs == 10**8
    err = refusal(write(tmp_path / "c.yaml", HEAD + "seed: 1e19\n"))
    assert "expected a whole number from 0 to 9223372036854775807, got 1e+19" in str(err)
