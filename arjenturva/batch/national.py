"""A batch's runs side by side: a comparison table of scenarios per municipality, and a
choropleth map of an indicator per municipality (one panel per scenario, one colour scale).

Both read ``batch_summary`` (:func:`~arjenturva.batch.read_batch_summary`); the map draws the
municipalities' polygons the caller gives (for example a run's ``municipalities`` layer, or the
workspace's). Municipalities without a figure are drawn grey, as "no data".
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import labels
from .plan import BatchError

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

__all__ = ["compare_scenarios", "draw_choropleth", "uncovered_share"]

BASELINE_COLUMN = "baseline"
"""The column of the baseline's figures in :func:`compare_scenarios`."""


def uncovered_share(summary: pd.DataFrame) -> pd.Series:
    """``uncovered_demand / demand`` of each summary row (share 0–1; NaN without demand)."""
    demand = summary["demand"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(demand > 0, summary["uncovered_demand"].to_numpy(dtype=float) / demand, np.nan)
    import pandas as pd

    return pd.Series(share, index=summary.index, name="uncovered_share")


def compare_scenarios(
    summary: pd.DataFrame, *, indicator: str = "uncovered_share", services: Sequence[str] | None = None
) -> pd.DataFrame:
    """One row per municipality × service, the indicator under the baseline and each scenario, and
    each scenario's difference to the baseline (``<scenario>_minus_baseline``). Rows without a figure
    (the ``ALL`` rows of ``uncovered_share``, which have no demand) are left out.

    Parameters
    ----------
    summary
        ``batch_summary`` of a batch (``run`` and ``scenario`` columns with the summary's).
    indicator
        A summary column, or ``uncovered_share`` (:func:`uncovered_share`).
    services
        Only these services (default all, with the ``ALL`` rows).

    Raises
    ------
    BatchError
        When the indicator is unknown, or a municipality is in two runs of one scenario (compare
        such batches run by run).
    """
    frame = summary.copy()
    if indicator == "uncovered_share":
        frame[indicator] = uncovered_share(frame)
    elif indicator not in frame.columns:
        msg = f"unknown indicator {indicator!r}. Fix: use uncovered_share or a column of batch_summary"
        raise BatchError(msg)
    if services is not None:
        frame = frame.loc[frame["service"].isin(list(services))]
    frame["scenario"] = frame["scenario"].fillna(BASELINE_COLUMN)
    keys = ["municipality", "municipality_name", "service", "scenario"]
    twice = frame.loc[frame.duplicated(keys, keep=False)]
    if len(twice):
        first = twice.iloc[0]
        runs = ", ".join(sorted(set(twice.loc[twice["municipality"] == first["municipality"], "run"])))
        msg = (
            f"municipality {first['municipality']} is in several runs of scenario {first['scenario']!r} "
            f"({runs}). Fix: compare these runs with `arjenturva compare` instead"
        )
        raise BatchError(msg)
    wide = frame.pivot(index=keys[:3], columns="scenario", values=indicator).dropna(how="all")
    scenarios = [s for s in dict.fromkeys(frame["scenario"]) if s != BASELINE_COLUMN]
    ordered = ([BASELINE_COLUMN] if BASELINE_COLUMN in wide.columns else []) + scenarios
    wide = wide[ordered]
    if BASELINE_COLUMN in wide.columns:
        for s in scenarios:
            wide[f"{s}_minus_baseline"] = wide[s] - wide[BASELINE_COLUMN]
    wide.columns.name = None
    return wide.reset_index()


def draw_choropleth(
    panels: Mapping[str, pd.Series],
    municipalities: gpd.GeoDataFrame,
    path: str | Path,
    *,
    title: str,
    lang: str = "fi",
    attribution: str = "",
    share: bool = True,
    dpi: int = 120,
) -> Path:
    """Draw one map panel per entry of ``panels`` (figures per municipality code) on one colour
    scale, and save it as a PNG file (atomically).

    Parameters
    ----------
    panels
        Panel title → figures indexed by municipality code.
    municipalities
        Polygons with a ``code`` column (any CRS; drawn in EPSG:3067).
    path
        The PNG file.
    title
        The figure's title.
    lang
        Language of the legend's words and numbers.
    attribution
        Sources, printed under the map.
    share
        The figures are shares 0–1 (the scale shows percentages from 0).
    """
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    from ..io import atomic_path
    from ..schema import CRS

    munis = municipalities.to_crs(CRS) if municipalities.crs is not None else municipalities
    values = [s.astype(float) for s in panels.values()]
    finite = np.concatenate([v.to_numpy()[np.isfinite(v.to_numpy())] for v in values] or [np.zeros(0)])
    top = float(finite.max()) if finite.size else 1.0
    low = 0.0 if share or not finite.size else float(finite.min())
    norm = Normalize(vmin=low, vmax=top if top > low else low + 1.0)
    cmap = colormaps["YlOrRd"]
    n = max(len(panels), 1)
    fig = Figure(figsize=(4.2 * n + 0.6, 7.4), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, (name, series) in zip(axes, panels.items(), strict=False):
        figures = munis["code"].map(series.astype(float))
        missing = figures.isna().to_numpy()
        if missing.any():
            munis.loc[missing].plot(ax=ax, color="#d9d9d9", edgecolor="white", linewidth=0.2)
        if (~missing).any():
            colours = cmap(norm(figures.loc[~missing].to_numpy(dtype=float)))
            munis.loc[~missing].plot(ax=ax, color=colours, edgecolor="white", linewidth=0.2)
        ax.set_title(name, fontsize=11)
        ax.set_axis_off()
        ax.set_aspect("equal")
    fig.suptitle(title, fontsize=13)
    label = labels.ui(lang)
    fmt = FuncFormatter(
        lambda v, _p: labels.format_share(v, lang, 0) if share else labels.format_number(v, lang)
    )
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=list(axes), orientation="horizontal",
                       fraction=0.04, pad=0.02, format=fmt)
    bar.ax.tick_params(labelsize=8)
    if any(munis["code"].map(s).isna().any() for s in values):
        fig.legend(handles=[Patch(facecolor="#d9d9d9", edgecolor="white", label=label["no_data"])],
                   loc="upper right", fontsize=8, frameon=False)
    if attribution:  # below the colour bar: the layout keeps room for it
        lines = textwrap.wrap(attribution, width=int(20 * fig.get_figwidth()))
        fig.supxlabel("\n".join(lines), fontsize=6, color="#444444", x=0.01, ha="left")
    target = Path(path)
    with atomic_path(target, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None})
    return target
