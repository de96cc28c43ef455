"""The example gallery in a real browser: upload a photo, see its thumbnail, read the footer.

Debian's Chromium, headless, driven by selenium through Debian's chromedriver;
selenium-manager is never run (it would download a browser or a driver), which
the test enforces. The gallery is ``manage.py gallery_serve``, the command its
README documents, in a subprocess on a free port with its own data directory,
after a small ``gallery_demo`` run filled it: so the photos restored from the
demo's copy of the bucket are checked too, not only the upload.

A screenshot of the gallery after the upload is saved to ``$IKSTORAGE_ARTIFACTS``
(default ``artifacts/`` in the repository) for CI to keep.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.servers import free_port, unavailable, wait_for_port

pytestmark = [pytest.mark.slow, pytest.mark.server]

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DEMO_IMAGES = 2
#: Files each upload writes: the photo, 'thumb' in AVIF, WebP and JPEG, 'large'.
FILES_PER_PHOTO = 5
THUMB = (240, 180)  # the example's 'thumb' spec: fill 240x180
UPLOAD_TITLE = "Uploaded from Chromium"
TIMEOUT = 30


def _environment(var_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "IKSTORAGE_EXAMPLE_S3_ENDPOINT")
    }
    env.update(IKSTORAGE_EXAMPLE_VAR_DIR=str(var_dir), PYTHONWARNINGS="error")
    return env


@pytest.fixture(scope="module")
def browser_binaries() -> None:
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not path.exists():
            unavailable(f"the browser test needs {path} (apt-get install {package})")


class Gallery:
    """``gallery_serve`` in a subprocess; its console goes to a file read at the end."""

    def __init__(self, var_dir: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/gallery/"
        self.log = log
        self._out = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "example/manage.py", "gallery_serve", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=_environment(var_dir),
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def wait(self) -> None:
        try:
            wait_for_port(self.port, timeout=60)
        except TimeoutError:
            self.stop()
            raise AssertionError(f"gallery_serve did not start:\n{self.log.read_text()}") from None

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it: the server copies the bucket and exits 0."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=60)
        finally:
            self._out.close()
        return code


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory, browser_binaries: None) -> Iterator[Gallery]:
    var_dir = tmp_path_factory.mktemp("gallery-var")
    demo = ["gallery_demo", "--images", str(DEMO_IMAGES), "--json"]
    done = subprocess.run(
        [sys.executable, "example/manage.py", *demo],
        cwd=ROOT,
        env=_environment(var_dir),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"gallery_demo failed:\n{done.stdout}\n{done.stderr}"
    server = Gallery(var_dir, var_dir / "gallery_serve.log")
    server.wait()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory, browser_binaries: None) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.selenium_manager import SeleniumManager

    def no_download(*args: object, **kwargs: object) -> Any:
        raise AssertionError("selenium-manager ran: it may download a browser or a driver")

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SeleniumManager, "binary_paths", no_download)
        driver = webdriver.Chrome(
            service=Service(executable_path=str(CHROMEDRIVER)), options=options
        )
    driver.set_page_load_timeout(TIMEOUT)
    try:
        yield driver
    finally:
        driver.quit()


def _photo(path: Path) -> Path:
    """A 1000x750 JPEG with something to see in it."""
    image = Image.linear_gradient("L").resize((1000, 750)).convert("RGB")
    image.paste((200, 80, 40), (250, 180, 750, 570))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=85)
    path.write_bytes(buf.getvalue())
    return path


def _loaded(driver: Any, img: Any) -> dict[str, Any]:
    """Wait until the browser has finished with ``img``; its natural size and chosen URL."""
    from selenium.webdriver.support.ui import WebDriverWait

    script = "return arguments[0].complete;"
    WebDriverWait(driver, TIMEOUT).until(lambda d: d.execute_script(script, img))
    state: dict[str, Any] = driver.execute_script(
        "return {w: arguments[0].naturalWidth, h: arguments[0].naturalHeight,"
        " src: arguments[0].currentSrc};",
        img,
    )
    return state


def _artifacts() -> Path:
    configured = os.environ.get("IKSTORAGE_ARTIFACTS")
    folder = Path(configured) if configured else ROOT / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    if not configured and not (folder / ".gitignore").exists():
        (folder / ".gitignore").write_text("# Screenshots the tests save; not source.\n*\n")
    return folder


def test_upload_shows_a_loaded_thumbnail_and_a_reload_costs_no_s3_call(
    gallery: Gallery, browser: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        _upload_and_reload(gallery, browser, tmp_path)
    except BaseException:
        # What the browser showed when it went wrong, for the CI run's artefacts.
        shot = _artifacts() / "gallery-failure.png"
        browser.save_screenshot(str(shot))
        with capsys.disabled():
            print(f"\nscreenshot of the failure: {shot}")
        raise
    shot = _artifacts() / "gallery-after-upload.png"
    assert browser.save_screenshot(str(shot))
    with Image.open(shot) as saved:
        assert (saved.format, saved.width >= 1000) == ("PNG", True)
    with capsys.disabled():
        print(f"\nscreenshot: {shot}")

    # The server's own log line per request (StorageProfilerMiddleware): the upload
    # wrote the photo and its four renditions, and nothing else.
    assert gallery.stop() == 0
    log = gallery.log.read_text()
    assert re.search(r"POST /gallery/ 302: 5 S3 calls \(PutObject=5\),", log), log
    assert re.findall(r"GET /gallery/ 200: (\d+) S3 calls", log) == ["0", "0", "0"], log
    copied = re.search(r"Copied (\d+) objects of the bucket", log)
    assert copied is not None, log
    assert int(copied.group(1)) == FILES_PER_PHOTO * (DEMO_IMAGES + 1)
    snapshot = json.loads((gallery.log.parent / "s3-snapshot" / "objects.json").read_text())
    assert "photos/harbour.jpg" in snapshot


def _upload_and_reload(gallery: Gallery, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(gallery.url)
    figures = browser.find_elements(By.CSS_SELECTOR, "main figure img")
    assert len(figures) == DEMO_IMAGES
    # The demo's photos, restored from its copy of the bucket: they load, as thumbnails.
    for img in figures:
        state = _loaded(browser, img)
        assert (state["w"], state["h"]) == THUMB, state

    browser.find_element(By.ID, "id_title").send_keys(UPLOAD_TITLE)
    browser.find_element(By.ID, "id_image").send_keys(str(_photo(tmp_path / "harbour.jpg")))
    browser.find_element(By.CSS_SELECTOR, "#upload button[type=submit]").click()
    WebDriverWait(browser, TIMEOUT).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "main figure img")) == DEMO_IMAGES + 1
    )
    assert browser.current_url == gallery.url  # POST, redirect, GET

    img = browser.find_element(By.CSS_SELECTOR, f'main img[alt="{UPLOAD_TITLE}"]')
    assert (img.get_attribute("width"), img.get_attribute("height")) == ("240", "180")
    state = _loaded(browser, img)
    assert (state["w"], state["h"]) == THUMB, state
    # Chromium takes the first <source> it can show: the AVIF thumbnail, from the S3.
    assert re.search(r"/renditions/photos/harbour\.thumb\.[0-9a-f]{16}\.avif$", state["src"])
    link = img.find_element(By.XPATH, "ancestor::a").get_attribute("href")
    assert re.search(r"/renditions/photos/harbour\.large\.[0-9a-f]{16}\.jpg$", link)

    browser.refresh()
    footer = WebDriverWait(browser, TIMEOUT).until(lambda d: d.find_element(By.ID, "s3-calls"))
    assert footer.text == "0 S3 calls"
    for img in browser.find_elements(By.CSS_SELECTOR, "main figure img"):
        state = _loaded(browser, img)
        assert (state["w"], state["h"]) == THUMB, state
