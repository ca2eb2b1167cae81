"""The value engine: one re-evaluation of every customer, set-based in the database.

``guanxi.value.engine.run.classify`` is the entry point; ``sql`` builds the statements.
"""
