"""Staff retraining: the NLU inbox, annotation into ``data/nlu``, retraining, the quality gate,
promotion and rollback of models (issue 7).

Runs in the staff app's environment only. It never imports rasa: it runs the Rasa CLI of the
assistant environment as a subprocess and talks to the running Rasa server over its HTTP API.
"""
