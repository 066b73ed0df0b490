"""``python -m arjenturva.results`` prints the results contract as Markdown (docs/results.md)."""

from .tables import schema_markdown

print(schema_markdown(), end="")
