"""Themes of practices: the charter's commitments, also published as hashtags."""

from __future__ import annotations

from federation import charter

# Hashtags cannot hold spaces or dashes in Mastodon; one word per commitment.
HASHTAGS: dict[int, str] = {
    1: "UtiliteSociale",
    2: "PrimauteDeLaPersonne",
    3: "Democratie",
    4: "Territoire",
    5: "EthiqueDesDonnees",
    6: "Communs",
    7: "Cooperation",
}
ALIASES: dict[str, int] = {
    **{tag.lower(): n for n, tag in HASHTAGS.items()},
    "utilite-sociale": 1,
    "personne": 2,
    "democratie": 3,
    "territoire": 4,
    "donnees": 5,
    "ethique-des-donnees": 5,
    "communs": 6,
    "cooperation": 7,
}


class UnknownTheme(ValueError):
    pass


def parse_theme(value: object) -> int:
    """A commitment number from 1..7 or a theme word ("communs", "EthiqueDesDonnees")."""
    numbers = charter.load().numbers
    if isinstance(value, int) and not isinstance(value, bool) and value in numbers:
        return value
    if isinstance(value, str):
        text = value.strip().lstrip("#").lower()
        if text.isascii() and text.isdigit() and int(text) in numbers:
            return int(text)
        if text in ALIASES:
            return ALIASES[text]
    known = ", ".join(f"{n} ({HASHTAGS[n]})" for n in sorted(numbers))
    raise UnknownTheme(f"unknown theme {value!r}; themes are the commitments {known}")


def hashtag(number: int) -> str:
    return HASHTAGS[number]


def title(number: int, language: str = "fr") -> str:
    return charter.load().commitment(number).title.get(language, "")
