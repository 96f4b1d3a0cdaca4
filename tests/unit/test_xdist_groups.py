"""tests/xdist_groups.py: under `-n 2 --dist loadgroup` the tests sharing a module-scoped fixture,
a slow session fixture or an xdist_group mark run on one worker (a small suite of its own, run
by pytest in a subprocess)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
CONFTEST = '''
import pytest
pytest_plugins = ["xdist_groups"]

@pytest.fixture(scope="session")
def runs():
    return "built once"
'''
SUITE = {
    "test_module.py": '''
import pytest
@pytest.fixture(scope="module")
def model():
    return "loaded"
@pytest.mark.parametrize("i", range(4))
def test_uses_the_module_fixture(model, i):
    assert model == "loaded"
''',
    "test_runs_a.py": '''
def test_a(runs):
    assert runs
def test_b(runs):
    assert runs
''',
    "test_runs_b.py": '''
def test_c(runs):
    assert runs
''',
    "test_marked.py": '''
import pytest
@pytest.mark.xdist_group("pair")
@pytest.mark.parametrize("i", range(3))
def test_marked(i):
    pass
''',
    "test_free.py": '''
import pytest
@pytest.mark.parametrize("i", range(4))
def test_free(i):
    pass
''',
}
RAN = re.compile(r"^\[(gw\d)\] .*PASSED (\S+?)(?:\[\d+\])?\s*$")


def test_tests_sharing_a_slow_fixture_run_on_one_worker(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    for name, text in SUITE.items():
        (tmp_path / name).write_text(text)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get(
        "PYTHONPATH", "")])}
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "BENCHAGENT_TEST_GROUPS"):
        env.pop(name, None)
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2",
                             "--dist", "loadgroup", "-v", str(tmp_path)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    workers: dict[str, set[str]] = defaultdict(set)
    for line in result.stdout.splitlines():
        if match := RAN.match(line):
            worker, test = match.groups()
            workers[test.split("::")[0] if "runs" in test else test].add(worker)
    assert sum(1 for line in result.stdout.splitlines() if RAN.match(line)) == 14, result.stdout
    grouped = {"test_module.py::test_uses_the_module_fixture", "test_marked.py::test_marked"}
    for test in grouped:
        assert len(workers[test]) == 1, (test, dict(workers))
    assert len(workers["test_runs_a.py"] | workers["test_runs_b.py"]) == 1, dict(workers)
