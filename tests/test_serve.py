"""`semantic-inpaint serve`: the JSON API, and the page end to end in a real headless browser."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from semantic_inpaint import Inpainter
from semantic_inpaint.serve import InpaintingService, make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PHOTO = resources.files("semantic_inpaint") / "assets" / "astronaut.png"
#: the shipped models the page compares, left to right
MODELS = ("none", "full", "controllable")


@pytest.fixture(scope="module")
def address() -> Iterator[str]:
    models = {name: Inpainter.from_pretrained(f"celebahq64-{name}", device="cpu") for name in MODELS}
    server = make_server(InpaintingService(models), port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def data_url(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def post(address: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{address}/api/inpaint", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_api_fills_with_every_model_and_keeps_known_pixels(address: str) -> None:
    with urllib.request.urlopen(f"{address}/api/models", timeout=30) as response:
        info = json.loads(response.read())
    assert info["models"] == list(MODELS) and "Smiling" in info["attributes"] and "lips" in info["parts"]
    photo = Image.open(PHOTO).convert("RGB")
    hole = np.zeros((128, 128), np.uint8)
    hole[40:80, 40:90] = 255
    status, answer = post(
        address, {"image": data_url(photo), "mask": data_url(Image.fromarray(hole)), "attributes": {"Smiling": 1}}
    )
    assert status == 200 and list(answer["fills"]) == list(MODELS)
    for url in answer["fills"].values():
        filled = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
        assert np.array_equal(filled[hole == 0], np.asarray(photo)[hole == 0])
        assert not np.array_equal(filled[hole > 0], np.asarray(photo)[hole > 0])


def test_painted_parts_reach_the_models_that_read_parts(address: str) -> None:
    photo = Image.open(PHOTO).convert("RGB")
    hole = np.zeros((128, 128), np.uint8)
    hole[70:100, 40:90] = 255
    labels = np.full((128, 128), 255, np.uint8)
    labels[78:92, 48:82] = 7  # lips inside the hole; 255 elsewhere keeps the prediction
    body = {"image": data_url(photo), "mask": data_url(Image.fromarray(hole))}
    _, plain = post(address, body)
    status, painted = post(address, {**body, "parts": data_url(Image.fromarray(labels))})
    assert status == 200
    assert painted["fills"]["none"] == plain["fills"]["none"]  # no segmentation condition: nothing to steer
    assert painted["fills"]["full"] != plain["fills"]["full"]
    assert painted["fills"]["controllable"] != plain["fills"]["controllable"]


def test_the_strength_pushes_the_attributes_of_the_models_that_read_them(address: str) -> None:
    photo = Image.open(PHOTO).convert("RGB")
    hole = np.zeros((128, 128), np.uint8)
    hole[40:80, 40:90] = 255
    body = {"image": data_url(photo), "mask": data_url(Image.fromarray(hole)), "attributes": {"Eyeglasses": 1}}
    _, gentle = post(address, body)
    status, pushed = post(address, {**body, "strength": 2})
    assert status == 200
    assert pushed["fills"]["none"] == gentle["fills"]["none"]  # no attribute condition: nothing to push
    assert pushed["fills"]["controllable"] != gentle["fills"]["controllable"]


def test_bad_input_is_a_400_that_names_the_field(address: str) -> None:
    status, answer = post(address, {"image": "not a picture", "mask": ""})
    assert status == 400 and answer["error"].startswith("image: expected an image data URL")
    photo = data_url(Image.open(PHOTO).convert("RGB"))
    status, answer = post(address, {"image": photo, "mask": photo, "strength": 9})
    assert status == 400 and answer["error"] == "strength: expected a number in [0, 4], received 9"


needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install chromium)"
)


@contextmanager
def page_with_photo(address: str, folder: Path) -> Iterator[tuple[Any, dict[str, float]]]:
    """The served page in headless chromium with the astronaut photo opened: ``(page, canvas box)``."""
    playwright = pytest.importorskip("playwright.sync_api", reason='needs playwright (pip install ".[test]")')
    photo = folder / "face.png"
    Image.open(PHOTO).convert("RGB").save(photo)
    with playwright.sync_playwright() as session:
        browser = session.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 760})
        page.goto(address)
        page.wait_for_selector("select[data-attribute='Smiling']")
        page.set_input_files("#photo", str(photo))
        page.wait_for_function("document.getElementById('canvas').width === 128")
        try:
            yield page, page.locator("#canvas").bounding_box()
        finally:
            browser.close()


def stroke(page: Any, box: dict[str, float], start: float, end: float, height: float) -> None:
    """Drag the mouse across the canvas, from ``start`` to ``end`` of its width at ``height``."""
    page.mouse.move(box["x"] + start * box["width"], box["y"] + height * box["height"])
    page.mouse.down()
    for step in range(1, 13):
        page.mouse.move(
            box["x"] + (start + (end - start) * step / 12) * box["width"], box["y"] + height * box["height"]
        )
    page.mouse.up()


@needs_chromium
def test_the_page_end_to_end_in_a_headless_browser(address: str, tmp_path: Path) -> None:
    with page_with_photo(address, tmp_path) as (page, box):
        page.eval_on_selector("#brush", "brush => { brush.value = 40; }")
        stroke(page, box, 0.35, 0.68, 0.66)  # the hole, across the lower face
        page.select_option("#paint", label="part: lips")  # lips painted inside the hole
        page.eval_on_selector("#brush", "brush => { brush.value = 12; }")
        stroke(page, box, 0.42, 0.6, 0.68)
        page.select_option("select[data-attribute='Smiling']", "1")
        page.click("#fill")
        page.wait_for_selector("figure.fill img", timeout=120_000)
        assert page.locator("figure.fill figcaption").all_inner_texts()[0].startswith("none")
        assert page.locator("figure.fill").count() == len(MODELS)
        assert page.locator("#status").inner_text().startswith("done in ")
        link = page.locator("figure.fill a").first
        assert link.get_attribute("download") == "none.png"
        assert link.get_attribute("href").startswith("data:image/png;base64,")
        if os.environ.get("SEMANTIC_INPAINT_SCREENSHOTS"):  # docs/images/serve.png is made this way
            page.screenshot(path=os.environ["SEMANTIC_INPAINT_SCREENSHOTS"], full_page=True)


@needs_chromium
def test_the_strength_field_reaches_the_models(address: str, tmp_path: Path) -> None:
    with page_with_photo(address, tmp_path) as (page, box):
        page.eval_on_selector("#brush", "brush => { brush.value = 40; }")
        stroke(page, box, 0.35, 0.68, 0.45)  # the hole, across the eyes
        page.select_option("select[data-attribute='Eyeglasses']", "1")
        fills = []
        for strength in ("1", "2"):
            page.fill("#strength", strength)
            page.click("#fill")
            page.wait_for_function("document.getElementById('status').textContent.startsWith('done in ')")
            fills.append(page.locator("figure.fill img").evaluate_all("images => images.map(image => image.src)"))
            page.evaluate("document.getElementById('status').textContent = ''")
        (none_1, full_1, controllable_1), (none_2, full_2, controllable_2) = fills
        assert none_1 == none_2 and full_1 != full_2 and controllable_1 != controllable_2


@needs_chromium
def test_undo_takes_back_the_last_stroke_and_ctrl_z_does_too(address: str, tmp_path: Path) -> None:
    with page_with_photo(address, tmp_path) as (page, box):
        assert page.is_disabled("#undo") and page.is_disabled("#fill")
        stroke(page, box, 0.3, 0.5, 0.5)
        first = page.evaluate("document.getElementById('canvas').toDataURL()")
        stroke(page, box, 0.3, 0.5, 0.7)
        assert page.evaluate("document.getElementById('canvas').toDataURL()") != first
        page.click("#undo")  # the second stroke is gone, the first stays
        assert page.evaluate("document.getElementById('canvas').toDataURL()") == first
        assert page.is_enabled("#fill")
        page.keyboard.press("Control+z")  # and the first: no hole is left to fill
        assert page.is_disabled("#fill") and page.is_disabled("#undo")


def test_the_documented_command_serves_the_page(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "semantic_inpaint.cli", "serve", "--models", "celebahq64-none", "--port", "0"]
    # as typed at a terminal: a job started in the background (CI run under nohup ... &) inherits
    # an ignored SIGINT, and Python then leaves Ctrl+C ignored
    terminal = partial(signal.signal, signal.SIGINT, signal.SIG_DFL)
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=tmp_path, preexec_fn=terminal)
    try:
        line = server.stdout.readline()  # "serving none on http://127.0.0.1:PORT/ (Ctrl+C to stop)"
        url = line.split(" on ")[1].split()[0]
        assert line.startswith("serving celebahq64-none on http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=30) as response:
            assert b"<h1>semantic-inpaint</h1>" in response.read()
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0  # Ctrl+C stops it cleanly
