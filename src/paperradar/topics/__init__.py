"""Topics: two-level clusters of the library with readable labels, stable ids, a 2-D map and trends.

`build_topics` / `refresh_topics` (build.py) write; `list_topics`, `show_topic`, `trends_report`,
`map_points` (views.py) read. Clustering, labelling, layout and trend statistics are pure modules.
"""

from .build import BuildReport, build_topics, refresh_topics

__all__ = ["BuildReport", "build_topics", "refresh_topics"]
