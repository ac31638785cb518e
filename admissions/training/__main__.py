"""``python -m admissions.training``: see ``admissions.training.cli``."""

from admissions.training.cli import main

raise SystemExit(main())
