"""Use cases with role checks: every operation a page or a command performs is a function here. Each takes the
app context (dke_geo/context.py) and, where a role matters, the acting user; it checks the role first, does its
work in one transaction through the store (no SQL here) and raises DkeError subclasses (translatable) for
anything a user can act on. Services return data: maps and charts are drawn by the UI from it."""
