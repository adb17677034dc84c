"""The evidence database: SQLModel tables, loading, views and read-only queries.

``models`` defines record shapes once (tables and export models); ``db`` opens the database and
loads analysed documents, one transaction per source file; ``query`` runs read-only SQL.
"""

from pipeline.store.db import (
    DEFAULT_DB,
    SCHEMA_VERSION,
    FileRows,
    LoadResult,
    StoreDamaged,
    StoreError,
    StoredFile,
    StoreStatus,
    check_message,
    check_store,
    clear_error,
    connect_readonly,
    file_rows,
    failed_files,
    ingest_errors,
    load_document,
    load_file,
    load_file_pieces,
    note_file_stat,
    open_store,
    record_error,
    restore_file,
    source_files,
    store_status,
    stored_document_stream,
    stored_documents,
    stored_file,
    withdraw_file,
)
from pipeline.store.models import RECORD_KINDS, RecordKind
from pipeline.store.query import (DEFAULT_QUERY_TIMEOUT, QueryInterrupted, QueryResult, QueryRows, QueryTimeout, ReadOnlyViolation,
                                  open_query, run_query)

__all__ = [
    "DEFAULT_DB", "DEFAULT_QUERY_TIMEOUT", "SCHEMA_VERSION", "RECORD_KINDS", "FileRows", "LoadResult", "QueryInterrupted",
    "QueryResult", "QueryRows", "QueryTimeout", "ReadOnlyViolation",
    "RecordKind", "StoreDamaged", "StoreError", "StoreStatus", "StoredFile", "check_message", "check_store", "clear_error", "connect_readonly", "failed_files", "file_rows", "ingest_errors",
    "load_document", "load_file", "load_file_pieces", "note_file_stat", "open_store", "record_error", "open_query", "restore_file", "run_query", "source_files", "store_status", "stored_document_stream", "stored_documents",
    "stored_file", "withdraw_file",
]
