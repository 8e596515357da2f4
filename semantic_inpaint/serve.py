"""``semantic-inpaint serve``: a small local web page to fill a photo's hole with several models.

Open a photo, paint the hole, set attributes (or leave them as predicted), and see the fill of
each model side by side, each with a download link. Standard library only (``http.server``);
it listens on the loopback address unless told otherwise, and handles one request at a time
per connection thread.

API (JSON): ``GET /api/models`` → ``{"models": [...], "attributes": [...], "parts": [...]}``;
``POST /api/inpaint`` with ``{"image": data URL, "mask": data URL (white = hole),
"attributes": {name: 0 or 1}, "strength": how hard the attributes push (0..4, default 1; see
:meth:`Inpainter.inpaint`), "parts": data URL of a greyscale label map (class ids; 255 or any value
that is no class keeps the prediction; pushed at strength 1, where parts are followed best),
"strategy": "resize" | "crop"}`` → ``{"fills": {model: data URL}}``.
"""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

import numpy as np
from PIL import Image

from semantic_inpaint.core import strength_value
from semantic_inpaint.inference import Inpainter

#: the largest request body accepted (a photo and its mask as PNG data URLs)
MAX_BODY_BYTES = 40 * 1024 * 1024


def decode_data_url(url: Any, name: str) -> Image.Image:
    """A ``data:image/...;base64,...`` URL as a PIL image, or a ``ValueError`` naming ``name``."""
    if not isinstance(url, str) or not url.startswith("data:image/") or ";base64," not in url:
        raise ValueError(f"{name}: expected an image data URL (data:image/...;base64,...)")
    try:
        return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1], validate=True)))
    except (ValueError, OSError) as error:
        raise ValueError(f"{name}: not a readable image ({error})") from error


def encode_png(pixels: np.ndarray) -> str:
    """An ``(H, W, 3)`` uint8 array as a PNG data URL."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def condition_names(inpainter: Inpainter, condition: str) -> list[str] | None:
    """The entry (attribute) or class (part) names of one of the model's conditions, ``None``
    when the model has no such condition."""
    embedders = inpainter.graph.embedders
    return list(getattr(embedders[condition], "names", None) or []) if condition in embedders else None


class InpaintingService:
    """The models a page compares, and one fill request answered by all of them.

    Args:
        models: ``{label: Inpainter}``, shown left to right in this order.
    """

    def __init__(self, models: Mapping[str, Inpainter]) -> None:
        if not models:
            raise ValueError("models: expected at least one model to serve")
        self.models = dict(models)
        self.lock = threading.Lock()  # one fill at a time: the models are not shared across threads

    def names(self, condition: str) -> list[str]:
        """The entry (attribute) or class (part) names of a condition, over every model that has it."""
        names: list[str] = []
        for inpainter in self.models.values():
            for name in condition_names(inpainter, condition) or []:
                if name not in names:
                    names.append(name)
        return names

    def describe(self) -> dict[str, Any]:
        """The models, the attributes a user may set and the parts they may paint."""
        return {"models": list(self.models), "attributes": self.names("attribute"), "parts": self.names("segmentation")}

    def fill(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Answer a ``POST /api/inpaint`` body (see the module docstring)."""
        image = np.asarray(decode_data_url(request.get("image"), "image").convert("RGB"))
        mask_image = decode_data_url(request.get("mask"), "mask")
        hole = np.asarray(mask_image.convert("L").resize(image.shape[1::-1], Image.Resampling.NEAREST)) > 127
        attributes = request.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise ValueError("attributes: expected an object of name: value")
        strength = strength_value(request.get("strength", 1.0))
        strategy = request.get("strategy", "resize")
        parts = None
        if request.get("parts"):
            labels = np.asarray(decode_data_url(request["parts"], "parts").convert("L"), dtype=np.int64)
            if labels.shape != hole.shape:
                raise ValueError(f"parts: expected the photo's size {hole.shape}, received {labels.shape}")
            classes = len(self.names("segmentation"))
            parts = np.where(labels < classes, labels, 255)  # edge blends and unpainted pixels keep the prediction
        fills = {}
        with self.lock:
            for label, inpainter in self.models.items():
                known = condition_names(inpainter, "attribute") or []
                asked = {name: float(value) for name, value in attributes.items() if name in known}
                has_parts = condition_names(inpainter, "segmentation") is not None
                filled = inpainter.inpaint(
                    image,
                    hole.astype(np.uint8) * 255,
                    strategy=strategy,
                    attributes=asked or None,
                    parts=parts if has_parts else None,
                    strength={"attribute": strength} if asked else 1.0,
                )
                fills[label] = encode_png(filled)
        return {"fills": fills}


def page() -> bytes:
    """The single page of the app."""
    return resources.files("semantic_inpaint.web").joinpath("index.html").read_bytes()


def make_handler(service: InpaintingService) -> type[BaseHTTPRequestHandler]:
    """A request handler bound to ``service``."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet: the page polls nothing
            pass

        def send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def send_json(self, status: HTTPStatus, payload: Mapping[str, Any]) -> None:
            self.send(status, json.dumps(payload).encode(), "application/json")

        def do_GET(self) -> None:
            if self.path in ("/", "/index.html"):
                self.send(HTTPStatus.OK, page(), "text/html; charset=utf-8")
            elif self.path == "/api/models":
                self.send_json(HTTPStatus.OK, service.describe())
            else:
                self.send_json(HTTPStatus.NOT_FOUND, {"error": f"no such page: {self.path}"})

        def do_POST(self) -> None:
            if self.path != "/api/inpaint":
                self.send_json(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: {self.path}"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 < length <= MAX_BODY_BYTES:
                self.send_json(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    {"error": f"body: expected 1 to {MAX_BODY_BYTES} bytes, received {length}"},
                )
                return
            try:
                answer = service.fill(json.loads(self.rfile.read(length)))
            except (ValueError, TypeError) as error:  # the user's input: said on the page
                self.send_json(HTTPStatus.BAD_REQUEST, {"error": str(error)})
                return
            self.send_json(HTTPStatus.OK, answer)

    return Handler


def make_server(service: InpaintingService, host: str = "127.0.0.1", port: int = 8765) -> ThreadingHTTPServer:
    """An HTTP server for ``service`` (``port=0``: any free port; see ``server.server_address``)."""
    return ThreadingHTTPServer((host, port), make_handler(service))
