"""Headless Chromium driven over the DevTools protocol, for the demo page's
browser test and its screenshot (docs/images/serve.png).

The protocol runs over a pipe (``--remote-debugging-pipe``: Chromium reads
commands on file descriptor 3 and writes on 4, each JSON message ended by a NUL),
so no port is opened and no package beyond the standard library is needed.

    with Browser() as browser:                 # /usr/bin/chromium (Debian's chromium)
      browser.open("http://127.0.0.1:8000/")
      browser.wait_for("document.querySelector('.thumb') !== null")
      browser.evaluate("document.title")
      png = browser.screenshot()

    python -m tools.serve.browser http://127.0.0.1:8000/ docs/images/serve.png \
        [IMAGE_ID [QUESTION_NUMBER [WORDS]]]

writes the README's picture of the page: the image's (default: the first) dataset
question (default: its first) asked, the words (default "dog, puppy, red car")
found, the attention of the best answer shown. The README's: image 1004520,
question 2, "apple, pear, fruit, white" on the seed-0 Joint SVLR run of the
default world.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from typing import Any, Optional

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> Optional[str]:
  """The Chromium executable (``$CHROMIUM``, else the first on PATH), or None."""
  if os.environ.get("CHROMIUM"):
    return os.environ["CHROMIUM"]
  for name in CANDIDATES:
    path = shutil.which(name)
    if path:
      return path
  return None


class BrowserError(RuntimeError):
  """Chromium failed, answered with an error, or a wait timed out."""


class Browser:
  """One headless Chromium with one page, driven over the DevTools pipe."""

  def __init__(self, executable: Optional[str] = None, width: int = 1280,
               height: int = 860, timeout: float = 60.0):
    self.executable = executable or find_chromium()
    if not self.executable:
      raise BrowserError("no Chromium found (apt-get install chromium)")
    self.width, self.height, self.timeout = width, height, timeout
    self._profile = tempfile.mkdtemp(prefix="svlr-chromium-")
    to_child, self._write = os.pipe()
    self._read, from_child = os.pipe()

    def child_fds():  # the child's fd 3 reads our commands, fd 4 writes its answers
      os.dup2(to_child, 3)
      os.dup2(from_child, 4)

    self._process = subprocess.Popen(
        [self.executable, "--headless", "--no-sandbox", "--disable-gpu",
         "--remote-debugging-pipe", "--no-first-run", "--no-default-browser-check",
         "--disable-extensions", "--disable-background-networking",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
         f"--user-data-dir={self._profile}", f"--window-size={width},{height}",
         "about:blank"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=child_fds, pass_fds=(3, 4))
    os.close(to_child)
    os.close(from_child)
    self._buffer = b""
    self._next_id = 0
    self._events = []
    self.session = None
    target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    self.session = self.call("Target.attachToTarget",
                             {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime"):
      self.call(f"{domain}.enable")
    self.call("Emulation.setDeviceMetricsOverride",
              {"width": width, "height": height, "deviceScaleFactor": 1,
               "mobile": False})

  # --------------------------------------------------------------- protocol
  def call(self, method: str, params: Optional[dict] = None) -> dict:
    """Sends one command (to the page once attached) and returns its result."""
    self._next_id += 1
    message = {"id": self._next_id, "method": method, "params": params or {}}
    if self.session and not method.startswith("Target."):
      message["sessionId"] = self.session
    os.write(self._write, json.dumps(message).encode() + b"\0")
    deadline = time.monotonic() + self.timeout
    while True:
      reply = self._receive(deadline)
      if reply.get("id") == self._next_id:
        if "error" in reply:
          raise BrowserError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})
      self._events.append(reply)

  def _receive(self, deadline: float) -> dict:
    import select  # pylint: disable=import-outside-toplevel
    while b"\0" not in self._buffer:
      left = deadline - time.monotonic()
      if left <= 0:
        raise BrowserError(f"Chromium did not answer within {self.timeout:.0f} s")
      ready, _, _ = select.select([self._read], [], [], left)
      if ready:
        chunk = os.read(self._read, 1 << 20)
        if not chunk:
          raise BrowserError(f"Chromium exited (status {self._process.poll()})")
        self._buffer += chunk
    message, self._buffer = self._buffer.split(b"\0", 1)
    return json.loads(message)

  # ------------------------------------------------------------------- page
  def open(self, url: str) -> None:
    """Navigates and waits for the load event."""
    self._events.clear()
    self.call("Page.navigate", {"url": url})
    self.wait_for("document.readyState === 'complete'")

  def evaluate(self, expression: str) -> Any:
    """The value of a JavaScript expression in the page (promises awaited)."""
    result = self.call("Runtime.evaluate", {"expression": expression,
                                            "awaitPromise": True, "returnByValue": True})
    if "exceptionDetails" in result:
      details = result["exceptionDetails"]
      text = details.get("exception", {}).get("description") or details.get("text")
      raise BrowserError(f"JavaScript error: {text}")
    return result["result"].get("value")

  def wait_for(self, condition: str, timeout: Optional[float] = None) -> Any:
    """Polls a JavaScript expression until it is truthy; returns its value."""
    deadline = time.monotonic() + (timeout or self.timeout)
    while True:
      value = self.evaluate(condition)
      if value:
        return value
      if time.monotonic() > deadline:
        raise BrowserError(f"timed out waiting for {condition}")
      time.sleep(0.1)

  def type_text(self, selector: str, text: str) -> None:
    """Focuses the input and types ``text`` as keyboard input."""
    self.evaluate(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); "
                  "e.focus(); e.select(); })()")
    self.call("Input.insertText", {"text": text})

  def click(self, selector: str) -> None:
    """A mouse click at the middle of the element."""
    box = self.evaluate(f"(() => {{ const r = document.querySelector("
                        f"{json.dumps(selector)}).getBoundingClientRect(); "
                        "return [r.x + r.width / 2, r.y + r.height / 2]; })()")
    for kind in ("mousePressed", "mouseReleased"):
      self.call("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1],
                                             "button": "left", "clickCount": 1})

  def screenshot(self, path: Optional[str] = None) -> bytes:
    """A PNG of the page's viewport (written to ``path`` if given)."""
    png = base64.b64decode(self.call("Page.captureScreenshot", {"format": "png"})["data"])
    if path:
      with open(path, "wb") as f:
        f.write(png)
    return png

  def close(self) -> None:
    try:
      if self._process.poll() is None:
        try:
          self.call("Browser.close")
        except BrowserError:
          pass
        try:
          self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
          self._process.kill()
          self._process.wait()
    finally:
      for fd in (self._read, self._write):
        try:
          os.close(fd)
        except OSError:
          pass
      shutil.rmtree(self._profile, ignore_errors=True)

  def __enter__(self) -> "Browser":
    return self

  def __exit__(self, *exc) -> None:
    self.close()


def demo_screenshot(url: str, path: str, image_id: Optional[str] = None,
                    question: str = "1", words: str = "dog, puppy, red car") -> None:
  """The page with the image's dataset question number ``question`` asked and
  ``words`` found, as a PNG."""
  with Browser(width=1280, height=820) as page:
    page.open(url)
    page.wait_for("document.querySelector('.thumb.selected') !== null")
    if image_id:
      page.type_text("#image-id", str(image_id))
      page.click("#goto button")
      page.wait_for(f"document.querySelector('#image-title').textContent"
                    f".includes('{int(image_id)}')")
    page.wait_for("document.querySelectorAll('#questions li').length > 0")
    page.evaluate(f"document.querySelectorAll('#questions li')[{int(question) - 1}].click()")
    page.wait_for("document.querySelector('#ranked') !== null")
    page.type_text("#words", words)
    page.click("#words-form button")
    page.wait_for("document.querySelector('#words-result table') !== null")
    page.evaluate("document.querySelector('#ranked tr.answer').click()")
    page.wait_for("document.querySelector('#picture').complete")
    page.screenshot(path)


if __name__ == "__main__":
  import sys  # pylint: disable=import-outside-toplevel
  if not 3 <= len(sys.argv) <= 6:
    sys.exit("usage: python -m tools.serve.browser URL OUT.png [IMAGE_ID [QUESTION_NUMBER "
             "[WORDS]]]")
  demo_screenshot(*sys.argv[1:])
  print(f"wrote {sys.argv[2]}")
