"""PubMed XML reader (NCBI efetch ``PubmedArticleSet``): one document per article.

Text layout: the title, a blank line, then the abstract. A structured abstract puts each label on
its own line above its paragraph ("BACKGROUND\\n<text>") and each label gets a SectionSpan.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import BinaryIO

from pipeline.document import Document
from pipeline.errors import ReaderError
from pipeline.readers.builder import TextBuilder, author_name, clean_doi, clean_pmcid, find_year
from pipeline.readers.xmlsafe import inline_text, iter_records

_RECORD_TAGS = frozenset({"PubmedArticle", "PubmedBookArticle"})


def read_pubmed_xml(stream: BinaryIO, source: str) -> Iterator[Document]:
    """Every PubmedArticle (and PubmedBookArticle) of the efetch XML read from ``stream``, one at
    a time: the file is parsed as it is read, record by record."""
    n = 0
    for n, record in enumerate(iter_records(stream, _RECORD_TAGS), start=1):
        yield _read_record(record, source, n)
    if n == 0:
        raise ReaderError("no PubmedArticle records in PubMed XML")


def _read_record(record: ET.Element, source: str, n: int) -> Document:
    # Journal articles keep their data under MedlineCitation/Article, books under BookDocument.
    citation = record.find("MedlineCitation")
    if citation is not None:
        pmid = _text(citation.find("PMID"))
        article = citation.find("Article")
        article = article if article is not None else ET.Element("Article")
        title_el = article.find("ArticleTitle")
        abstract = article.find("Abstract")
        journal = _text(article.find("Journal/Title"))
        year = _year(article.find("Journal/JournalIssue/PubDate"), article.find("ArticleDate"))
        doi = _doi(article.findall("ELocationID"), "EIdType")
        ids = record.findall("PubmedData/ArticleIdList/ArticleId")
        authors = _authors(article.find("AuthorList"))
    else:
        book = record.find("BookDocument")
        book = book if book is not None else ET.Element("BookDocument")
        pmid = _text(book.find("PMID"))
        title_el = book.find("ArticleTitle")
        if title_el is None:
            title_el = book.find("Book/BookTitle")
        abstract = book.find("Abstract")
        journal = None
        year = _year(book.find("Book/PubDate"), None)
        doi = _doi(book.findall("ELocationID"), "EIdType")
        ids = record.findall("PubmedBookData/ArticleIdList/ArticleId")
        authors = _authors(book.find("AuthorList"))
    doi = doi or _doi(ids, "IdType")
    pmcid = next((clean_pmcid(_text(el)) for el in ids if el.get("IdType") == "pmc"), None)

    builder = TextBuilder()
    title = inline_text(title_el) if title_el is not None else ""
    builder.section("Title", builder.add(title)[0])
    _add_abstract(builder, abstract)
    return Document(
        source=f"{source}#{pmid or n}",
        format="pubmed-xml",
        text=builder.text,
        title=title or None,
        pmid=pmid,
        doi=doi,
        journal=journal,
        year=year,
        authors=authors,
        pmcid=pmcid,
        sections=builder.sorted_sections(),
    )


def _add_abstract(builder: TextBuilder, abstract: ET.Element | None) -> None:
    """Labelled paragraphs become "LABEL\\n<text>" sections; an unlabelled abstract one section."""
    if abstract is None:
        return
    parts = [(el.get("Label"), inline_text(el)) for el in abstract.findall("AbstractText")]
    if not any(label for label, _ in parts):
        start, _ = builder.add("\n\n".join(paragraph for _, paragraph in parts if paragraph))
        builder.section("Abstract", start)
        return
    for label, paragraph in parts:
        if label:
            start = builder.heading(label)
            builder.add(paragraph)
            builder.section(label, start)
        else:
            builder.add(paragraph)


def _text(elem: ET.Element | None) -> str | None:
    value = inline_text(elem) if elem is not None else ""
    return value or None


def _year(pub_date: ET.Element | None, article_date: ET.Element | None) -> int | None:
    """PubDate/Year, else the first year in MedlineDate ("2018 Nov-Dec"), else ArticleDate/Year."""
    for candidate in (pub_date, article_date):
        if candidate is None:
            continue
        year = find_year(_text(candidate.find("Year")) or _text(candidate.find("MedlineDate")))
        if year:
            return year
    return None


def _authors(author_list: ET.Element | None) -> list[str]:
    """ "LastName, ForeName" of each Author (a group by its CollectiveName)."""
    authors = []
    for author in author_list.findall("Author") if author_list is not None else []:
        name = author_name(_text(author.find("LastName")), _text(author.find("ForeName")) or _text(author.find("Initials")))
        name = name or _text(author.find("CollectiveName"))
        if name:
            authors.append(name)
    return authors


def _doi(elements: list[ET.Element], type_attr: str) -> str | None:
    for elem in elements:
        if elem.get(type_attr) == "doi":
            doi = clean_doi(_text(elem))
            if doi:
                return doi
    return None
