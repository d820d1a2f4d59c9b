"""A link to a map at a point, for screens that show where an order is (the dashboard)."""

from __future__ import annotations


def map_url(latitude: float | None, longitude: float | None) -> str | None:
    """OpenStreetMap with a marker at the point; None without one."""
    if latitude is None or longitude is None:
        return None
    lat, lon = f"{latitude:.6f}", f"{longitude:.6f}"
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"
