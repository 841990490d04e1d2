"""The server imports scikit-learn in the background after its first page (issue 20: a first
visit to a view that fits or reads a model spent 2.5 s importing it), then loads the segmenter (a
first visit to another month's themes spent 1.1 s loading jieba)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import sys, time
from streamlit.testing.v1 import AppTest
from ui.resources import WARM_MODULES
before = [m for m in WARM_MODULES if m in sys.modules]
at = AppTest.from_file("app.py", default_timeout=120)
at.run()
assert not at.exception, [e.message for e in at.exception]
print("page said:", [e.value for e in (*at.error, *at.info, *at.warning)], file=sys.stderr)
deadline = time.monotonic() + 90
while time.monotonic() < deadline and not all(m in sys.modules for m in WARM_MODULES):
    time.sleep(0.2)
from analytics.domain.themes import segmentation
def loaded():
    return segmentation._tokenizer is not None and segmentation._pos_tag.cache_info().currsize > 0
while time.monotonic() < deadline and not loaded():
    time.sleep(0.2)
print("segmenter", int(loaded()))
import gc
from ui import resources
while time.monotonic() < deadline and not resources._heap_frozen:
    time.sleep(0.2)
print("frozen", gc.get_freeze_count(), "again", int(resources.freeze_heap()))
print(len(before), sum(m in sys.modules for m in WARM_MODULES), len(WARM_MODULES))
"""


def test_the_model_libraries_are_imported_in_the_background_after_the_first_page(writable_demo):
    # A private copy: no handle another test of this process holds can lock the subprocess out.
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    before, after, wanted = map(int, out.stdout.split()[-3:])
    assert before == 0 and after == wanted, out.stderr[-2000:]
    # The segmenter too (jieba's dictionary and part-of-speech table), after the modules.
    assert "segmenter 1" in out.stdout, out.stderr[-2000:]
    # Then what the libraries hold leaves the garbage collector's full passes, once per process
    # (hundreds of thousands of objects: the modules, classes and functions), and the process ends
    # without native libraries reporting objects left alive.
    frozen = out.stdout.split("frozen ")[1].split()
    assert int(frozen[0]) > 50_000 and frozen[1:3] == ["again", "0"], out.stdout
    assert "leaked" not in out.stderr, out.stderr[-2000:]


def test_a_warmup_import_that_misses_is_tried_again_and_never_raises(monkeypatch):
    """An import that fails once (another thread changing ``sys.path`` under it) is retried; one
    that keeps failing is reported, not raised, so the thread ends quietly."""
    import importlib

    from ui import resources

    calls: list[str] = []

    def flaky(name: str):
        calls.append(name)
        if name == resources.WARM_MODULES[0] and calls.count(name) == 1:
            raise ModuleNotFoundError("No module named 'sklearn'")
        if name == resources.WARM_MODULES[1]:
            raise ModuleNotFoundError("gone for good")
        return None

    monkeypatch.setattr(importlib, "import_module", flaky)
    monkeypatch.setattr(resources.time, "sleep", lambda s: None)
    assert resources._import_all() == [resources.WARM_MODULES[1]]
    assert calls.count(resources.WARM_MODULES[0]) == 2
    assert calls.count(resources.WARM_MODULES[1]) == 3
    assert all(calls.count(name) == 1 for name in resources.WARM_MODULES[2:])


def test_the_warmup_waits_while_a_page_runs_and_until_the_pages_have_been_quiet_a_moment():
    """The warm-up imports between the pages' runs: a page run right after the first one used to
    share the interpreter with scikit-learn's import (on the group, the satisfaction page after the
    overview took 1.70-1.79 s cold, 0.67-0.88 s once the warm-up had finished)."""
    import threading
    import time

    from ui import resources

    returned: list[float] = []

    def warm() -> None:
        resources.wait_until_quiet(0.3)
        returned.append(time.monotonic())

    with resources.script_run():
        thread = threading.Thread(target=warm, daemon=True)
        thread.start()
        time.sleep(0.6)
        assert not returned  # a page is running: the warm-up waits
        with resources.script_run():  # a second visitor's page, ending after the first
            pass
        time.sleep(0.1)
        assert not returned
    ended = time.monotonic()
    thread.join(timeout=5)
    assert returned and returned[0] - ended >= 0.29  # then quiet for 0.3 s before it goes on
    resources.wait_until_quiet(0.0)  # nothing running: at once
