"""A static PNG of the topic map for reports (matplotlib, Agg backend). Writes one file.

Papers are dots coloured by broad topic; each broad topic's label sits at its centre, the biggest
fine topics' labels in smaller type. Highlighted papers are drawn on top, outlined.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import BackendUnavailable

FINE_LABELS = 25


def render_png(data: dict[str, Any], path: str | Path, title: str = "paperradar topic map") -> None:
    """Draw `map_points` data to `path` (PNG, 1600 x 1200)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise BackendUnavailable(f"PNG export needs matplotlib: pip install matplotlib ({e})") from e
    topics = {t["id"]: t for t in data["topics"]}
    broad = sorted((t for t in data["topics"] if t["level"] == "broad"), key=lambda t: -t["size"])
    colour = {t["id"]: plt.get_cmap("tab20")(i % 20) for i, t in enumerate(broad)}
    fig, ax = plt.subplots(figsize=(16, 12), dpi=100)
    pts = data["points"]
    ax.scatter(
        [p["x"] for p in pts],
        [p["y"] for p in pts],
        s=1.5,
        c=[colour.get(topics.get(p["topic"], {}).get("parent"), (0.6, 0.6, 0.6, 1)) for p in pts],
        alpha=0.5,
        linewidths=0,
    )
    hits = [p for p in pts if p.get("hit")]
    if hits:
        ax.scatter([p["x"] for p in hits], [p["y"] for p in hits], s=30, c="none", edgecolors="black")
    _labels(ax, broad, data["topics"])
    ax.set_title(f"{title} ({data['total']:,} papers, {len(pts):,} drawn)")
    ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)


def _labels(ax: Any, broad: list[dict[str, Any]], topics: list[dict[str, Any]]) -> None:
    fine = sorted((t for t in topics if t["level"] == "fine"), key=lambda t: -t["size"])
    placed = [(t["x"], t["y"]) for t in broad]
    shown = 0
    for t in fine:
        if shown >= FINE_LABELS:
            break
        if any(abs(t["x"] - x) < 0.25 and abs(t["y"] - y) < 0.06 for x, y in placed):
            continue  # would cover another label
        placed.append((t["x"], t["y"]))
        shown += 1
        ax.annotate(_short(t["label"], 2), (t["x"], t["y"]), fontsize=7, color="#333333", ha="center")
    for t in broad:
        ax.annotate(
            _short(t["label"], 2),
            (t["x"], t["y"]),
            fontsize=11,
            weight="bold",
            ha="center",
            bbox={"boxstyle": "round", "fc": "white", "alpha": 0.7, "lw": 0},
        )


def _short(label: str, phrases: int) -> str:
    return ", ".join(label.split(", ")[:phrases])
