"""Nothing lost (issue 11 item 8): a save that fails or is killed part way leaves a loadable save.

Three layers, from the exact to the real:

* an exception injected at each stage of :func:`mmm_jax.io.save` restores the previous save
  at ``path`` (bit-identical ``roi()``) and leaves no temporary directory behind;
* a simulated kill before *every* file-system step of a save (the process stops there: no
  ``finally``, no rollback) leaves ``load(path)`` finding a complete save, the old or the new
  one, including the instant between the two renames of the swap when ``path`` is missing;
* real ``SIGKILL``\\ s of child processes that save in a loop, at seeded random moments.

Why that is enough: on disk a kill is the state between two system calls (what a process
writes is kept by the kernel when it dies), so the simulated kills enumerate every state a
killed save can leave except the inside of one file write; those writes only ever go to the
``.saving-*`` directory, which is complete only once ``config.json`` holding the checksums of
the other files is written, and a partial directory fails that check and is never loaded. The
real kills check that this model of a kill holds for the HDF5 writer too.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd
import pytest

import mmm_jax as mj
from mmm_jax import io as mio


@pytest.fixture(scope="module")
def models(small_national):
    """The old model and a new one that differs from it (halved media effects)."""
    result = small_national.result
    samples = {**result.samples, "beta": result.samples["beta"] * 0.5}
    new = mj.MMM(spec=result.spec)._set_result(dataclasses.replace(result, samples=samples))
    return small_national, new


def _load(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "loading the complete save ..."
        return mj.MMM.load(path)


def _which(loaded, old, new) -> str:
    """'old' or 'new': which complete save ``loaded`` is (bit for bit)."""
    for name, model in (("old", old), ("new", new)):
        if all(np.array_equal(loaded.samples[k], v) for k, v in model.samples.items()):
            return name
    raise AssertionError("the loaded model is neither the old nor the new save")


def _entries(folder: pathlib.Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ------------------------------------------------------------------ exceptions part way
def _raise(*args, **kwargs):
    raise RuntimeError("injected failure")


def _fail_second_rename(monkeypatch):
    real = os.rename

    def rename(src, dst, *args, **kwargs):
        if ".saving-" in os.fspath(src):  # the new save moving in: the old one is aside
            raise OSError("injected rename failure")
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "rename", rename)


def _interrupt_second_rename(monkeypatch):
    real = os.rename

    def rename(src, dst, *args, **kwargs):
        if ".saving-" in os.fspath(src):
            raise KeyboardInterrupt
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "rename", rename)


@pytest.mark.parametrize("inject", [
    lambda mp: mp.setattr(mio, "_data_dataset", _raise),       # after posterior.nc
    lambda mp: mp.setattr(mio, "_sha256", _raise),             # after both NetCDF files
    lambda mp: mp.setattr(mio.json, "dumps", _raise),          # config.json not written
    lambda mp: mp.setattr(mio, "_fsync", _raise),              # everything written
    _fail_second_rename,                                       # old save already moved aside
    _interrupt_second_rename,                                  # Ctrl-C there
], ids=["data.nc", "checksums", "config.json", "fsync", "swap-oserror", "swap-interrupt"])
def test_failed_save_keeps_the_previous_save(models, tmp_path, monkeypatch, inject):
    old, new = models
    path = tmp_path / "m"
    old.save(path)
    before = _entries(tmp_path)
    inject(monkeypatch)
    with pytest.raises((RuntimeError, OSError, KeyboardInterrupt)):
        new.save(path)
    monkeypatch.undo()
    assert _entries(tmp_path) == before == ["m"]  # no .m.saving-* / .m.old-* left behind
    loaded = mj.MMM.load(path)
    assert _which(loaded, old, new) == "old"
    pd.testing.assert_frame_equal(loaded.roi(), old.roi(), check_exact=True)


def test_failed_first_save_leaves_nothing(models, tmp_path, monkeypatch):
    monkeypatch.setattr(mio, "_sha256", _raise)
    with pytest.raises(RuntimeError):
        models[0].save(tmp_path / "m")
    assert _entries(tmp_path) == []


# ------------------------------------------------------------------ simulated kills
class _Killed(BaseException):
    """The process died here (not an Exception: nothing in mmm_jax may catch it)."""


class _Reaper:
    """Counts the file-system steps of a save and "kills" it before step ``at``: that step
    and every later one (clean-up in ``finally``, rollback) raise :class:`_Killed` unrun."""

    STEPS = ((os, "mkdir"), (os, "rename"), (os, "replace"), (os, "unlink"), (os, "rmdir"),
             (os, "fsync"), (pathlib.Path, "write_text"), (mio, "to_inference_data"),
             (mio, "_data_dataset"))

    def __init__(self, monkeypatch, at: int | None):
        self.at, self.count, self.dead = at, 0, False
        for owner, name in self.STEPS:
            monkeypatch.setattr(owner, name, self._wrap(getattr(owner, name)))

    def _wrap(self, real):
        def step(*args, **kwargs):
            if self.dead or self.count == self.at:
                self.dead = True
                raise _Killed
            self.count += 1
            return real(*args, **kwargs)
        return step


def test_a_kill_before_any_step_leaves_a_complete_save(models, tmp_path, monkeypatch):
    old, new = models
    template = tmp_path / "template"
    old.save(template / "m")
    with monkeypatch.context() as mp:  # count the steps of one save over an old one
        first = tmp_path / "count"
        shutil.copytree(template, first)
        reaper = _Reaper(mp, at=None)
        new.save(first / "m")
        n_steps = reaper.count
    assert n_steps >= 10
    seen, missing = set(), 0
    for at in range(n_steps + 1):
        folder = tmp_path / f"kill{at}"
        shutil.copytree(template, folder)
        with monkeypatch.context() as mp:
            reaper = _Reaper(mp, at=at)
            if at < n_steps:
                with pytest.raises(_Killed):
                    new.save(folder / "m")
            else:
                new.save(folder / "m")
        missing += not (folder / "m").exists()
        which = _which(_load(folder / "m"), old, new)
        seen.add(which)
        if at == n_steps:
            assert which == "new" and _entries(folder) == ["m"]
    assert seen == {"old", "new"}
    assert missing >= 1  # the instant between the two renames was among the kills


def test_fallback_warns_and_prefers_the_newest_complete_sibling(models, tmp_path):
    old, new = models
    old.save(tmp_path / "a")
    new.save(tmp_path / "b")
    (tmp_path / "a").rename(tmp_path / ".m.old-999999999-abc12345")
    time.sleep(0.01)
    os.utime(tmp_path / "b" / "config.json")  # the newer one
    (tmp_path / "b").rename(tmp_path / ".m.saving-999999999-def_6789")
    (tmp_path / ".m.saving-999999998-zzzzzzzz").mkdir()  # incomplete: skipped
    with pytest.warns(UserWarning, match="saving-999999999-def_6789"):
        loaded = mj.MMM.load(tmp_path / "m")
    assert _which(loaded, old, new) == "new"
    old.save(tmp_path / "m")  # a save restores path and removes dead processes' leftovers
    assert _entries(tmp_path) == ["m"]
    with pytest.raises(ValueError, match="config.json is missing"):
        mj.MMM.load(tmp_path / "other")


# ------------------------------------------------------------------ real SIGKILLs
CHILD = """
import pathlib, sys
import mmm_jax as mj
src, dst, ready = sys.argv[1:]
model = mj.MMM.load(src)
model.save(dst)
pathlib.Path(ready).touch()
while True:
    model.save(dst)
"""


def test_sigkill_while_saving_leaves_a_loadable_save(small_national, tmp_path):
    """Three children save the model to their own path in a loop and are killed at seeded
    random moments (each save takes ~0.3 s, so a moment up to 1.5 s lands at a random point
    of some save)."""
    src = tmp_path / "src"
    small_national.save(src)
    rng = np.random.default_rng(11)
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    kids = []
    for k in range(3):
        folder = tmp_path / f"kid{k}"
        folder.mkdir()
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(src), str(folder / "m"),
                                 str(folder / "ready")], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        kids.append((folder, proc, float(rng.uniform(0.0, 1.5))))
    try:
        for folder, proc, delay in kids:
            deadline = time.monotonic() + 180
            while not (folder / "ready").exists():
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "the child never started saving"
                time.sleep(0.02)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            assert proc.returncode == -signal.SIGKILL
    finally:
        for _, proc, _ in kids:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stderr.close()
    roi = small_national.roi()
    for folder, _, _ in kids:
        loaded = _load(folder / "m")
        pd.testing.assert_frame_equal(loaded.roi(), roi, check_exact=True)
        for name, value in small_national.samples.items():
            np.testing.assert_array_equal(loaded.samples[name], value)
