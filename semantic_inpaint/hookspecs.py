"""Hook specifications: the contract between semantic-inpaint and its plugins.

A plugin is a module (or object) with functions marked ``@hookimpl`` whose names are the
hooks below. Each hook receives a ``register`` callback and may call it any number of
times::

    from semantic_inpaint import hookimpl

    @hookimpl
    def register_embedders(register):
        register("edges", EdgeEmbedder, description="Sobel edge magnitude map")

``register(name, factory, *, description="")`` records a component under ``name``. The
factory is a class or function whose keyword parameters are its options: their type hints
and defaults are turned into a validated (pydantic, ``extra="forbid"``) options model, so a
config with an unknown or out-of-range option fails with a precise message. Some keyword
parameters are *context* the library passes itself (listed per hook); they are not options.

Third-party plugins are found through the entry-point group ``semantic_inpaint``::

    [project.entry-points.semantic_inpaint]
    my_plugin = "my_package.my_module"
"""

from __future__ import annotations

from typing import Protocol

import pluggy

PROJECT_NAME = "semantic_inpaint"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


class Register(Protocol):
    """The callback each ``register_*`` hook receives."""

    def __call__(self, name: str, factory: object, *, description: str = "") -> None: ...


@hookspec
def register_embedders(register: Register) -> None:
    """Register :class:`~semantic_inpaint.core.SemanticEmbedder` factories.

    Called once when the registry is first used. Context passed by the library: none;
    ``weights`` (a path or ``None``) is an ordinary option that every embedder factory must
    accept, so that pretrained weights load from a local file.
    """


@hookspec
def register_generators(register: Register) -> None:
    """Register :class:`~semantic_inpaint.core.InpaintGenerator` factories.

    Context passed by the library: ``resolution`` (int, training size in pixels) and
    ``signals`` (tuple of :class:`~semantic_inpaint.core.SignalSpec`, one per condition).
    """


@hookspec
def register_discriminators(register: Register) -> None:
    """Register :class:`~semantic_inpaint.core.ConditionalDiscriminator` factories.

    Context passed by the library: ``resolution`` (int) and ``signal`` (a
    :class:`~semantic_inpaint.core.SignalSpec` for a matching discriminator, ``None`` for
    the global one).
    """


@hookspec
def register_mask_generators(register: Register) -> None:
    """Register hole-mask generators.

    A mask generator is called as ``generator(batch_size, device=..., generator=...)`` and
    returns ``(B, 1, H, W)`` float masks in ``{0, 1}`` (1 = missing). Context passed by the
    library: ``resolution`` (int).
    """


@hookspec
def register_datasets(register: Register) -> None:
    """Register dataset factories returning a ``torch.utils.data.Dataset`` of dicts.

    Each item holds ``"image"``: ``(3, H, W)`` float in ``[-1, 1]`` and may hold auxiliary
    labels (``"attributes"``: ``(N,)`` float in ``{0, 1}``, ``"parts"``: ``(H, W)`` int64).
    Context passed by the library: ``resolution`` (int).
    """


@hookspec
def register_judges(register: Register) -> None:
    """Register :class:`~semantic_inpaint.judge.Judge` factories: models the project did not
    train that compare an inpainted image with its original (landmarks, identity, age, ...).

    Context passed by the library: none. A judge whose packages are missing should fail
    when built (not when its module is imported), naming the extra that installs them.
    """


@hookspec
def register_reconstruction_losses(register: Register) -> None:
    """Register :class:`~semantic_inpaint.losses.ReconstructionLoss` factories: the generator's
    pixel term, called as ``loss(prediction, target, mask)`` (the paper's whole-image L2 is ``l2``).

    Context passed by the library: none.
    """
