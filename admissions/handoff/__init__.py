"""The admissions handoff packet: one structured record per conversation for staff and the CRM.

Pure code (no Rasa, no web): ``answers`` reads the visitor's replies to the step's questions
(with ``replies``, the forms any reply takes, and ``choices``, replies read into fixed keys),
``packet`` builds the record from a conversation's slots,
``fhir`` answers the shipped FHIR R4 Questionnaire with it, ``signature`` signs webhook bodies.
"""
