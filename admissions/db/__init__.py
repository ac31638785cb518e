"""Database access for the staff app: its own tables and read queries over Rasa's tracker store.

App environment only (SQLAlchemy 2); nothing here imports rasa.
"""
