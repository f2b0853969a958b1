"""Licences a shared practice may carry, by SPDX id, with what they allow for reuse."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Licence:
    spdx: str
    name: str
    url: str
    share_alike: bool = False  # derived works must keep this licence
    no_derivatives: bool = False  # no derived work at all
    free: bool = True  # a free (libre) licence, by the charter's meaning

    def as_json(self) -> dict[str, str]:
        return {"id": self.url, "spdx": self.spdx, "name": self.name}


_CC = "https://creativecommons.org/licenses"
LICENCES: dict[str, Licence] = {
    lic.spdx: lic
    for lic in (
        Licence("CC-BY-SA-4.0", "CC BY-SA 4.0", f"{_CC}/by-sa/4.0/", share_alike=True),
        Licence("CC-BY-4.0", "CC BY 4.0", f"{_CC}/by/4.0/"),
        Licence("CC0-1.0", "CC0 1.0", "https://creativecommons.org/publicdomain/zero/1.0/"),
        Licence(
            "CC-BY-NC-SA-4.0",
            "CC BY-NC-SA 4.0",
            f"{_CC}/by-nc-sa/4.0/",
            share_alike=True,
            free=False,
        ),
        Licence("CC-BY-NC-4.0", "CC BY-NC 4.0", f"{_CC}/by-nc/4.0/", free=False),
        Licence(
            "CC-BY-ND-4.0",
            "CC BY-ND 4.0",
            f"{_CC}/by-nd/4.0/",
            no_derivatives=True,
            free=False,
        ),
        Licence(
            "CC-BY-NC-ND-4.0",
            "CC BY-NC-ND 4.0",
            f"{_CC}/by-nc-nd/4.0/",
            no_derivatives=True,
            free=False,
        ),
        Licence("LAL-1.3", "Licence Art Libre 1.3", "https://artlibre.org/licence/lal/", True),
        Licence(
            "GFDL-1.3-or-later", "GNU FDL 1.3", "https://www.gnu.org/licenses/fdl-1.3.html", True
        ),
        Licence(
            "etalab-2.0",
            "Licence Ouverte 2.0",
            "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
        ),
        Licence("ODbL-1.0", "ODbL 1.0", "https://opendatacommons.org/licenses/odbl/1-0/", True),
        Licence("CC-BY-SA-3.0-FR", "CC BY-SA 3.0 FR", f"{_CC}/by-sa/3.0/fr/", share_alike=True),
    )
}
BY_URL = {lic.url: lic for lic in LICENCES.values()}


def find(spdx: str) -> Licence | None:
    """Case-insensitive look-up by SPDX id."""
    wanted = spdx.strip().lower()
    return next((lic for key, lic in LICENCES.items() if key.lower() == wanted), None)


def from_document(value: object) -> Licence | None:
    """The licence an incoming object declares (our `licence` term), if we know it."""
    if isinstance(value, dict):
        spdx = value.get("spdx")
        if isinstance(spdx, str) and (found := find(spdx)):
            return found
        url = value.get("id")
        if isinstance(url, str):
            return BY_URL.get(url)
    if isinstance(value, str):
        return find(value) or BY_URL.get(value)
    return None


def display_name(spdx: str) -> str | None:
    """The name shown for an install's default licence (profile field)."""
    found = find(spdx)
    return found.name if found else None
