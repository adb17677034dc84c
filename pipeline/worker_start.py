"""Imported by each worker process of a parallel ingest as it starts (see pipeline.workers),
never by the run itself: it builds the NLP pipeline and analyses a short made-up document, so
that the lazily compiled patterns are ready before the first file."""

from pipeline.document import Document
from pipeline.extract import analyse
from pipeline.extract.nlp import build_nlp

_WARM_UP = (
    "Background: HER2-positive (IHC 3+ or ISH-positive) metastatic colorectal cancer, KRAS wild-type.\n"
    "Methods: In the PHASE-2 trial (NCT00000000), patients received trastuzumab plus lapatinib (TL) "
    "after progression on fluoropyrimidine-based chemotherapy or radiotherapy.\n"
    "Results: The objective response rate (ORR) was 30% (95% CI 14-50; 8/27), median progression-free "
    "survival 21 weeks, hazard ratio 0.54 (p = 0.03)."
)

build_nlp()
analyse(Document(source="warm-up", format="text", text=_WARM_UP))
