"""Measuring the widget's layout in the page: what is in view, what is clipped or covered."""

from __future__ import annotations

from typing import Any

from tests.browser.pages import Widget

# Controls a visitor needs at any size (selector, what it is).
CONTROLS: tuple[tuple[str, str], ...] = (
    (".hlc-icon-button", "Hide chat"),
    (".hlc-emergency", "911 / 988 line"),
    ("#hlc-input", "text box"),
    (".hlc-send", "Send"),
    (".hlc-tools .hlc-secondary:not(.hlc-end)", "Talk to a person"),
    (".hlc-end", "Clear this chat from this device"),
)

# The element the panel or the message area scrolls (whichever scrolls at this size), the
# visible band of it (minus a sticky footer), and where ``selector``'s element sits in it.
_VIEW = """
const body = document.querySelector('.hlc-body');
const panel = document.getElementById('hlc-panel');
const footer = document.querySelector('.hlc-footer');
const ov = getComputedStyle(body).overflowY;
const box = (ov === 'auto' || ov === 'scroll') ? body : panel;
const r = box.getBoundingClientRect();
let bottom = Math.min(r.bottom, innerHeight);
if (box === panel && getComputedStyle(footer).position === 'sticky') {
  bottom = Math.min(bottom, footer.getBoundingClientRect().top);
}
return {scroller: box === body ? 'body' : 'panel', top: Math.max(r.top, 0), bottom: bottom,
        scrollTop: box.scrollTop, end: box.scrollHeight - box.clientHeight};
"""


def view(w: Widget) -> dict[str, Any]:
    """The visible band of the conversation: {scroller, top, bottom, scrollTop, end}."""
    return dict(w.driver.execute_script(_VIEW))


def rect(w: Widget, element: Any) -> dict[str, float]:
    """An element's bounding box in the viewport."""
    return dict(
        w.driver.execute_script(
            "const r = arguments[0].getBoundingClientRect();"
            "return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,"
            " height: r.height, width: r.width}",
            element,
        )
    )


_REACHABLE = """
const el = document.querySelector(arguments[0]);
if (!el || el.offsetParent === null) return {missing: true};
el.scrollIntoView({block: 'nearest', inline: 'nearest'});
const r = el.getBoundingClientRect();
const panel = document.getElementById('hlc-panel').getBoundingClientRect();
const x = r.left + r.width / 2, y = r.top + Math.min(r.height / 2, 12);
const hit = document.elementFromPoint(x, y);
return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
        vw: innerWidth, vh: innerHeight,
        panel: [panel.left, panel.top, panel.right, panel.bottom],
        textFits: el.scrollWidth <= el.clientWidth + 1,
        onTop: !!hit && (hit === el || el.contains(hit))};
"""


def assert_reachable(w: Widget, selector: str, what: str) -> None:
    """Scrolled to, ``selector`` lies wholly inside the viewport and the panel, its text is not
    cut, and nothing covers it."""
    box = w.driver.execute_script(_REACHABLE, selector)
    assert not box.get("missing"), f"{what} ({selector}) is not shown"
    inside = (
        box["left"] >= -0.5
        and box["right"] <= box["vw"] + 0.5
        and box["top"] >= -0.5
        and box["bottom"] <= box["vh"] + 0.5
        and box["left"] >= box["panel"][0] - 0.5
        and box["right"] <= box["panel"][2] + 0.5
        and box["top"] >= box["panel"][1] - 0.5
        and box["bottom"] <= box["panel"][3] + 0.5
    )
    assert inside, f"{what} is clipped: {box}"
    assert box["textFits"], f"{what}'s text is cut: {box}"
    assert box["onTop"], f"{what} is covered by something: {box}"


def no_sideways_scrolling(w: Widget) -> None:
    """Neither the page nor the chat panel scrolls sideways."""
    widths = w.driver.execute_script(
        "const p = document.getElementById('hlc-panel');"
        "return {doc: document.documentElement.scrollWidth, vw: innerWidth,"
        " panel: p.scrollWidth, panelClient: p.clientWidth}"
    )
    assert widths["doc"] <= widths["vw"], widths
    assert widths["panel"] <= widths["panelClient"], widths
