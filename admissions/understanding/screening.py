"""Yes/no screening answers read next to their question: the content wins over the word.

"Is home a hard place to recover?" invites "no — my brother still uses in the house" (a
*yes* in content) and "yes, it's a safe place" (a *no*). :func:`read_screening` reads the
reply to one screening question:

* content cues for that question decide when they agree ("my brother still uses" -> True);
* with no content cue, the yes/no word decides (``extract_answers.read_answer``);
* content cues that contradict each other ("nobody drinks but it's chaos") give
  :data:`UNCLEAR`: the assistant asks back with buttons instead of guessing;
* a closing verdict ("my brother drinks but he's respectful, so no") settles it: the visitor
  weighed the content and answered.

A cue preceded by a negation ("nobody drinks", "never been to rehab", "not safe") counts for
the other side, so negation is read once, here, and not by each caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from admissions.understanding.answers import read_answer

UNCLEAR = "unclear"  # content that says both: ask back


@dataclass(frozen=True)
class _Cues:
    """Phrases that mean yes / no for one question (regex alternations, lowercase)."""

    yes: str
    no: str


_NEG = (
    r"(?:not|never|no|nobody|no one|noone|none|nothing|neither|nor|without|zero|hardly|barely|"
    r"rarely|seldom|"
    r"\w+n't|isnt|doesnt|dont|cant|wont|didnt|aint|havent|hasnt|wasnt|arent|werent)"
)
# a negation up to three words before a cue, in the same clause (no punctuation between)
_NEG_BEFORE = re.compile(rf"\b{_NEG}(?:\s+[\w']+){{0,3}}\s*$")
# the answer word itself ("no — my brother still uses") is not a negation of the content
_LEADING_WORD = re.compile(
    r"^\s*(?:no+|nope|nah+|naw|yes+|yeah+|yea|yep|yup|ya|sure|well|um+|uh+|hmm+|ok|okay)\b"
    r"(?!\s+(?:one|body|symptoms?|problems?|issues?|alcohol|drugs|drinking|booze|beer|"
    r"using|way|more|longer|not)\b)\W*"
)

_CUES: dict[str, _Cues] = {
    "screen_home_unsafe": _Cues(
        yes=r"uses?|using|drinks?|drinking|drunk|gets? high|smokes?|smoking|deals?|dealing|"
        r"drugs?|alcohol|booze|beer|liquor|pills|weed|meth|dope|party|partying|parties|unsafe|"
        r"toxic|abus\w*|violen\w*|fight\w*|yell\w*|scream\w*|chao\w*|stressful|trigger\w*|"
        r"tempt\w*|enabl\w*|hard place|hard to stay|rough|bad place|bad environment|"
        r"bad situation|dangerous|scared|afraid|kick(?:ed|ing)? me out|homeless|couch surf\w*|"
        r"shelter|on the street",
        no=r"safe|fine|ok|okay|good|great|supportive|support|stable|calm|peaceful|quiet|"
        r"sober|dry|clean|healthy|alright|all right|no problem",
    ),
    "screen_withdrawal": _Cues(
        yes=r"shak\w*|tremor\w*|trembl\w*|sweat\w*|nause\w*|vomit\w*|throw(?:ing)? up|puk\w*|"
        r"sick|anxi\w*|panic\w*|can'?t sleep|insomnia|headaches?|restless\w*|jitter\w*|"
        r"racing|heart pound\w*|cramps?|chills|achy|aches|seiz\w*|dts|hallucinat\w*|withdraw\w*|"
        r"symptoms|the spins|irritable",
        no=r"fine|ok|okay|normal|nothing happens|no symptoms|no problem|feel good",
    ),
    "screen_relapse": _Cues(
        yes=r"(?<!first )(?:rehab|detox|treatment)|relaps\w*|started again|start(?:ed)? back|"
        r"went back|"
        r"back to (?:it|drinking|using)|tried to (?:quit|stop)|tried quitting|tried stopping|"
        r"quit before|stopped before|been sober|got sober|was sober|was clean|got clean|"
        r"sobriety|aa meetings|na meetings|meetings|program before|a few times|many times|"
        r"several times|"
        r"couple (?:of )?times|twice|every time|again and again|over and over|"
        r"\d+ times|multiple times|more than once|picked it back up|back at it|went to aa|"
        r"stopped for|quit for|gave it up for|fell off|slipped|used again|drank again",
        no=r"first time|my first|the first|never tried|never been|haven'?t tried|never had|"
        r"never quit|never stopped|this is the first|only now|new to this",
    ),
    "screen_daily_use": _Cues(
        yes=r"every ?day|daily|every night|every morning|nightly|all day|all the time|"
        r"non ?stop|constantly|most days|nearly every|almost every|every single|"
        r"[5-7] days a week|(?:five|six|seven) days a week|round the clock|24/7|most nights|"
        r"every evening|every weeknight|all weekend and most weeknights",
        no=r"weekends?|once a week|twice a week|couple (?:of )?(?:times|days) a week|"
        r"few times a (?:week|month)|every other|now and then|once in a while|binge\w*|"
        r"on and off|special occasions|socially",
    ),
}


_CONCLUDES = re.compile(r"^\s*(?:so|then|overall|all in all|in the end|i'?d say)\b,?\s*")


def _hits(pattern: str, text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(rf"\b(?:{pattern})\b", text)]


def _negated(text: str, start: int) -> bool:
    return bool(_NEG_BEFORE.search(text[:start]))


def read_content(slot: str, text: str) -> bool | str | None:
    """What the reply's words say for ``slot``: True, False, :data:`UNCLEAR`, or None (nothing)."""
    cues = _CUES.get(slot)
    if cues is None:
        return None
    lowered = _LEADING_WORD.sub("", text.lower().replace("’", "'"), count=1)
    yes = no = False
    for start, _ in _hits(cues.yes, lowered):
        if _negated(lowered, start):
            no = True  # "nobody drinks", "never been to rehab", "no symptoms"
        else:
            yes = True
    for start, _ in _hits(cues.no, lowered):
        if _negated(lowered, start):
            yes = True  # "not safe", "isn't good", "not fine"
        else:
            no = True
    if yes and no:
        return UNCLEAR
    if yes:
        return True
    if no:
        return False
    return None


def read_screening(slot: str, text: str) -> bool | str | None:
    """The answer to screening question ``slot``: content first, then the yes/no word.

    Returns True/False, :data:`UNCLEAR` (content contradicts itself: ask back), or None
    (no answer at all). The word "no" alone never overrides what the content says.
    """
    last = re.split(r"[,;.—–-]", text.lower())[-1]
    if _CONCLUDES.match(last):
        # "there's beer in the fridge but my wife barely drinks, so not really": the visitor
        # weighed it and the closing "so ..." gives the verdict
        verdict = read_answer(_CONCLUDES.sub("", last))
        if verdict is not None:
            return verdict
    content = read_content(slot, text)
    if content is not None:
        return content
    return read_answer(text)
