"""The controllable recipe: teach the generator to follow signals it is *given*, not only the
ones the embedders read from the masked image.

The first ``swapped`` samples of each batch are asked for something other than their own
signals; the discriminators judge their fills against those requested signals and the
reconstruction term skips their holes (their original is not what was asked for there) but, with
``perturbed_known_weight``, keeps their known pixels, which no request changes. A consistency term
pulls what the frozen embedders read from every fill toward what was requested; with
``changed_entry_weight`` the entries a request changed weigh more than those it kept, so one
requested attribute is not drowned by the others (17 for the reproduction's embedder), and at 0
the term only holds what a request kept, the unasked attributes and parts; with
``consistency_keeps_colour`` it cannot recolour the hole, only reshape what it shows. With
``low_pass_weight`` a perturbed fill keeps the original's colour: the means of its
``low_pass_window``-pixel squares inside the hole are pulled toward the original's, which
leaves the shapes a request changes free. With ``consistency_readers`` another frozen embedder
reads the fill for the consistency term, e.g. a robust one (``PretrainConfig.adversarial``) that
a texture cannot fool; the condition's own embedder keeps telling the generator what it reads
from the masked image.

What a perturbed sample is asked for:

- a map: another sample's map, inside the hole only (the known pixels fix the rest);
- a vector, ``vector_requests="swap"``: another sample's whole vector;
- a vector, ``vector_requests="flip"``: its own vector with ``flipped_entries`` entries,
  drawn uniformly (from ``flip_entries`` where it names the condition; in proportion to
  ``flip_entry_weights`` where it weighs some), set to the opposite of what the real image reads
  (``0`` or ``1``), the request a user makes ("make this face smile"), rare entries asked as
  often as common ones.

With ``told_real_share`` the next rows are told the signals of their *real* image (a map
inside the hole only) and reconstruct it, like the rest: what the masked image's reading cannot
show (a smile behind the hole), these rows pair with the pixels that show it, so the generator
learns what each entry and part means for the fill.

With ``donor_target_weight`` a flipped sample also gets a pixel target: the hole of another
image of the batch whose real reading already shows what was asked (a woman asked to look a man
gets a man's hole, Poisson-blended into her own known pixels), so adding a trait is paired with
real pixels that show it, not only pulled toward it through the frozen embedder.

With ``one_condition_per_sample`` each condition perturbs its own share of those rows (the
others keep their own signal), so two requests never contradict each other on one sample.
Which samples are perturbed is a fixed slice of a batch whose order is already random, and the
entries are drawn on the signal's device, so the step needs no host-device sync.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from semantic_inpaint.config import ControlConfig
from semantic_inpaint.core import SemanticEmbedder, composite
from semantic_inpaint.folding import folded_copy
from semantic_inpaint.losses import ReconstructionLoss
from semantic_inpaint.model import build_embedder
from semantic_inpaint.poisson_blend import blend_for_training
from semantic_inpaint.registry import Registry
from semantic_inpaint.training.reading_views import ReadingViews


def swapped_count(share: float, batch: int) -> int:
    """How many samples of a batch of ``batch`` are asked for other signals (at least one
    keeps its own, so the reconstruction term always has a sample).

    Examples:
        >>> swapped_count(0.5, 16), swapped_count(0.9, 2), swapped_count(0.0, 8)
        (8, 1, 0)
    """
    return min(round(share * batch), batch - 1)


@dataclass(frozen=True)
class Requests:
    """One batch's requests: per condition the rows it perturbs, the cyclic offset a swap reads
    its rows from, and per flipped vector condition the ``(rows, N)`` bool entries flipped and
    their ``(rows, N)`` requested values in ``{0, 1}``."""

    rows: dict[str, slice]
    offset: int
    flipped: dict[str, Tensor]
    flip_values: dict[str, Tensor]


def condition_rows(names: list[str], swapped: int, one_per_sample: bool) -> dict[str, slice]:
    """The rows each condition perturbs: all of ``0..swapped`` or, one condition per sample,
    consecutive shares of them in the order of ``names``.

    Examples:
        >>> condition_rows(["attribute", "segmentation"], 8, True)
        {'attribute': slice(0, 4, None), 'segmentation': slice(4, 8, None)}
        >>> condition_rows(["attribute"], 8, False)
        {'attribute': slice(0, 8, None)}
    """
    if not one_per_sample:
        return {name: slice(0, swapped) for name in names}
    bounds = [index * swapped // len(names) for index in range(len(names) + 1)]
    return {name: slice(bounds[index], bounds[index + 1]) for index, name in enumerate(names)}


def draw_requests(
    signals_real: Mapping[str, Tensor],
    swapped: int,
    control: ControlConfig,
    flip_indices: Mapping[str, list[int]],
    flip_weights: Mapping[str, Tensor] | None = None,
) -> Requests:
    """Draw what the first ``swapped`` rows are asked for (see the module docstring).

    ``signals_real``: each condition's signal of the real images, ``(B, ...)``; a flipped entry
    asks for the opposite of the real image's reading of it. ``flip_indices``: per condition a
    request flips, the entries it draws from (:func:`flip_entry_indices`); the other
    conditions are swapped. ``flip_weights``: per condition, a ``(len(flip_indices[name]),)``
    weight of each of those entries (:func:`flip_entry_weights`; none given: all 1). The
    entries are drawn without replacement by an exponential race, each entry's uniform draw
    ``u`` giving the key ``-log(1 - u) / weight`` and the smallest keys winning: with all
    weights 1 the keys keep the draws' order, so the same entries are drawn as uniformly.
    """
    batch = next(iter(signals_real.values())).shape[0]
    rows = condition_rows(list(signals_real), swapped, control.one_condition_per_sample)
    offset = int(torch.randint(1, batch, ()))  # a CPU draw: no device sync (batch >= 2 when any row is swapped)
    flipped, flip_values = {}, {}
    for name, drawable in flip_indices.items():
        real = signals_real[name][rows[name]]
        count = min(control.flipped_entries, len(drawable))
        scores = torch.full(real.shape, torch.inf, device=real.device)  # entries outside ``drawable`` sort last
        race = -torch.log1p(-torch.rand(real.shape[0], len(drawable), device=real.device))
        scores[:, drawable] = race if flip_weights is None else race / flip_weights[name]
        chosen = scores.argsort(dim=1)[:, :count]
        flipped[name] = torch.zeros_like(real, dtype=torch.bool).scatter_(1, chosen, True)
        flip_values[name] = (real < 0.5).to(real.dtype)
    return Requests(rows, offset, flipped, flip_values)


def pick_donors(requests: Requests, signals_real: Mapping[str, Tensor], swapped: int) -> tuple[Tensor, Tensor]:
    """For each of the first ``swapped`` rows, another row of the batch whose real image already
    reads as every entry its flip requests ask for (entries binarised at 0.5), of those the one
    that agrees on most other entries (ties broken at random): whose hole shows what was asked.

    Returns ``(donor, found)``: ``(swapped,)`` row indices and ``(swapped,)`` bools, ``False``
    where no row qualifies or the row flipped nothing (``donor`` is then arbitrary). Drawn on
    the signals' device, without a host-device sync.

    Examples:
        >>> real = {"attribute": torch.tensor([[0.9, 0.1], [0.2, 0.1], [0.1, 0.8], [0.1, 0.2]])}
        >>> flipped = {"attribute": torch.tensor([[False, False], [True, False]])}  # row 1 asks entry 0 = 1
        >>> values = {"attribute": 1 - real["attribute"][:2].round()}
        >>> requests = Requests({"attribute": slice(0, 2)}, 1, flipped, values)
        >>> donor, found = pick_donors(requests, real, 2)
        >>> found.tolist(), int(donor[1])
        ([False, True], 0)
    """
    reals, asked, required = [], [], []
    for name, flipped in requests.flipped.items():
        real = signals_real[name] > 0.5
        rows = requests.rows[name]
        wanted, needed = real[:swapped].clone(), torch.zeros_like(real[:swapped])
        wanted[rows] = torch.where(flipped, requests.flip_values[name] > 0.5, wanted[rows])
        needed[rows] = flipped
        reals.append(real)
        asked.append(wanted)
        required.append(needed)
    real, asked, required = torch.cat(reals, 1), torch.cat(asked, 1), torch.cat(required, 1)
    agree = real[None] == asked[:, None]  # (swapped, B, N): row i's request against row j's real reading
    candidates = torch.arange(real.shape[0], device=real.device)
    eligible = (agree | ~required[:, None]).all(-1) & required.any(-1, keepdim=True)
    eligible &= candidates[None] != candidates[:swapped, None]
    score = agree.sum(-1) + torch.rand(eligible.shape, device=real.device)
    return score.masked_fill(~eligible, -1).argmax(1), eligible.any(1)


def donor_targets(image: Tensor, hole: Tensor, prediction: Tensor, donor: Tensor, found: Tensor) -> Tensor:
    """The pixel targets of the first ``len(donor)`` rows: each row's own known pixels and, in its
    hole, its donor's pixels Poisson-blended into them (:func:`pick_donors`), or the generator's
    own ``prediction`` (detached, so only the known pixels are asked back) where ``found`` is
    ``False``.

    Shape: ``image``, ``prediction`` ``(B, 3, H, W)`` in ``[-1, 1]``; ``hole`` ``(B, 1, H, W)``
    in ``{0, 1}``; ``donor``, ``found`` ``(S,)``; the result ``(S, 3, H, W)`` in ``[-1, 1]``.
    """
    rows = slice(0, len(donor))
    own, own_hole = image[rows], hole[rows]
    pasted = composite(blend_for_training(image[donor], own, own_hole), own, own_hole)
    kept = composite(prediction[rows].detach(), own, own_hole)
    return torch.where(found[:, None, None, None], pasted, kept)


def flip_entry_indices(embedders: Mapping[str, SemanticEmbedder], control: ControlConfig) -> dict[str, list[int]]:
    """Per vector condition a ``flip`` request changes, the sorted indices it draws from: those
    ``control.flip_entries`` names for it (names or indices, see
    :meth:`~SemanticEmbedder.entry_index`), or all of its entries; empty unless
    ``control.vector_requests`` is ``"flip"``. Resolved once, before training, so a
    ``flip_entries`` that names a map condition or an unknown entry fails there.

    Examples:
        >>> from semantic_inpaint.registry import get_registry
        >>> attribute = get_registry().build("embedder", "attribute", {"num_attributes": 4, "width": 4})
        >>> flip_entry_indices({"attribute": attribute}, ControlConfig(vector_requests="flip"))
        {'attribute': [0, 1, 2, 3]}
        >>> named = ControlConfig(vector_requests="flip", flip_entries={"attribute": [3, 1]})
        >>> flip_entry_indices({"attribute": attribute}, named)
        {'attribute': [1, 3]}
    """
    for name in control.flip_entries:
        if embedders[name].kind != "vector":
            raise ValueError(
                f"control.flip_entries[{name!r}]: expected a vector condition, received a {embedders[name].kind}"
            )
    if control.vector_requests != "flip":
        return {}
    indices = {}
    for name, embedder in embedders.items():
        if embedder.kind != "vector":
            continue
        entries = control.flip_entries.get(name, range(embedder.channels))
        indices[name] = sorted({embedder.entry_index(entry) for entry in entries})
    return indices


def flip_entry_weights(
    embedders: Mapping[str, SemanticEmbedder], control: ControlConfig, flip_indices: Mapping[str, list[int]]
) -> dict[str, Tensor]:
    """Per condition of ``flip_indices`` (:func:`flip_entry_indices`), the ``(len(indices),)``
    float32 weight of each entry it draws from: ``control.flip_entry_weights``, 1 for an entry
    not named. Resolved once, before training: a weight for a condition no request flips or for
    an entry it does not draw from fails here.

    Examples:
        >>> from semantic_inpaint.registry import get_registry
        >>> attribute = get_registry().build("embedder", "attribute", {"num_attributes": 3, "width": 4,
        ...     "attribute_names": ["Male", "Young", "Smiling"]})
        >>> control = ControlConfig(vector_requests="flip", flip_entry_weights={"attribute": {"Male": 3}})
        >>> flip_entry_weights({"attribute": attribute}, control, flip_entry_indices({"attribute": attribute}, control))
        {'attribute': tensor([3., 1., 1.])}
    """
    weights = {name: torch.ones(len(indices)) for name, indices in flip_indices.items()}
    for name, named in control.flip_entry_weights.items():
        if name not in flip_indices:
            raise ValueError(
                f"control.flip_entry_weights: expected one of the conditions a request flips {sorted(flip_indices)}, "
                f"received {name!r}"
            )
        for entry, weight in named.items():
            index = embedders[name].entry_index(entry)
            if index not in flip_indices[name]:
                raise ValueError(
                    f"control.flip_entry_weights[{name!r}]: {entry!r} is not among the entries a request draws "
                    f"from (control.flip_entries)"
                )
            weights[name][flip_indices[name].index(index)] = weight
    return weights


def consistency_readers(
    control: ControlConfig, embedders: Mapping[str, SemanticEmbedder], registry: Registry, device: torch.device
) -> dict[str, SemanticEmbedder]:
    """The embedders ``control.consistency_readers`` names, built as a condition's are (options
    left out read from the weights file, ``shipped:NAME`` for a shipped one),
    frozen in eval mode with BatchNorm folded, on ``device``; each must read what its
    condition's embedder in ``embedders`` reads (same kind and number of channels), or the
    term would compare signals of two different shapes.

    Examples:
        >>> from semantic_inpaint.config import ComponentConfig
        >>> from semantic_inpaint.registry import get_registry
        >>> registry = get_registry()
        >>> own = {"attribute": registry.build("embedder", "attribute", {"num_attributes": 4, "width": 4})}
        >>> reader = ComponentConfig(name="attribute", options={"num_attributes": 4, "width": 8})
        >>> control = ControlConfig(consistency_weight=1, consistency_readers={"attribute": reader})
        >>> consistency_readers(control, own, registry, torch.device("cpu"))["attribute"].options["width"]
        8
    """
    unknown = sorted(set(control.consistency_readers) - set(embedders))
    if unknown:
        raise ValueError(
            f"control.consistency_readers: expected condition names from {sorted(embedders)}, received {unknown}"
        )
    readers = {}
    for name, spec in control.consistency_readers.items():
        reader, _ = build_embedder(registry, spec, load_weights=True)
        own = embedders[name]
        if (reader.kind, reader.channels) != (own.kind, own.channels):
            raise ValueError(
                f"control.consistency_readers[{name!r}]: expected a {own.kind} of {own.channels} channels like the "
                f"condition's embedder, received a {reader.kind} of {reader.channels}"
            )
        readers[name] = folded_copy(reader.to(device))
    return readers


def requested_signals(
    embedders: Mapping[str, SemanticEmbedder],
    signals: Mapping[str, Tensor],
    hole: Tensor,
    requests: Requests,
) -> dict[str, Tensor]:
    """``signals`` with each condition's perturbed rows replaced by what :func:`draw_requests`
    drew for them: flipped entries, or the rows ``offset`` places on (a cyclic shift, so never
    a sample's own), a map only inside ``hole``.

    Shape: each signal ``(B, ...)``; ``hole`` ``(B, 1, H, W)`` in ``{0, 1}``.
    """
    requested = {}
    for name, signal in signals.items():
        rows = requests.rows[name]
        if name in requests.flipped:
            asked = torch.where(requests.flipped[name], requests.flip_values[name], signal[rows])
        else:
            asked = signal.roll(-requests.offset, dims=0)[rows]
        requested[name] = replaced_rows(embedders[name].kind, signal, rows, asked, hole)
    return requested


def told_real_count(control: ControlConfig, batch: int, swapped: int) -> int:
    """How many samples after the ``swapped`` perturbed ones are told their real image's
    signals (at least one sample keeps the paper's input).

    Examples:
        >>> told_real_count(ControlConfig(swap_share=0.25, told_real_share=0.5), 16, 4)
        8
        >>> told_real_count(ControlConfig(told_real_share=0.9), 2, 0)
        1
    """
    return max(min(round(control.told_real_share * batch), batch - 1 - swapped), 0)


def told_real_signals(
    embedders: Mapping[str, SemanticEmbedder],
    signals: Mapping[str, Tensor],
    real: Mapping[str, Tensor],
    hole: Tensor,
    rows: slice,
) -> dict[str, Tensor]:
    """``signals`` (the masked images' readings) with ``rows`` told what the embedders read
    from the real images instead: a vector whole, a map inside ``hole`` only.

    Shape: each signal ``(B, ...)``; ``hole`` ``(B, 1, H, W)`` in ``{0, 1}``.
    """
    return {
        name: replaced_rows(embedders[name].kind, signal, rows, real[name][rows], hole)
        for name, signal in signals.items()
    }


def replaced_rows(kind: str, signal: Tensor, rows: slice, asked: Tensor, hole: Tensor) -> Tensor:
    """``signal`` ``(B, ...)`` with its ``rows`` replaced by ``asked``; for a map (``kind``
    ``"map"``) only inside ``hole`` ``(B, 1, H, W)``, the known pixels keep their reading."""
    if kind == "map":
        asked = torch.where(hole[rows] > 0, asked, signal[rows])
    return torch.cat([signal[: rows.start], asked, signal[rows.stop :]])


def changed_entries(kind: str, requested: Tensor, real: Tensor) -> Tensor:
    """Where a request differs from the real image's reading, as ``0``/``1`` of the signal's dtype:
    per entry ``(B, N)`` for a vector (read at 0.5), per pixel ``(B, 1, H, W)`` for a map (the
    most likely class).

    Examples:
        >>> changed_entries("vector", torch.tensor([[0.9, 0.2, 0.7]]), torch.tensor([[0.1, 0.3, 0.6]]))
        tensor([[1., 0., 0.]])
    """
    if kind == "vector":
        return ((requested > 0.5) != (real > 0.5)).to(requested.dtype)
    return (requested.argmax(dim=1, keepdim=True) != real.argmax(dim=1, keepdim=True)).to(requested.dtype)


def consistency_loss(
    embedders: Mapping[str, SemanticEmbedder],
    fill: Tensor,
    requested: Mapping[str, Tensor],
    real: Mapping[str, Tensor],
    hole: Tensor,
    changed_entry_weight: float = 1.0,
    keep_colour: bool = False,
    views: ReadingViews | None = None,
) -> Tensor:
    """Sum over the conditions of each embedder's :meth:`~SemanticEmbedder.consistency` between
    its reading of ``fill`` ``(B, 3, H, W)`` and the requested signal (gradients reach the fill).

    With ``changed_entry_weight`` > 1, the entries (pixels of a map) where the request differs
    from ``real``, the real images' signals, count that many times the others, and the weights
    are scaled to a mean of 1 (over the entries of a vector, the hole's pixels of a map): the
    term keeps the scale of a plain mean and only shifts its attention to what was asked. At 1
    no weight is passed, so a plugin's ``consistency`` without one still serves. With
    ``keep_colour`` the embedders read :func:`colour_detached` ``fill``: same values, no gradient
    toward another mean colour of the hole. With ``views``, a vector embedder reads random views
    of the fill (:class:`ReadingViews`) and the term is their mean: only a change that moves the
    reading of every view lowers it. A map embedder reads the fill itself (a shifted view would
    need a shifted request).
    """
    if keep_colour:
        fill = colour_detached(fill, hole)
    terms = []
    for name, target in requested.items():
        embedder = embedders[name]
        reference, holes = real[name], hole
        if views is not None and embedder.kind == "vector":
            read = embedder(views(fill))
            target, reference, holes = views.repeat(target), views.repeat(reference), views.repeat(hole)
        else:
            read = embedder(fill)
        if changed_entry_weight == 1:
            terms.append(embedder.consistency(read, target, holes))
        else:
            weight = request_weight(embedder.kind, target, reference, holes, changed_entry_weight)
            terms.append(embedder.consistency(read, target, holes, weight=weight))
    return torch.stack(terms).sum() if terms else fill.new_zeros(())


def colour_detached(image: Tensor, hole: Tensor) -> Tensor:
    """``image`` unchanged in value, with its gradient along each image's per-channel mean over
    the hole removed: a term computed from the result can reshape the hole but not recolour it.

    Shape: ``image`` ``(B, C, H, W)``; ``hole`` ``(B, 1, H, W)`` in ``{0, 1}``; the result like ``image``.

    Examples:
        >>> image = torch.zeros(1, 1, 2, 2, requires_grad=True); hole = torch.ones(1, 1, 2, 2)
        >>> colour_detached(image, hole).sum().backward()  # a pure brightening gradient ...
        >>> image.grad.abs().max().item()  # ... is removed entirely
        0.0
    """
    mean = (image * hole).sum(dim=(2, 3), keepdim=True) / hole.sum(dim=(2, 3), keepdim=True).clamp_min(1)
    return image + hole * (mean.detach() - mean)


def request_weight(kind: str, requested: Tensor, real: Tensor, hole: Tensor, changed_weight: float) -> Tensor:
    """Each entry's weight in :func:`consistency_loss`: ``changed_weight`` where the request
    differs from ``real``, 1 elsewhere, scaled to a mean of 1 over a vector's entries ``(B, N)``
    or a map's hole pixels ``(B, 1, H, W)``. At ``changed_weight`` 0 only the kept entries count
    (all zeros where a request changed every entry)."""
    raw = 1 + (changed_weight - 1) * changed_entries(kind, requested, real)
    if kind == "vector":
        return raw / raw.mean().clamp_min(1e-8)
    return raw * hole.sum() / (raw * hole).sum().clamp_min(1e-8)


def known_pixels_reconstruction(
    reconstruction: ReconstructionLoss, prediction: Tensor, image: Tensor, hole: Tensor
) -> Tensor:
    """The model's reconstruction term on the known pixels only: what a perturbed sample still owes.

    The hole of ``prediction`` is replaced by the original's before the term is computed, so
    the fill a request changed costs nothing and gets no gradient, whatever the term's form
    (the paper's whole-image L2 or a plugin's).

    Args:
        reconstruction: the model's reconstruction loss.
        prediction: ``(B, 3, H, W)`` in ``[-1, 1]``, the generator's output.
        image: ``(B, 3, H, W)`` in ``[-1, 1]``, the original.
        hole: ``(B, 1, H, W)`` in ``{0, 1}``, 1 where pixels are missing.

    Returns:
        A scalar.
    """
    return reconstruction(composite(image, prediction, hole), image, hole)


def low_pass_hole_l2(prediction: Tensor, target: Tensor, hole: Tensor, window: int) -> Tensor:
    """Mean squared error between the ``window``-pixel square means of ``prediction`` and
    ``target``, each square weighted by its share of hole pixels: colour and shading, not shape.

    Shape: ``prediction``, ``target`` ``(B, 3, H, W)`` in ``[-1, 1]``; ``hole`` ``(B, 1, H, W)`` in
    ``{0, 1}``; a scalar (0 where nothing is missing).

    Examples:
        >>> hole = torch.zeros(1, 1, 4, 4); hole[..., :2, :2] = 1
        >>> checker = torch.tensor([[1.0, -1.0], [-1.0, 1.0]]).repeat(1, 3, 2, 2)  # mean 0 in every 2x2 square
        >>> float(low_pass_hole_l2(checker, torch.zeros(1, 3, 4, 4), hole, 2))
        0.0
        >>> float(low_pass_hole_l2(torch.full((1, 3, 4, 4), 0.5), torch.zeros(1, 3, 4, 4), hole, 2))
        0.25
    """
    means = [F.avg_pool2d(tensor, window, ceil_mode=True) for tensor in (prediction, target, hole.to(prediction))]
    squared = (means[0] - means[1]).square() * means[2]
    return squared.sum() / (means[2].sum() * prediction.shape[1]).clamp_min(1e-8)
