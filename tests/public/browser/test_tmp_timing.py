import time, json
import pytest
from axe_playwright_python.sync_playwright import Axe
from tests.public.pages import public_pages
from tests.public.browser.test_axe import AXE_OPTIONS
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

def test_timing(live_server, scenario, open_page, settings):
    script = Axe().axe_script
    page = open_page()
    logs = []
    page.on("console", lambda m: logs.append(m.text))
    for name, path in [public_pages(scenario, "fr")[4], public_pages(scenario, "fr")[6]]:
        page.goto(live_server.url + path)
        page.evaluate(script)
        t = time.perf_counter()
        page.evaluate("axe.run(document, %s).then(r => 0)" % json.dumps({**AXE_OPTIONS, "performanceTimer": True}))
        print(name, time.perf_counter() - t)
    rules = [l for l in logs if "rule" in l.lower() or "ms" in l][:400]
    import re
    timed = []
    for l in logs:
        m = re.search(r"(\S+).*?([\d.]+)\s*ms", l)
        if m: timed.append((float(m.group(2)), l[:120]))
    for t, l in sorted(timed, reverse=True)[:25]: print(round(t,1), l)
