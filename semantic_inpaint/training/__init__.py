"""Training: the GAN trainer and the embedder pretraining loop."""

from semantic_inpaint.training.pretrain import PretrainConfig, pretrain_embedder
from semantic_inpaint.training.trainer import Trainer

__all__ = ["PretrainConfig", "Trainer", "pretrain_embedder"]
