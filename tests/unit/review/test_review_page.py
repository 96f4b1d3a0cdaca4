"""`benchagent review` on a benchmark built from the starter pool (clock images, spoken
questions; no model): the page driven with the keyboard in headless Chromium, a killed server
that loses nothing, the token rules, and media paths that lead out of the run."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from benchagent import api
from benchagent.review import ReviewSession
from browser import BrowserPage
from runcli import cli

QUERY = "read the time on analogue clock images, with the question spoken aloud in an audio clip"
HOSTILE_TEXT = '<img src=x onerror="document.title=\'pwned\'"> & <b>bold</b>'
Row = dict[str, Any]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("review-run") / "run"
    env = {"BENCHAGENT_CACHE": str(tmp_path_factory.getbasetemp() / "benchagent-cache")}
    result = cli("build", QUERY, "--size", "6", "--out", run, env=env)
    assert result.returncode == 0, result.stderr
    return run


@pytest.fixture
def run(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(built, copy)
    return copy


def _items(run: Path) -> list[Row]:
    lines = (run / "benchmark" / "benchmark.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def _start(run: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    """`benchagent review RUN ARGS` as its own process, and the address it printed."""
    proc = subprocess.Popen([sys.executable, "-m", "benchagent.cli.main", "review", str(run),
                             "--no-open", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=120)
        except queue.Empty:
            proc.kill()
            pytest.fail("the review server printed no address")
        if line.startswith("review: http://"):
            return proc, line.removeprefix("review: ").strip()


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def _open(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']")


def _position(page: Page) -> str:
    return page.text_content("#position") or ""


def _press(page: Page, key: str, now_at: int) -> None:
    page.keyboard.press(key)
    page.wait_for_function(f"() => document.getElementById('position').textContent"
                           f".startsWith('item {now_at} of')")


def _media_shown(page: Page) -> None:
    page.wait_for_function("() => [...document.querySelectorAll('#media img')].length > 0 && "
                           "[...document.querySelectorAll('#media img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    audio = page.locator("#media audio")
    assert audio.count() >= 1
    page.wait_for_function("() => [...document.querySelectorAll('#media audio')]"
                           ".every(a => a.readyState >= 1 && a.duration > 0.5)")


def _review_five(page: Page, run: Path) -> None:
    """Accept, reject with a preset reason, edit (once wrongly), reject with a typed reason,
    go back and forth, accept: all from the keyboard."""
    _press(page, "a", 2)
    page.keyboard.press("r")
    _press(page, "1", 3)  # the first preset reason: wrong answer
    page.keyboard.press("e")
    options = page.input_value("#edit-options").splitlines()
    page.fill("#edit-question", "What time does this clock show? Answer as h:mm.")
    page.fill("#edit-answer", "99:99")
    page.keyboard.press("Control+Enter")
    page.wait_for_function("() => document.getElementById('edit-error').textContent.length > 0")
    assert "must be one of the options" in (page.text_content("#edit-error") or "")
    assert len((run / "review" / "ana.jsonl").read_text().splitlines()) == 2
    page.fill("#edit-answer", options[0])
    _press(page, "Control+Enter", 4)
    page.keyboard.press("r")
    page.keyboard.type("the hands overlap")
    _press(page, "Enter", 5)
    _press(page, "ArrowLeft", 4)
    assert "rejected: the hands overlap" in (page.text_content("#status") or "")
    _press(page, "ArrowRight", 5)
    _press(page, "a", 6)


def test_review_five_items_by_keyboard_kill_and_resume(browser_page: BrowserPage,
                                                       run: Path, tmp_path: Path) -> None:
    items = _items(run)
    items[5]["question"] = HOSTILE_TEXT
    (run / "benchmark" / "benchmark.jsonl").write_text(
        "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items))
    original = (run / "benchmark" / "benchmark.jsonl").read_bytes()
    page = browser_page.page
    proc, url = _start(run, "--reviewer", "ana")
    try:
        _open(page, url)
        assert _position(page) == "item 1 of 6"
        _media_shown(page)
        _review_five(page, run)
        page.screenshot(path=str(tmp_path / "review.png"))
    finally:
        _kill(proc)

    decisions = [json.loads(line) for line in (run / "review" / "ana.jsonl").read_text()
                 .splitlines()]
    assert [d["action"] for d in decisions] == ["accept", "reject", "edit", "reject", "accept"]
    assert [d["item"] for d in decisions] == [i["id"] for i in items[:5]]
    assert decisions[1]["reason"] == "wrong answer"

    proc, url = _start(run, "--reviewer", "ana")
    try:
        _open(page, url)
        assert _position(page) == "item 6 of 6"
        assert (page.text_content("#progress") or "").startswith("5 / 6 decided")
        _media_shown(page)
        assert HOSTILE_TEXT in (page.text_content("#prompt") or "")
        assert page.title() != "pwned" and page.locator("#prompt img").count() == 0
    finally:
        _kill(proc)
    assert browser_page.outside_requests == []
    refused_edit = "Failed to load resource: the server responded with a status of 400"
    assert [e.split(" (")[0] for e in browser_page.console_errors] == [refused_edit]

    summary = json.loads((run / "review" / "summary.json").read_text())
    assert summary["overall"]["acceptance_rate"] == 0.6
    assert summary["per_reviewer"]["ana"]["remaining"] == 1
    assert sum(s["decided"] for s in summary["per_subtask"].values()) == 5
    assert summary["rejection_reasons"] == {"wrong answer": 1, "the hands overlap": 1}
    reviewed = [json.loads(line) for line in
                (run / "benchmark" / "benchmark.reviewed.jsonl").read_text().splitlines()]
    assert [r["id"] for r in reviewed] == [i["id"] for n, i in enumerate(items) if n not in (1, 3)]
    assert reviewed[1]["question"] == "What time does this clock show? Answer as h:mm."
    assert reviewed[1]["answer"] == decisions[2]["edit"]["answer"] in items[2]["options"]
    assert (run / "benchmark" / "benchmark.jsonl").read_bytes() == original

    printed = cli("review", run, "--summary", "--json")
    assert printed.returncode == 0 and json.loads(printed.stdout) == summary
    shown = cli("review", run, "--summary")
    assert "acceptance 0.600" in shown.stdout and "the hands overlap" in shown.stdout


# ------------------------------------------------------------------ the token, media paths


@pytest.fixture
def serving(run: Path, request: pytest.FixtureRequest) -> Iterator[ReviewSession]:
    host = getattr(request, "param", "127.0.0.1")
    session = api.review(run, "ben", host=host, port=0)
    thread = threading.Thread(target=session.serve, daemon=True)
    thread.start()
    try:
        yield session
    finally:
        session.server.shutdown()
        session.close()
        thread.join(timeout=10)


def _request(session: ReviewSession, path: str, body: Row | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    port = session.server.server_address[1]
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                     headers={"Content-Type": "application/json",
                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_a_decision_without_the_token_is_refused(serving: ReviewSession, run: Path) -> None:
    token = serving.app.token
    decision = {"item": _items(run)[0]["id"], "action": "accept"}
    assert _request(serving, "/api/decide", decision)[0] == 403
    assert _request(serving, "/api/decide", decision, {"X-Review-Token": token[:-1] + "x"}
                    )[0] == 403
    assert not (run / "review" / "ben.jsonl").read_text()
    assert _request(serving, "/", headers={"Host": "attacker.example"})[0] == 403
    assert _request(serving, "/")[0] == 200  # reading on loopback needs no token
    status, body = _request(serving, "/api/decide", decision, {"X-Review-Token": token})
    assert status == 200, body
    assert json.loads(body)["summary"]["overall"]["accepted"] == 1
    bad = {"item": decision["item"], "action": "reject", "reason": " "}
    status, body = _request(serving, "/api/decide", bad, {"X-Review-Token": token})
    assert status == 400 and b"say why" in body


@pytest.mark.parametrize("serving", ["0.0.0.0"], indirect=True)
def test_beyond_loopback_every_request_needs_the_token(serving: ReviewSession,
                                                       run: Path) -> None:
    media = "/media/" + _items(run)[0]["media"][0]["path"]
    assert not serving.loopback_only
    for path in ("/", "/api/state", media):
        assert _request(serving, path)[0] == 403, path
        sep = "&" if "?" in path else "?"
        assert _request(serving, f"{path}{sep}token={serving.app.token}")[0] == 200, path
    assert _request(serving, "/api/state", headers={"X-Review-Token": serving.app.token}
                    )[0] == 200


def test_media_paths_that_leave_the_benchmark_are_refused(serving: ReviewSession,
                                                          run: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not serve")
    items = _items(run)
    real = items[0]["media"][0]["path"]
    linked = run / items[1]["media"][0]["path"]
    linked.unlink()
    linked.symlink_to(secret)
    assert _request(serving, "/media/" + real)[0] == 200
    for path in ("/media/../manifest.json", "/media/..%2Fmanifest.json", "/media/manifest.json",
                 "/media/%2Fetc%2Fpasswd", f"/media/{real}/../../manifest.json",
                 "/media/" + items[1]["media"][0]["path"], f"/media/{real}%00",
                 "/media/media", "/../manifest.json", "/api/../manifest.json"):
        status, body = _request(serving, path)
        assert status == 404, path
        assert b"do not serve" not in body and b"query" not in body, path


# ------------------------------------------------------------------ the command's errors


def _one_line(result: Any, *expected: str) -> None:
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert all(part in lines[0] for part in expected), lines[0]


def test_review_refuses_with_one_clear_line(run: Path, tmp_path: Path) -> None:
    _one_line(cli("review", tmp_path / "nothing", "--no-open"), "is not a run directory")
    _one_line(cli("review", run, "--reviewer", "../x", "--no-open"), "reviewer name")
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen()
    try:
        port = str(held.getsockname()[1])
        _one_line(cli("review", run, "--port", port, "--no-open"),
                  f"cannot serve the review on 127.0.0.1:{port}")
    finally:
        held.close()
    unbuilt = tmp_path / "unbuilt"
    shutil.copytree(run, unbuilt)
    (unbuilt / "benchmark" / "benchmark.jsonl").unlink()
    _one_line(cli("review", unbuilt, "--no-open"), "has no benchmark yet")
    assert cli("review", run, "--summary", "--json").stdout.strip() == "null"
    assert "nobody has reviewed" in cli("review", run, "--summary").stdout


def test_two_reviewers_and_their_agreement(run: Path) -> None:
    ids = [i["id"] for i in _items(run)]
    marks = {"ana": ["accept", "accept", "reject", "accept"],
             "ben": ["accept", "reject", "reject", "accept"]}
    for reviewer, actions in marks.items():
        session = api.review(run, reviewer)
        thread = threading.Thread(target=session.serve, daemon=True)
        thread.start()
        try:
            for item, action in zip(ids, actions, strict=False):
                body = {"item": item, "action": action, "reason": "ambiguous",
                        "at": "1999-01-01"}
                status, _ = _request(session, "/api/decide", body,
                                     {"X-Review-Token": session.app.token})
                assert status == 200
        finally:
            session.server.shutdown()
            session.close()
            thread.join(timeout=10)
    summary = json.loads((run / "review" / "summary.json").read_text())
    # keep/keep, keep/reject, reject/reject, keep/keep: p_o 3/4, p_e 3/4·2/4 + 1/4·2/4 = 1/2
    assert summary["agreement"]["kappa"] == 0.5 and summary["agreement"]["items"] == 4
    assert summary["per_reviewer"]["ben"]["acceptance_rate"] == 0.5
    assert summary["rejection_reasons"] == {"ambiguous": 3}
    decided = (run / "review" / "ana.jsonl").read_text()
    assert "1999" not in decided  # the time of a decision is the server's
    shown = cli("review", run, "--summary")
    assert "Cohen's κ 0.500 over the 4 items" in shown.stdout, shown.stdout
