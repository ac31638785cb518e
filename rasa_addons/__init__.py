"""Extensions that plug into Rasa 3.6 itself (NLU components, channels, tracker store).

Only the assistant environment imports this package; the staff app never does.
"""
