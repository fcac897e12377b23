"""Headless Chromium for report tests: `--dump-dom`, and the DevTools protocol over a pipe.

Only the standard library: Chromium started with --remote-debugging-pipe reads protocol
messages (JSON, each ended by a NUL byte) on its fd 3 and answers on fd 4.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# As root Chromium refuses to start without --no-sandbox; a private profile keeps parallel runs apart.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--no-default-browser-check", "--mute-audio", "--hide-scrollbars",
         "--autoplay-policy=no-user-gesture-required", "--disable-extensions")


def find_chromium() -> str:
    """The browser's path, or a pytest skip that says how to install it."""
    exe = os.environ.get("LONGSPEECH_CHROMIUM") or next(filter(None, map(shutil.which, NAMES)), None)
    if not exe:
        pytest.skip("headless Chromium not found: `apt-get install chromium` (make test does), "
                    "or set LONGSPEECH_CHROMIUM to a Chrome/Chromium binary")
    return exe


def dump_dom(exe: str, url: str, profile: Path, timeout: float = 60) -> str:
    """The page's DOM after load, as Chromium serialises it."""
    done = subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
                          capture_output=True, text=True, timeout=timeout, check=True)
    return done.stdout


def _above(fd: int, low: int = 10) -> int:
    """A copy of fd numbered at least low (the original is closed)."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD, low)
    os.close(fd)
    return new


class Page:
    """One tab driven through the DevTools protocol."""

    def __init__(self, exe: str, profile: Path, width: int = 1200, height: int = 900):
        cmd_r, self._cmd_w = os.pipe()
        self._res_r, res_w = os.pipe()
        # bash (dash takes one-digit fds only) maps them onto 3 and 4: move them clear of those.
        cmd_r, res_w = (_above(cmd_r), _above(res_w))
        self._proc = subprocess.Popen(
            ["bash", "-c", f'exec "$@" 3<&{cmd_r} 4>&{res_w}', "bash", exe, *FLAGS,
             f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            pass_fds=(cmd_r, res_w), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(cmd_r)
        os.close(res_w)
        self._buf = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self._call("Target.attachToTarget",
                                   {"targetId": target, "flatten": True})["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    # -- protocol -----------------------------------------------------------------------
    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._res_r], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._res_r, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def _call(self, method: str, params: dict | None = None, session: str | None = None,
              timeout: float = 30) -> dict[str, Any]:
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def send(self, method: str, params: dict | None = None, timeout: float = 30) -> dict[str, Any]:
        return self._call(method, params, self._session, timeout)

    # -- conveniences -------------------------------------------------------------------
    def goto(self, url: str, timeout: float = 30) -> None:
        self.send("Page.navigate", {"url": url})
        deadline = time.monotonic() + timeout
        while self.eval("document.readyState") != "complete" or not self.eval(
                "document.body && document.body.getAttribute('data-ready') === '1'"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not finish loading")
            time.sleep(0.05)

    def eval(self, expression: str) -> Any:
        res = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                             "awaitPromise": True})
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expression!r} threw: {res['exceptionDetails']}")
        return res["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of the first element matching selector."""
        box = self.eval(f"(() => {{ const el = document.querySelector({json.dumps(selector)});"
                        "el.scrollIntoView({block: 'center'}); const r = el.getBoundingClientRect();"
                        "return [r.left + r.width / 2, r.top + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1],
                                                   "button": "left", "clickCount": 1})

    def type_into(self, selector: str, text: str) -> None:
        self.eval(f"document.querySelector({json.dumps(selector)}).focus()")
        self.send("Input.insertText", {"text": text})

    def screenshot(self, out: Path) -> Path:
        size = self.send("Page.getLayoutMetrics")["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        data = self.send("Page.captureScreenshot",
                         {"format": "png", "captureBeyondViewport": True, "clip": clip})
        out.write_bytes(base64.b64decode(data["data"]))
        return out

    def close(self) -> None:
        try:
            self._call("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        for fd in (self._cmd_w, self._res_r):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> Page:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
