"""Plant kinds the boom camera can see, the two detector classes, and their looks per season.

The detector has two classes (:data:`CLASS_NAMES`): ``crop`` (class 0) and ``weed`` (class 1).
Each object also keeps its species name (``kind``). Kinds differ in shape, size, leaf structure and
hue, not only in colour, so that a small detector has to learn plant form:

==============  =====  ==========================================================================
kind            class  look from above
==============  =====  ==========================================================================
``maize``       crop   5-8 long strap leaves in two opposite ranks, parallel veins, pale midrib
``sugar_beet``  crop   rosette of broad oval glossy leaves on pale stalks, net veins
``thistle``     weed   rosette of deeply lobed, spiky grey-green leaves with white veins
``grass_weed``  weed   tuft of many thin yellow-green blades
``chickweed``   weed   small mat of tiny round-oval bright-green leaflets in pairs on thin stems
``bindweed``    weed   trailing vine with arrow-shaped blue-green leaves, sometimes a white-pink
                       flower; only brought in by the ``new_weed_kind`` drift knob
==============  =====  ==========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

CLASS_NAMES: tuple[str, ...] = ("crop", "weed")
CROP_CLASS_ID = 0
WEED_CLASS_ID = 1

CROP_KINDS: tuple[str, ...] = ("maize", "sugar_beet")
WEED_KINDS: tuple[str, ...] = ("thistle", "grass_weed", "chickweed")
DRIFT_WEED_KINDS: tuple[str, ...] = ("bindweed",)

#: ``summer`` is the baseline look; ``autumn`` is the season drift (browner soil, yellowing crops,
#: lower sun: darker, longer and stronger shadows).
SEASONS: tuple[str, ...] = ("summer", "autumn")

Colour = tuple[float, float, float]


@dataclass(frozen=True)
class LeafLook:
    """Colours and texture of one kind's leaves in one season (RGB 0..255)."""

    base: Colour
    midrib: Colour
    midrib_strength: float  # 0..1, how much the midrib is mixed toward ``midrib``
    veins: str  # "parallel", "net" or "none"
    vein_strength: float
    jitter: float  # per-leaf relative colour jitter
    senescence: float  # 0..1, autumn yellowing / brown tips


@dataclass(frozen=True)
class PlantKind:
    """A plant species: its detector class, canopy size and looks."""

    name: str
    class_id: int
    diameter_m: tuple[float, float]  # canopy diameter range seen from above
    looks: dict[str, LeafLook]

    @property
    def class_name(self) -> str:
        return CLASS_NAMES[self.class_id]


def _look(
    base: Colour,
    midrib: Colour,
    strength: float,
    veins: str,
    vein_strength: float,
    jitter: float = 0.06,
    senescence: float = 0.0,
) -> LeafLook:
    return LeafLook(base, midrib, strength, veins, vein_strength, jitter, senescence)


KINDS: dict[str, PlantKind] = {
    "maize": PlantKind(
        "maize",
        CROP_CLASS_ID,
        (0.20, 0.34),
        {
            "summer": _look((56, 122, 38), (150, 182, 108), 0.65, "parallel", 0.06),
            "autumn": _look((128, 134, 46), (196, 186, 120), 0.55, "parallel", 0.06, 0.09, 0.8),
        },
    ),
    "sugar_beet": PlantKind(
        "sugar_beet",
        CROP_CLASS_ID,
        (0.14, 0.26),
        {
            "summer": _look((38, 98, 40), (168, 192, 140), 0.8, "net", 0.10),
            "autumn": _look((104, 118, 44), (200, 196, 140), 0.7, "net", 0.10, 0.09, 0.7),
        },
    ),
    "thistle": PlantKind(
        "thistle",
        WEED_CLASS_ID,
        (0.09, 0.20),
        {
            "summer": _look((84, 116, 82), (214, 222, 206), 0.85, "net", 0.09),
            "autumn": _look((100, 108, 74), (206, 204, 184), 0.8, "net", 0.08, 0.08, 0.45),
        },
    ),
    "grass_weed": PlantKind(
        "grass_weed",
        WEED_CLASS_ID,
        (0.08, 0.18),
        {
            "summer": _look((128, 162, 58), (172, 196, 104), 0.4, "none", 0.0, 0.08),
            "autumn": _look((150, 150, 64), (190, 184, 112), 0.35, "none", 0.0, 0.08, 0.5),
        },
    ),
    "chickweed": PlantKind(
        "chickweed",
        WEED_CLASS_ID,
        (0.07, 0.15),
        {
            "summer": _look((96, 172, 56), (140, 200, 96), 0.25, "none", 0.0, 0.05),
            "autumn": _look((110, 156, 56), (150, 190, 96), 0.25, "none", 0.0, 0.05, 0.25),
        },
    ),
    "bindweed": PlantKind(
        "bindweed",
        WEED_CLASS_ID,
        (0.13, 0.24),
        {
            "summer": _look((52, 112, 84), (120, 160, 128), 0.4, "net", 0.06),
            "autumn": _look((80, 110, 74), (140, 154, 120), 0.4, "net", 0.06, 0.06, 0.4),
        },
    ),
}


@dataclass(frozen=True)
class SeasonLook:
    """Field-wide look of a season: soil, sun and shade."""

    soil: Colour  # mean dry-soil colour
    residue: Colour  # straw / stubble colour
    residue_per_m2: float
    gain: float  # overall sun brightness
    shade_depth: float  # how dark a shade patch gets (0..1)
    shade_cover: float  # share of ground in shade patches (0..1)
    shadow_length: float  # plant shadow length / plant radius (low sun -> longer)
    shadow_strength: float


SEASON_LOOKS: dict[str, SeasonLook] = {
    "summer": SeasonLook((132, 104, 78), (196, 178, 120), 3.0, 1.0, 0.32, 0.22, 0.10, 0.42),
    "autumn": SeasonLook((104, 76, 54), (168, 136, 84), 10.0, 0.8, 0.50, 0.38, 0.32, 0.60),
}

#: Crop row spacing (m) and mean in-row plant spacing (m) per crop kind.
ROW_SPACING_M: dict[str, float] = {"maize": 0.75, "sugar_beet": 0.5}
IN_ROW_SPACING_M: dict[str, float] = {"maize": 0.26, "sugar_beet": 0.22}


def kind(name: str) -> PlantKind:
    """The :class:`PlantKind` called ``name``; ``ValueError`` naming the known kinds otherwise."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown plant kind {name!r}; known: {sorted(KINDS)}") from None
