"""Pure chart functions (frames or the report in, plotly Figures out), all in the app's one palette."""

from analysis.charts.boosters import booster_cadence, booster_interval_histogram, durability_curve, wear_off  # noqa: F401
from analysis.charts.induction import (  # noqa: F401
    individual_trajectories,
    itt_vs_completers,
    response_by_session,
    response_patterns,
    sessions_reached,
    severity_mix,
    trajectory_by_group,
)
from analysis.charts.overview import literature_comparison, rates_by_start_quarter  # noqa: F401
from analysis.charts.report import report_rates_by_quarter, report_trajectory  # noqa: F401
from analysis.charts.theme import (  # noqa: F401
    BAND_SHADES,
    LAYOUT,
    MEASURE_COLOURS,
    MODALITY_COLOURS,
    MODALITY_LABELS,
    PAGE_LAYOUT,
    PALETTE,
    SAFETY_COLOUR,
    SERIES,
    SPLIT_SERIES,
    TIMEPOINTS,
    band_colours,
    shade_severity_bands,
    timepoint_label,
)
