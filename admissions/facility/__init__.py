"""The facility's settings (``facility.yml``): the data model and its loading.

``model`` holds the typed, validated facility (and ``tel_link``, the one builder of ``tel:``
links); ``loading`` finds and reads the file; ``validation`` turns parsed YAML into the model,
naming the field of every mistake. Import from here: ``from admissions.facility import …``.
"""

from __future__ import annotations

from admissions.facility.loading import default_facility_path, load_facility
from admissions.facility.model import (
    DEFAULT_NEED_RULE,
    SHORT_NAMES,
    AdmissionsLine,
    Facility,
    FacilityConfigError,
    NearMiss,
    NeedRule,
    Payers,
    Program,
    Track,
    call_button,
    reply_values,
    tel_link,
)
from admissions.facility.validation import parse_facility

__all__ = [
    "DEFAULT_NEED_RULE",
    "SHORT_NAMES",
    "AdmissionsLine",
    "Facility",
    "FacilityConfigError",
    "NearMiss",
    "NeedRule",
    "Payers",
    "Program",
    "Track",
    "call_button",
    "default_facility_path",
    "load_facility",
    "parse_facility",
    "reply_values",
    "tel_link",
]
