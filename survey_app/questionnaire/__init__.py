"""Questionnaires: question types, survey definitions and the built-in demo survey."""
