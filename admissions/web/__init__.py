"""The staff web app and public demo page (app environment only; never imports rasa)."""
