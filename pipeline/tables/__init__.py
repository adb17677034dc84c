"""Tables: a model of rows and cells with offsets into the document text (``model``), the
tables written in plain text (``text.text_tables``) and the figures their cells hold
(``read.table_outcomes``).

``pipeline.extract.analyse`` runs them: text tables are found before segmentation (each of
their lines starts a sentence), their cells are read once the NER has run, and the sentence
extractor of outcomes skips the sentences inside them.
"""

from pipeline.tables.model import Cell, Span, Table

__all__ = ["Cell", "Span", "Table"]
