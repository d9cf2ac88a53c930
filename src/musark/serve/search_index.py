"""Full-text search over artist, album and song names: a tantivy index under ``search/tantivy``.

Text is split by one regex tokenizer — runs of letters and digits, and each CJK character on
its own (Chinese and Japanese have no spaces) — then lowercased and ASCII-folded (é → e,
ß → ss), so accents and scripts need nothing from the user. Hits are scored by BM25 times
log2(2 + popularity) (tantivy's weight_by_field), so well-known items come first.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import tantivy

from musark.archive import Archive
from musark.console import progress

TOKENIZER = "musark"
_CJK = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}"
_TOKEN_RE = rf"[{_CJK}]|[[\p{{L}}\p{{N}}]--[{_CJK}]]+"
WRITER_HEAP = 256 * 1024 * 1024
WRITER_THREADS = 2
# Candidates fetched per query before paging; deep pages of a text search are rare.
MAX_HITS = 2000
# Every word's prefixes of 2..PREFIX_MAX characters are indexed as terms of their own, so a
# half-typed word is one term lookup instead of a union over every word it starts.
PREFIX_MIN, PREFIX_MAX = 2, 12


def analyzer() -> tantivy.TextAnalyzer:
    """The analyzer used for both indexed names and queries."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(_TOKEN_RE))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def _schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("kind", stored=False, tokenizer_name="raw", index_option="basic")
    b.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    b.add_text_field("name", stored=False, tokenizer_name=TOKENIZER)
    b.add_text_field("ctx", stored=False, tokenizer_name=TOKENIZER)
    b.add_text_field("pfx", stored=False, tokenizer_name="whitespace", index_option="freq")
    b.add_float_field("pop", stored=False, fast=True, indexed=False)
    return b.build()


def prefixes(tokens: list[str]) -> str:
    """The PREFIX_MIN..PREFIX_MAX-character prefixes of analysed tokens, space-separated."""
    out: set[str] = set()
    for tok in tokens:
        out.update(tok[:k] for k in range(PREFIX_MIN, min(len(tok), PREFIX_MAX) + 1))
    return " ".join(out)


def search_dir(archive: Archive) -> Path:
    """Folder of the tantivy index."""
    return archive.search_dir / "tantivy"


def _docs(lib: sqlite3.Connection) -> Iterator[tuple[str, str, str, str, float]]:
    yield from (
        ("artist", i, n, "", float(p or 0))
        for i, n, p in lib.execute("SELECT id, name, coalesce(followers, popularity) FROM artist")
    )
    yield from (
        ("album", i, n, a or "", float(p or 0))
        for i, n, a, p in lib.execute("SELECT id, name, artist, popularity FROM album")
    )
    yield from (
        ("song", i, n, f"{a or ''} {al or ''}", float(p or 0))
        for i, n, a, al, p in lib.execute("SELECT id, title, artist, album, popularity FROM song")
    )


def build_search(archive: Archive, library_db: Path, *, show_progress: bool | None = None) -> int:
    """Rebuild the tantivy index from library.sqlite3 with one bulk writer; return documents."""
    final = search_dir(archive)
    tmp = final.with_name(final.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    index = tantivy.Index(_schema(), path=str(tmp))
    index.register_tokenizer(TOKENIZER, analyzer())
    lib = sqlite3.connect(f"file:{library_db}?mode=ro", uri=True)
    total = sum(
        lib.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("artist", "album", "song")
    )
    n = 0
    analyse = analyzer().analyze
    writer = index.writer(WRITER_HEAP, WRITER_THREADS)
    with progress(disable=show_progress is False if show_progress is not None else None) as bar:
        task = bar.add_task("search index", total=total)
        for kind, ident, name, ctx, pop in _docs(lib):
            pfx = prefixes(analyse(f"{name} {ctx}"))
            writer.add_document(
                tantivy.Document(kind=kind, id=ident, name=name, ctx=ctx, pfx=pfx, pop=pop)
            )
            n += 1
            if n % 10000 == 0:
                bar.update(task, completed=n)
        bar.update(task, completed=n)
    writer.commit()
    writer.wait_merging_threads()
    lib.close()
    old = final.with_name(final.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return n


@dataclass
class SearchPage:
    """One page of ids for one kind, and how many matched in all (up to MAX_HITS)."""

    ids: list[str]
    total: int


class Searcher:
    """Answers text queries against the tantivy index."""

    def __init__(self, archive: Archive) -> None:
        self.index = tantivy.Index.open(str(search_dir(archive)))
        self.index.register_tokenizer(TOKENIZER, analyzer())
        self.schema = self.index.schema
        self._analyzer = analyzer()

    def tokens(self, text: str) -> list[str]:
        """The query's terms as the index saw the names."""
        return self._analyzer.analyze(text)

    def _exact(self, token: str) -> tantivy.Query:
        return tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Should, tantivy.Query.boost_query(q, boost))
                for q, boost in (
                    (tantivy.Query.term_query(self.schema, "name", token), 2.0),
                    (tantivy.Query.term_query(self.schema, "ctx", token), 1.0),
                )
            ]
        )

    def _term(self, token: str, *, prefix: bool) -> tantivy.Query:
        if not prefix:
            return self._exact(token)
        if len(token) <= PREFIX_MAX:
            must = tantivy.Query.term_query(self.schema, "pfx", token)
        else:
            must = tantivy.Query.fuzzy_term_query(self.schema, "name", token, 0, True, True)
        # A whole-word match still outranks a word that merely starts with the token.
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, must), (tantivy.Occur.Should, self._exact(token))]
        )

    def search(self, kind: str, text: str, count: int, offset: int) -> SearchPage:
        """Ids of ``kind`` (artist, album, song) matching every term of ``text``, best first.

        The last term also matches as a prefix, so results appear while the user types.
        """
        tokens = self.tokens(text)
        if not tokens or count <= 0 or offset >= MAX_HITS:
            return SearchPage([], 0)
        clauses = [
            (tantivy.Occur.Must, tantivy.Query.term_query(self.schema, "kind", kind)),
        ]
        last = len(tokens) - 1
        for i, tok in enumerate(tokens):
            # A lone CJK character or a one-letter prefix would match half the library.
            clauses.append((tantivy.Occur.Must, self._term(tok, prefix=i == last and len(tok) > 1)))
        query = tantivy.Query.boolean_query(clauses)
        searcher = self.index.searcher()
        limit = min(count, MAX_HITS - offset)
        res = searcher.search(query, limit, count=True, offset=offset, weight_by_field="pop")
        ids = [searcher.doc(addr)["id"][0] for _score, addr in res.hits]
        return SearchPage(ids, min(res.count or 0, MAX_HITS))
