"""The lockfiles `./bamboo` installs from: current with pyproject.toml, nested, and what this environment holds."""

import re
import tomllib
from importlib.metadata import PackageNotFoundError, version

import pytest
from conftest import REPO
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

LEVELS = {"run": "requirements.lock", "app": "requirements-app.lock", "test": "requirements-test.lock"}
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^ ;\\]+)(?: ; ([^\\]+?))? *\\?$", re.M)
TEST_TOOLS = {"pytest", "pytest-xdist", "pytest-cov", "hypothesis", "ruff", "mypy", "import-linter"}


def pins(level: str) -> dict[str, tuple[str, str | None]]:
    """A lockfile's packages: name -> (version, marker or None)."""
    text = (REPO / LEVELS[level]).read_text(encoding="utf-8")
    return {canonicalize_name(m[1]): (m[2], m[3]) for m in PIN.finditer(text)}


def project() -> dict:
    with (REPO / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)["project"]


def test_every_pin_carries_a_hash():
    for name in LEVELS.values():
        text = (REPO / name).read_text(encoding="utf-8")
        blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
        assert blocks and all("--hash=sha256:" in b for b in blocks if not b.startswith("#")), name


def test_each_level_holds_the_one_below_at_the_same_versions():
    run, app, test = pins("run"), pins("app"), pins("test")
    assert run.items() <= app.items() and app.items() <= test.items()
    assert not TEST_TOOLS & run.keys() and not TEST_TOOLS & app.keys()  # `./bamboo run` installs no test tool
    assert test.keys() >= TEST_TOOLS and {"solara", "playwright"} <= app.keys() - run.keys()


@pytest.mark.parametrize(("level", "extras"), [("run", []), ("app", ["app"]), ("test", ["test", "app"])])
def test_the_pins_satisfy_pyproject(level, extras):
    """A dependency changed in pyproject.toml without `./bamboo lock` fails here."""
    meta, pinned = project(), pins(level)
    wanted = [Requirement(r) for r in meta["dependencies"]]
    wanted += [Requirement(r) for e in extras for r in meta["optional-dependencies"][e]]
    for req in wanted:
        if canonicalize_name(req.name) == canonicalize_name(meta["name"]):
            continue  # the package's own extras, already listed
        assert canonicalize_name(req.name) in pinned, f"{LEVELS[level]} lacks {req.name}: ./bamboo lock"
        assert req.specifier.contains(pinned[canonicalize_name(req.name)][0], prereleases=True), (level, str(req))


def test_this_environment_holds_the_pinned_versions():
    """The environment the tests run in is the one the test lockfile describes (its packages for this machine)."""
    wrong = {}
    for name, (pinned, marker) in pins("test").items():
        if marker is not None and not Marker(marker).evaluate():
            continue
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = None
        if installed != pinned:
            wrong[name] = (pinned, installed)
    assert not wrong, f"installed versions differ from requirements-test.lock (pinned, installed): {wrong}"
