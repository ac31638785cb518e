"""Measures what a visitor waits for, in the real browser against the real stack, and writes
it to benchmarks/results/widget_latency.json (figures, not pass/fail thresholds):

* page load -> first bot message (the visitor opens the chat as soon as the page has loaded),
  and launcher click -> first bot message;
* send -> reply over 20 messages (median, p90, max), timed inside the page from the moment
  the visitor's message appears to the moment the first bot message after it appears.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.pages import ROOT, Widget
from tests.browser.stack import Stack

RESULT = ROOT / "benchmarks" / "results" / "widget_latency.json"
MESSAGES = [
    "what programs do you have?",
    "is this confidential?",
    "I want to start treatment as soon as possible",
    "I have Aetna through my job",
    "I work 9 to 5 Monday to Friday",
    "I take care of my kids",
    "I'm free weekday evenings after 5",
    "yes that's right",
    "yes",
    "no",
    "yes",
    "no",
    "how much does it cost?",
    "are you a real person?",
    "what is IOP?",
    "is this confidential?",
    "what programs do you have?",
    "can I talk to someone?",
    "thank you",
    "how much does it cost?",
    "thanks, bye",
]
# Times every message added to the log (ms since navigation start), set up before the
# visitor opens the chat; also the moment the launcher is clicked.
OBSERVER = """
window.__timing = {open: null, added: []};
document.addEventListener('click', e => {
  if (e.target.closest('.hlc-launcher') && window.__timing.open === null)
    window.__timing.open = performance.now();
}, true);
new MutationObserver(records => {
  for (const r of records) for (const n of r.addedNodes)
    if (n.nodeType === 1 && n.classList.contains('hlc-msg'))
      window.__timing.added.push([n.classList.contains('hlc-bot') ? 'bot' : 'visitor',
                                   performance.now()]);
}).observe(document.querySelector('.hlc-log'), {childList: true});
"""


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p * (len(ordered) - 1))))
    return ordered[index]


def test_measure_widget_latency(stack: Stack, open_widget: Callable[..., Widget]) -> None:
    """Time to the first bot message and the median send->reply over 20 messages."""
    w = open_widget()
    w.load()
    w.wait(lambda d: d.execute_script("return document.readyState") == "complete")
    w.driver.execute_script(OBSERVER)
    w.driver.find_element(By.CSS_SELECTOR, ".hlc-launcher").click()
    w.wait_bot(1)
    nav = w.driver.execute_script(
        "const n = performance.getEntriesByType('navigation')[0];"
        "return {dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd}"
    )
    box = w.driver.find_element(By.ID, "hlc-input")
    for text in MESSAGES:
        before = len(w.messages())
        box.send_keys(text, Keys.ENTER)
        w.wait(lambda d, n=before: len(w.messages()) > n + 1 and w.idle(), 40, text)
    timing = w.driver.execute_script("return window.__timing")
    added = timing["added"]
    first_bot = next(t for who, t in added if who == "bot")
    samples = []
    for i, (who, t) in enumerate(added):
        if who == "visitor":
            reply = next(t2 for who2, t2 in added[i + 1 :] if who2 == "bot")
            samples.append(reply - t)
    assert len(samples) == len(MESSAGES)
    result = {
        "measured": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "what": "headless Chromium -> web app /chat/ proxy -> Rasa REST channel (+ action "
        "server), all on one machine (loopback)",
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
            "python": platform.python_version(),
        },
        "browser": w.driver.capabilities.get("browserVersion"),
        "page_dom_content_loaded_ms": round(nav["dcl"], 1),
        "page_load_event_ms": round(nav["load"], 1),
        "page_load_to_first_bot_message_ms": round(first_bot, 1),
        "open_click_to_first_bot_message_ms": round(first_bot - timing["open"], 1),
        "send_to_reply_ms": {
            "messages": len(samples),
            "median": round(statistics.median(samples), 1),
            "p90": round(_percentile(samples, 0.9), 1),
            "min": round(min(samples), 1),
            "max": round(max(samples), 1),
            "samples": [round(s, 1) for s in samples],
        },
        "notes": "page_load_to_first_bot_message counts from navigation start and includes "
        "opening the chat right after the load event (the chat starts when the visitor "
        "opens it). Rasa, the action server, the app and Chromium share the CPUs.",
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
