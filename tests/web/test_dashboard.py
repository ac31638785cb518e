"""The dashboard: counts drawn server-side as SVG, no scripts, no message text."""

from __future__ import annotations

import re
import time

from tests.web.fixtures import Conversation, write


async def test_funnel_and_charts(sign_in, tracker):
    now = time.time()
    write(
        tracker,
        Conversation("d1", start=now - 3600)
        .visitor("secret words one")
        .fit("iop")
        .action("action_handoff")
        .callback(),
        Conversation("d2", start=now - 2 * 86400).visitor("secret words two").fit("undetermined"),
        Conversation("d3", start=now - 3 * 86400)
        .visitor("secret words three")
        .slot("crisis_detected", True),
        Conversation("d4", start=now - 40 * 86400).visitor("too old for 14 days"),
    )
    staff = await sign_in("ada", "admin")
    response = await staff.client.get("/staff/dashboard")
    assert response.status == 200
    html = await response.text()
    assert html.count("<svg") == 3 and "<script" not in html
    assert "secret words" not in html
    stages = dict(re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td>", html))
    assert stages == {
        "Finished the assessment": "2",
        "Got a program recommendation": "1",
        "Shown the admissions line (handoff)": "1",
        "Asked for a callback": "1",
        "Sent a crisis message": "1",
    }
    funnel_svg = html.split("<figure")[2]  # per day, funnel, recommendations
    funnel = re.findall(
        r'class="label">([^<]+)</text>\s*<text[^>]*class="value">(\d+)<', funnel_svg
    )
    assert [int(v) for _, v in funnel] == [3, 2, 1, 1, 1]
    assert "1 with a crisis message" in html
    ninety = await (await staff.client.get("/staff/dashboard?days=90")).text()
    assert "4 conversations" in ninety
