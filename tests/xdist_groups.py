"""Test groups for pytest-xdist (scripts/test.sh runs `-n auto --dist loadgroup`): the tests that
share a slow fixture run on one worker, so each such fixture is made once, and one llama.cpp
server runs at a time.

Tests are linked when they use the same module-scoped fixture or one of SLOW_SESSION_FIXTURES
(a model server, built runs); an explicit `@pytest.mark.xdist_group(name)` links them too. Every
other test is scheduled on its own. pytest 9 ignores the way xdist's own loadgroup tags test ids,
so each worker writes the groups it collected to a file the controller's scheduler reads.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

SLOW_SESSION_FIXTURES = {"llama_server", "runs", "starter_runs"}
GROUPS_ENV = "BENCHAGENT_TEST_GROUPS"  # the file, named by the controller for its workers
# xdist's workers start with COLUMNS=80 and LINES=24 set, which the CLI's tables take for a
# terminal's width: the workers get the controller's values back (or none).
TERMINAL_ENV = "BENCHAGENT_TEST_TERMINAL"
TERMINAL_VARIABLES = ("COLUMNS", "LINES")


def _slow_fixtures(item: pytest.Item) -> list[str]:
    """Keys of what links `item` to other tests: module-scoped fixtures by module, slow session
    fixtures by where they are defined, xdist_group marks by name."""
    keys = [f"mark:{mark.args[0] if mark.args else mark.kwargs.get('name', 'default')}"
            for mark in item.iter_markers("xdist_group")]
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return keys
    for name in info.names_closure:
        definitions = info.name2fixturedefs.get(name)
        if not definitions:
            continue
        scope = definitions[-1].scope
        if scope == "module":
            keys.append(item.nodeid.split("::")[0])
        elif scope == "session" and name in SLOW_SESSION_FIXTURES:
            keys.append(f"{definitions[-1].baseid}:{name}")
    return keys


def groups_of(items: list[pytest.Item]) -> dict[str, str]:
    """The group of each linked test, by test id (a group is named after one of its keys)."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    linked = {item.nodeid: _slow_fixtures(item) for item in items}
    for keys in linked.values():
        for key in keys[1:]:
            parent[root(key)] = root(keys[0])
    return {nodeid: root(keys[0]) for nodeid, keys in linked.items() if keys}


def pytest_configure(config: pytest.Config) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:  # the workers use every core already: one CPU process per build
        os.environ.setdefault("BENCHAGENT_CPU_WORKERS", "1")
        _restore_terminal()
        return
    os.environ[TERMINAL_ENV] = json.dumps({name: os.environ.get(name)
                                           for name in TERMINAL_VARIABLES})
    if config.pluginmanager.hasplugin("xdist") and config.getoption("dist") == "loadgroup":
        folder = Path(tempfile.mkdtemp(prefix="benchagent-test-groups-"))
        os.environ[GROUPS_ENV] = str(folder / "groups.json")  # workers start after this


def _restore_terminal() -> None:
    controller = json.loads(os.environ.get(TERMINAL_ENV, "{}"))
    for name in TERMINAL_VARIABLES if controller else ():
        if controller.get(name) is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = controller[name]


def pytest_unconfigure(config: pytest.Config) -> None:
    target = os.environ.get(GROUPS_ENV)
    if target and not os.environ.get("PYTEST_XDIST_WORKER"):
        shutil.rmtree(Path(target).parent, ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    target = os.environ.get(GROUPS_ENV)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if target and worker:
        partial = Path(f"{target}.{worker}")
        partial.write_text(json.dumps(groups_of(items)))
        os.replace(partial, target)  # every worker collects the same tests: the same groups


try:
    from xdist.scheduler import LoadScopeScheduling
except ImportError:  # pytest-xdist not installed: the tests run in one process
    pass
else:

    class FixtureGroupScheduling(LoadScopeScheduling):  # type: ignore[misc]
        """xdist's scope scheduling with the groups the workers wrote as scopes."""

        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:
                self.groups = json.loads(Path(os.environ[GROUPS_ENV]).read_text())
            return self.groups.get(nodeid, nodeid)

    def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
        if config.getoption("dist") != "loadgroup" or GROUPS_ENV not in os.environ:
            return None
        return FixtureGroupScheduling(config, log)
