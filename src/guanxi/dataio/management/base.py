"""Shared pieces of the data commands: the relations commands' conventions (bilingual argparse
errors, ``user``, GuanxiErrors as non-zero exits with both languages)."""

from __future__ import annotations

from guanxi.relations.management.base import RelationsCommand


class DataCommand(RelationsCommand):
    pass
