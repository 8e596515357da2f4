"""Step 3: train the full boosted GAN, the no-conditions baseline, the Table II ablations and
the Table I peers.

Every variant is derived from one base config by changing only its conditions (λa, λs), or
its generator, and its output folder, so all of them get the same data, steps, batch, seed,
discriminator and losses.

    python examples/reproduce/03_train.py --config examples/reproduce/configs/small64/03_gan.yaml \\
        --variants full none a0.01_s0.1 a1_s0.1

Variant names: ``full`` (λa = λs = 0.1 as in the base config), ``none`` (no conditions: the
plain GL-style inpainter), ``a{λa}_s{λs}`` for any weights, and ``{generator}`` or
``{generator}_full`` for any registered generator without or with both conditions (``table1``:
the Table I peers and the fast backbone plain, and the fast backbone boosted), and
``controllable``: ``full`` trained with the controllable recipe (half of each batch told
another face's signals, a consistency term of weight 1, FiLM / SPADE conditioning),
``controllable_flip``: the same with single requests (two attribute entries flipped per
perturbed face, attributes and parts perturbed on separate faces),
``controllable_anchored``: ``controllable`` with each attribute entry and part pixel that a
request changed counting ten times the others in the consistency term, and the perturbed faces
held to the original's colour (an L2 between the means of 16-pixel squares of fill and
original in the hole),
``controllable_told``: a quarter of each batch asked for other faces' signals, half told the
signals of their own real, unmasked face and reconstructing it (paired examples of what an
attribute or a part means for the hole), the last quarter the paper's input,
``controllable_known``: ``controllable`` with the perturbed faces' known pixels kept in the
reconstruction term (the request changes only their hole),
``controllable_targeted``: ``controllable_known`` asked for single requests (two attribute
entries flipped per perturbed face, drawn from the eleven attributes a centred hole can show,
attributes and parts perturbed on separate faces) that count 17 times the other entries in the
consistency term,
``controllable_donor``: ``controllable_targeted`` with a pixel target for each flipped face (the
hole of another face of its batch whose real reading already shows what was asked, blended into
its own known pixels: a woman asked to look a man is shown a man's hole),
``controllable_focused``: ``controllable_targeted`` with its requests drawn from four attributes
only (Male, Young, Smiling, Eyeglasses), so each is asked for 11/4 times as often,
``controllable_robust``: ``controllable_focused`` with the consistency term reading the fill
with the robust attribute embedder (``01_attribute_robust.yaml``: fine-tuned on adversarial
examples), so that stripes which move the condition's own embedder earn nothing,
``controllable_robust_pulled``: ``controllable_robust`` with a consistency weight of 10 instead
of 1, since the robust embedder's reading moves 17-52 times less per unit of change in the hole,
``controllable_robust_long``: ``controllable_robust`` reading with the robust embedder trained
four times as long (``01_attribute_robust_long.yaml``),
``controllable_viewed``: ``controllable_focused`` with the consistency term reading four random
views of each fill (shifted by up to 4 pixels, blurred, noised) with the condition's own
embedder, so that a texture tuned to one rendering earns little,
``controllable_matched``: ``controllable_focused`` without the consistency term (the matching
discriminators alone carry the request),
``controllable_unsteered``: ``controllable`` without the consistency term (what swapping the
signals alone does),
``controllable_colour``: ``controllable`` with a consistency term that cannot recolour the hole
(its gradient along each fill's mean colour removed), and
``full_shared``: ``full`` with one shared-trunk discriminator instead of three. Any variant
with ``_blended`` appended (``none_blended``, ``controllable_blended``) is that variant with
every loss judging its fill Poisson-blended into the known pixels, as ``Inpainter`` returns it
(``model.blend_in_training``); with ``_group`` appended (``full_group``, ``none_group_blended``)
its generator is normalised by GroupNorm instead of BatchNorm (``norm: group``: the same
computation in training and eval mode, no statistics to recalibrate); with ``_quiet`` appended
(``unet_full_quiet``) its β is ten times smaller, the adversarial terms weighing a tenth as much
against the pixel term; with ``_cosine`` appended both learning rates decay to 0 by a cosine
over the run's steps; with ``_wide`` appended its generator is one and a half times as wide
(``model.generator.options.width``). ``--set`` changes the base config every variant is
derived from, except ``--set model.control.KEY=VALUE``, which changes the variant's own control
recipe (``--set "model.control.flip_entries={attribute: [Male]}"``). A finished variant is
skipped; an interrupted one resumes from its last checkpoint. Each run folder keeps the
command that trains that run alone (``command.txt``: this script, its config, the one variant and
every ``--set``), which ``06_ship_demo_models.py`` quotes on the model card.
"""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Callable
from pathlib import Path

from common import add_set_argument, run_script
from paper_tables import TABLE_I, TABLE_II

from semantic_inpaint.config import (
    ComponentConfig,
    ControlConfig,
    RunConfig,
    absolute_from,
    apply_overrides,
    load_config,
    map_paths,
)
from semantic_inpaint.registry import get_registry
from semantic_inpaint.training import Trainer

GROUPS = {"table1": TABLE_I, "table2": TABLE_II}
#: generators trained at their own paper's generator learning rate instead of the base config's:
#: DeepFill v2's gated network has no normalisation, and at the base 1e-3 its 64 px run
#: diverged at step ~1200 (the fill collapsed to one grey and never recovered); Yu et al. use 1e-4
GENERATOR_LEARNING_RATES = {"gated": 1e-4}
#: the attributes whose evidence lies in a centred hole of an aligned face (eyes, nose, mouth, cheeks):
#: the ones a fill can change; hair colour, fringe, baldness and skin tone lie mostly in the known
#: pixels, and a request for them could only be met by recolouring the hole
HOLE_ATTRIBUTES = [
    "Male",
    "Young",
    "Smiling",
    "Mouth_Slightly_Open",
    "Eyeglasses",
    "Heavy_Makeup",
    "Wearing_Lipstick",
    "No_Beard",
    "Mustache",
    "Goatee",
    "Bushy_Eyebrows",
]
#: the controllable recipes: half of each batch asked for other signals, a consistency term of
#: weight 1, and how the requests are drawn and weighed
CONTROLLABLE = {
    "controllable": {},
    "controllable_flip": {"vector_requests": "flip", "flipped_entries": 2, "one_condition_per_sample": True},
    "controllable_anchored": {"changed_entry_weight": 10.0, "low_pass_weight": 1.0, "low_pass_window": 16},
    "controllable_told": {"swap_share": 0.25, "told_real_share": 0.5},
    "controllable_known": {"perturbed_known_weight": 1.0},
    "controllable_unsteered": {"consistency_weight": 0.0},
    "controllable_colour": {"consistency_keeps_colour": True},
    "controllable_input_maps": {},
    "controllable_targeted": {
        "vector_requests": "flip",
        "flipped_entries": 2,
        "flip_entries": {"attribute": HOLE_ATTRIBUTES},
        "changed_entry_weight": 17.0,
        "perturbed_known_weight": 1.0,
        "one_condition_per_sample": True,
    },
}
CONTROLLABLE["controllable_donor"] = CONTROLLABLE["controllable_targeted"] | {"donor_target_weight": 1.0}
#: the four attributes the control measurement reports (07_measure_control.py): drawn from alone,
#: each is requested 11/4 times as often as among all of HOLE_ATTRIBUTES
FOCUSED_ATTRIBUTES = ["Male", "Young", "Smiling", "Eyeglasses"]
CONTROLLABLE["controllable_focused"] = CONTROLLABLE["controllable_targeted"] | {
    "flip_entries": {"attribute": FOCUSED_ATTRIBUTES}
}
CONTROLLABLE["controllable_robust"] = CONTROLLABLE["controllable_focused"]
#: a robust embedder's logits move 17-52 times less per unit of input change than the clean one's
#: (reader_probe.py's "pull"), so at the same weight its consistency term hardly reaches the generator
CONTROLLABLE["controllable_robust_pulled"] = CONTROLLABLE["controllable_robust"] | {"consistency_weight": 10.0}
CONTROLLABLE["controllable_robust_long"] = CONTROLLABLE["controllable_robust"]
#: the clean embedder's strong pull, read through four random views of each fill (shifted, blurred,
#: noised): the stripes it drew for controllable_focused move one rendering, not every view
CONTROLLABLE["controllable_viewed"] = CONTROLLABLE["controllable_focused"] | {"consistency_views": 4}
#: no consistency term: the request is carried by the matching discriminators alone, which learn
#: each attribute from real faces every step, so no fixed texture keeps fooling them (trained with
#: the attribute condition's weight and beta raised, `--set model.conditions.0.weight=1 --set model.beta=0.1`)
CONTROLLABLE["controllable_matched"] = CONTROLLABLE["controllable_focused"] | {"consistency_weight": 0.0}
#: recipes whose consistency term reads the fill with a robust attribute embedder, the file next to
#: the condition's own written by 01_attribute_robust.yaml (or, trained four times as long,
#: 01_attribute_robust_long.yaml): a texture that moves the condition's embedder does not move it,
#: and the condition's embedder becomes a judge the generator was never pulled toward
ROBUSTLY_READ = {
    "controllable_robust": "attribute_robust.safetensors",
    "controllable_robust_pulled": "attribute_robust.safetensors",
    "controllable_robust_long": "attribute_robust_long.safetensors",
}
#: where the controllable recipes' signals enter the generator: at every modulated block, unless
#: the recipe says otherwise (``controllable_input_maps``: the part map at the input, as the
#: paper's; the paper's `full` given SPADE and FiLM darkened the known pixels around its hole)
CONDITIONING = {"vector_conditioning": "film", "map_conditioning": "spade"}
RECIPE_CONDITIONING = {"controllable_input_maps": {"map_conditioning": "concat"}}


def blend_in_training(config: RunConfig) -> None:
    """Every loss judges the fill Poisson-blended into the known pixels, as ``Inpainter`` returns it."""
    config.model.blend_in_training = True


def quiet_adversaries(config: RunConfig) -> None:
    """β ten times smaller: every adversarial term (realness and matching) weighs a tenth as much
    against the pixel term. At the base β = 0.01 they weigh about as much as the whole-image L2."""
    config.model.beta /= 10


def cosine_learning_rates(config: RunConfig) -> None:
    """Both learning rates decayed from the configured ones to 0 by a cosine over the run's steps."""
    config.training.lr_schedule = "cosine"


def wide_generator(config: RunConfig) -> None:
    """The generator one and a half times as wide (every level's channels): about 2.25 times its
    convolutions' FLOPs, in the same steps, batch and data."""
    options = config.model.generator.options
    if "width" not in options:
        raise SystemExit("_wide: expected the config to set model.generator.options.width, received none")
    options["width"] = options["width"] * 3 // 2


def hold_hole_colour(config: RunConfig) -> None:
    """An L2 between the mean colour of fill and original in each reconstructed hole, weighed 1
    (``model.hole_colour_weight``): a fill whose colour drifts from the face's is penalised."""
    config.model.hole_colour_weight = 1.0


def group_norm_generator(config: RunConfig) -> None:
    """The generator normalised by GroupNorm: the same computation in training and eval mode."""
    config.model.generator.options["norm"] = "group"


#: a suffix appended to any variant name, and the one change it makes to that variant's config
VARIANT_SUFFIXES: dict[str, Callable[[RunConfig], None]] = {
    "_group": group_norm_generator,
    "_blended": blend_in_training,
    "_quiet": quiet_adversaries,
    "_cosine": cosine_learning_rates,
    "_wide": wide_generator,
    "_holecolour": hold_hole_colour,
}


def sibling_embedder(config: RunConfig, file_name: str) -> ComponentConfig:
    """The attribute condition's embedder spec with its weights from ``file_name`` in the same folder."""
    (own,) = (c.embedder for c in config.model.conditions if c.embedder.name == "attribute")
    return ComponentConfig(
        name=own.name, options=own.options | {"weights": Path(own.options["weights"]).parent / file_name}
    )


def variant_config(base: RunConfig, name: str) -> RunConfig:
    """The base config with the conditions and output folder of variant ``name``."""
    for suffix, change in VARIANT_SUFFIXES.items():
        if name.endswith(suffix):
            config = variant_config(base, name.removesuffix(suffix))
            change(config)
            config.training.output_dir = Path(base.training.output_dir) / name
            return config
    config = base.model_copy(deep=True)
    config.training.output_dir = Path(base.training.output_dir) / name
    generators = get_registry().components("generator")
    generator = name.removesuffix("_full")
    if generator in generators:
        config.model.generator.name = generator  # the same options (width) for every generator
        config.training.lr_generator = GENERATOR_LEARNING_RATES.get(generator, config.training.lr_generator)
        if generator == "global_local":  # GL is its completion network *and* its local discriminator
            config.model.local_discriminator = config.model.discriminator.model_copy(deep=True)
        if generator == name:
            config.model.conditions = []
    elif name == "none":
        config.model.conditions = []
    elif name == "full_shared":  # the full model judged by one shared-trunk discriminator (speed, issue 16)
        config.model.discriminator.name = "shared_trunk"
    elif name in CONTROLLABLE:
        config.model.control = ControlConfig(**{"swap_share": 0.5, "consistency_weight": 1.0} | CONTROLLABLE[name])
        config.model.generator.options.update(CONDITIONING | RECIPE_CONDITIONING.get(name, {}))
        if name in ROBUSTLY_READ:
            config.model.control.consistency_readers = {"attribute": sibling_embedder(config, ROBUSTLY_READ[name])}
    elif name != "full":
        match = re.fullmatch(r"a([0-9.]+)_s([0-9.]+)", name)
        if match is None:
            raise SystemExit(
                f"--variants: expected full, none, full_shared, {', '.join(CONTROLLABLE)}, a<λa>_s<λs>, "
                f"<generator>[_full] (any of them with {' and/or '.join(VARIANT_SUFFIXES)} appended), "
                f"table1 or table2, received {name!r}"
            )
        weights = {"attribute": float(match[1]), "segmentation": float(match[2])}
        for condition in config.model.conditions:
            condition.weight = weights[condition.embedder.name]
    return RunConfig.model_validate(config.model_dump())


#: ``--set`` keys that change what a variant itself sets (a controllable recipe's whole ``control``
#: section): applied to each variant's config once it is derived, so that they refine the recipe
#: instead of being replaced by it
AFTER_VARIANT = ("model.control.", "model.control=")


def run_config(path: Path, name: str, overrides: list[str]) -> RunConfig:
    """Variant ``name`` of the base config at ``path`` with the ``--set`` ``overrides``: those under
    :data:`AFTER_VARIANT` applied to the variant, the others to the base config it is derived from."""
    after = [override for override in overrides if override.strip().startswith(AFTER_VARIANT)]
    base = load_config(path, RunConfig, [override for override in overrides if override not in after])
    config = variant_config(base, name)
    if not after:
        return config
    changed = RunConfig.model_validate(apply_overrides(config.model_dump(), after))
    return map_paths(changed, absolute_from(Path(path).parent))  # their relative paths read as load_config does


def training_command(config: Path, name: str, overrides: list[str]) -> str:
    """The shell command that trains variant ``name`` of ``config`` with ``overrides`` alone."""
    settings = [argument for override in overrides for argument in ("--set", override)]
    script = ["python", "examples/reproduce/03_train.py"]
    return shlex.join([*script, "--config", str(config), "--variants", name, *settings])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument(
        "--variants", nargs="+", default=["full", "none"], help="or 'table1' for the peers, 'table2' for the ablations"
    )
    add_set_argument(parser)
    args = parser.parse_args()
    names = [n for v in args.variants for n in GROUPS.get(v, [v])]
    for name in names:
        config = run_config(args.config, name, args.set)
        last = Path(config.training.output_dir) / "checkpoints" / "last.pt"
        trainer = Trainer(config, resume=last.exists())
        if trainer.step >= config.training.steps:
            print(f"{name}: already trained ({trainer.step} steps)")
            continue
        (Path(config.training.output_dir) / "command.txt").write_text(
            training_command(args.config, name, args.set) + "\n", encoding="utf-8"
        )
        record = trainer.fit()
        print(f"{name}: step {record['step']}, reconstruction {record['reconstruction']:.4f}")


if __name__ == "__main__":
    run_script(main)
