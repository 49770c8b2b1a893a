"""README.md's Python example, run as a doctest from the repository root: what it shows is what Bamboo gives."""

import doctest
import re

from conftest import REPO

README = REPO / "README.md"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def test_every_python_example_in_the_readme_is_a_doctest():
    kinds = [m.group(1) for m in BLOCK.finditer(README.read_text(encoding="utf-8"))]
    assert "pycon" in kinds and "python" not in kinds  # an example without prompts would go untested


def test_the_readme_s_python_example_gives_what_it_shows(monkeypatch):
    monkeypatch.chdir(REPO)  # the example names scenario files from the repository root
    text = README.read_text(encoding="utf-8")
    parser, report = doctest.DocTestParser(), []
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for block in BLOCK.finditer(text):
        if block.group(1) == "pycon":
            line = text.count("\n", 0, block.start(2))
            runner.run(parser.get_doctest(block.group(2), {}, "README.md", str(README), line), out=report.append)
    results = runner.summarize(verbose=False)
    assert results.attempted > 10
    assert results.failed == 0, "".join(report)
