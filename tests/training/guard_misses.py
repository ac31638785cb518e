"""Crisis training examples the deterministic crisis guard (admissions.safety) does not catch:
only the intent classifier knows them, so a training set that relabels them is what the
quality gate's protected-crisis check is there to stop. (Checked against data/nlu/crisis.yml
and admissions/understanding/patterns/crisis.yml by test_guard_misses_are_still_classifier_only.)"""

CLASSIFIER_ONLY_CRISIS = [
    "i'm not safe at home right now",
    "i can't go on",
    "i'm in danger",
    "help me i'm dying",
    "i'm not going to make it through the night",
    "i have the rope ready",
    "i'm sitting here with a bottle of pills in my hand",
    "life isn't worth it anymore",
]
