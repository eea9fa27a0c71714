"""One module per dataset source; importing this package registers them all."""

from opencomposer.data.sources import (
    bach_chorales,
    deepcomposer_jsb,
    folder,
    groove,
    jsb,
    lieder,
    mutopia,
    nottingham,
    openewld,
    pop909,
    string_quartets,
    wjazzd,
)

__all__ = [
    "bach_chorales",
    "deepcomposer_jsb",
    "folder",
    "groove",
    "jsb",
    "lieder",
    "mutopia",
    "nottingham",
    "openewld",
    "pop909",
    "string_quartets",
    "wjazzd",
]
