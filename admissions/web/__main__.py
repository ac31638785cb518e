"""``python -m admissions.web``: serve the staff app (and the public demo page)."""

from admissions.web.main import main

main()
