"""Use cases with role checks. Each takes the engine and the acting user, does its work in one
transaction and raises DkeError subclasses (translatable) for anything a user can act on."""
