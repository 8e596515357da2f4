"""Which runs make the paper's tables: the variant names that step 3 trains and step 5 reports."""

from __future__ import annotations

#: the four groups of Table II: one weight at 0 or at 0.1 while the other varies in {0.01, 0.1, 1}
TABLE_II = [
    *(f"a0_s{s}" for s in ("0.01", "0.1", "1")),
    *(f"a{a}_s0" for a in ("0.01", "0.1", "1")),
    *(f"a0.1_s{s}" for s in ("0.01", "1")),  # a0.1_s0.1 is "full"
    *(f"a{a}_s0.1" for a in ("0.01", "1")),
]
#: Table I: the peers (CE, GL, PConv, DeepFill v2) and the fast backbone, plain, and the fast
#: backbone boosted with both conditions, at the paper's β, at a tenth of it, and at a tenth of it
#: one and a half times as wide (the best boosted recipe so far; the paper's own boosted model is ``full``)
TABLE_I = [
    "context_encoder",
    "global_local",
    "partial_conv",
    "gated",
    "unet",
    "unet_full",
    "unet_full_quiet",
    "unet_full_quiet_wide",
]
