"""Optional TensorBoard logging next to ``metrics.jsonl`` (``training.tensorboard: true``).

Events go to ``OUTPUT_DIR/tensorboard/``: every logged metric as a scalar under ``train/``
and every sample grid as an image. Written with tensorboardX, which needs no TensorFlow and
no TensorBoard server (``pip install "semantic-inpaint[tensorboard]"``; view them with
``tensorboard --logdir OUTPUT_DIR/tensorboard`` wherever TensorBoard is installed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import Tensor


class TensorBoardLog:
    """Scalars and images of one run, for TensorBoard.

    Args:
        folder: where the event files go.
        resume_step: on resume, events after this step (written before an interruption)
            are hidden by TensorBoard, as the JSONL log drops its lines past it.
    """

    def __init__(self, folder: Path, resume_step: int | None) -> None:
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            raise ImportError(
                'training.tensorboard: true needs tensorboardX: pip install "semantic-inpaint[tensorboard]"'
            ) from None
        self.writer = SummaryWriter(str(folder), purge_step=resume_step)

    def scalars(self, record: dict[str, Any]) -> None:
        """One log line: every number but the step, under ``train/``."""
        step = record["step"]
        for key, value in record.items():
            if key != "step" and isinstance(value, int | float):
                self.writer.add_scalar(f"train/{key}", value, step)
        self.writer.flush()

    def image(self, name: str, grid: Tensor, step: int) -> None:
        """``grid`` ``(3, H, W)`` in ``[0, 1]``."""
        self.writer.add_image(name, grid, step)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
