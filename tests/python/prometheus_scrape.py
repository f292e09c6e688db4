"""Scrapes Flightdeck's GET /metrics and parses it with the official Prometheus client's
text parser; prints {family: {"type": T, "samples": [[name, labels, value], ...]}}.

Usage: prometheus_scrape.py BASE_URL
"""

import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

with urllib.request.urlopen(f"{sys.argv[1]}/metrics") as r:
    content_type = r.headers["content-type"]
    text = r.read().decode()
families = {
    f.name: {"type": f.type, "samples": [[s.name, s.labels, s.value] for s in f.samples]}
    for f in text_string_to_metric_families(text)
}
print(json.dumps({"content_type": content_type, "families": families}))
