"""Full-text search over artist, album and song names: a tantivy index under ``search/tantivy``.

Text is split into runs of letters and digits, with each CJK character (Han, kana, Hangul) a
token of its own (Chinese and Japanese have no spaces), then lowercased and ASCII-folded
(é → e, ß → ss), so accents and scripts need nothing from the user. CJK characters are spaced
out in Python before tantivy's simple tokenizer sees the text: a Unicode-class regex tokenizer
in tantivy costs ten times more per name, which matters at millions of names. Hits are scored by BM25 times
log2(2 + popularity) (tantivy's weight_by_field), so well-known items come first.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import tantivy

from musark.archive import Archive
from musark.console import progress

TOKENIZER = "musark"
PREFIX_TOKENIZER = "musark_prefix"
_CJK_RE = re.compile(
    "[\u1100-\u11ff\u2e80-\u2fdf\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f]"
)
WRITER_HEAP = 256 * 1024 * 1024
WRITER_THREADS = 2
# Candidates fetched per query before paging; deep pages of a text search are rare.
MAX_HITS = 2000
# Every word's prefixes of 2..PREFIX_MAX characters are indexed as terms of their own, so a
# half-typed word is one term lookup instead of a union over every word it starts.
PREFIX_MIN, PREFIX_MAX = 2, 12
# A one-word query of 2-3 characters can match a third of a million songs, and scoring them all
# takes tens of milliseconds. The top HOT_K answers of every such prefix that matches at least
# HOT_MIN documents are computed once at build time (by the same query) and kept in
# hot_prefixes.json next to the index.
HOT_MAX_LEN, HOT_MIN, HOT_K = 3, 5000, 100
HOT_FILE = "hot_prefixes.json"
# Which published index the search index was built from (see indexing.index_is_current).
STAMP_FILE = "musark_stamp.txt"


def prefix_analyzer() -> tantivy.TextAnalyzer:
    """Turns each analysed word (one value of the pfx field) into its PREFIX_MIN..MAX prefixes."""
    return tantivy.TextAnalyzerBuilder(
        tantivy.Tokenizer.ngram(PREFIX_MIN, PREFIX_MAX, True)
    ).build()


def _register(index: tantivy.Index) -> None:
    index.register_tokenizer(TOKENIZER, analyzer())
    index.register_tokenizer(PREFIX_TOKENIZER, prefix_analyzer())


def space_cjk(text: str) -> str:
    """``text`` with a space on each side of every CJK character (one token per character)."""
    return _CJK_RE.sub(r" \g<0> ", text)


def analyzer() -> tantivy.TextAnalyzer:
    """The analyzer used for both indexed names and queries (after space_cjk)."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
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
    b.add_text_field("pfx", stored=False, tokenizer_name=PREFIX_TOKENIZER, index_option="freq")
    b.add_float_field("pop", stored=False, fast=True, indexed=False)
    return b.build()


def search_dir(archive: Archive) -> Path:
    """Folder of the tantivy index."""
    return archive.search_dir / "tantivy"


def _docs(lib: sqlite3.Connection) -> Iterator[tuple[str, str, str, str, float]]:
    yield from (
        ("artist", i, space_cjk(n), "", float(p or 0))
        for i, n, p in lib.execute("SELECT id, name, coalesce(followers, popularity) FROM artist")
    )
    yield from (
        ("album", i, space_cjk(n), space_cjk(a or ""), float(p or 0))
        for i, n, a, p in lib.execute("SELECT id, name, artist, popularity FROM album")
    )
    yield from (
        ("song", i, space_cjk(n), space_cjk(f"{a or ''} {al or ''}"), float(p or 0))
        for i, n, a, al, p in lib.execute("SELECT id, title, artist, album, popularity FROM song")
    )


def build_search(
    archive: Archive,
    library_db: Path,
    *,
    show_progress: bool | None = None,
    hot_min: int = HOT_MIN,
    stamp: str = "",
) -> int:
    """Rebuild the tantivy index from library.sqlite3 with one bulk writer; return documents."""
    final = search_dir(archive)
    tmp = final.with_name(final.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    index = tantivy.Index(_schema(), path=str(tmp))
    _register(index)
    lib = sqlite3.connect(f"file:{library_db}?mode=ro", uri=True)
    total = sum(
        lib.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("artist", "album", "song")
    )
    n = 0
    words: set[str] = set()
    analyse = analyzer().analyze
    writer = index.writer(WRITER_HEAP, WRITER_THREADS)
    with progress(disable=show_progress is False if show_progress is not None else None) as bar:
        task = bar.add_task("search index", total=total)
        for kind, ident, name, ctx, pop in _docs(lib):
            tokens = analyse(f"{name} {ctx}")
            words.update(tokens)
            writer.add_document(
                tantivy.Document(kind=kind, id=ident, name=name, ctx=ctx, pfx=tokens, pop=pop)
            )
            n += 1
            if n % 10000 == 0:
                bar.update(task, completed=n)
        bar.update(task, completed=n)
    writer.commit()
    writer.wait_merging_threads()
    lib.close()
    searcher = Searcher(archive, folder=tmp, hot=False)
    reader = searcher.index.searcher()
    short = {w[:k] for w in words for k in range(PREFIX_MIN, HOT_MAX_LEN + 1) if len(w) >= k}
    answers: dict[str, dict[str, list[str]]] = {}
    for prefix in sorted(short):
        if reader.doc_freq("pfx", prefix) >= hot_min:
            for kind in ("artist", "album", "song"):
                answers.setdefault(kind, {})[prefix] = searcher.search(kind, prefix, HOT_K, 0)
    (tmp / HOT_FILE).write_text(json.dumps(answers, ensure_ascii=False), encoding="utf-8")
    (tmp / STAMP_FILE).write_text(stamp, encoding="utf-8")
    old = final.with_name(final.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return n


class Searcher:
    """Answers text queries against the tantivy index."""

    def __init__(self, archive: Archive, *, folder: Path | None = None, hot: bool = True) -> None:
        folder = folder or search_dir(archive)
        self.index = tantivy.Index.open(str(folder))
        _register(self.index)
        self.schema = self.index.schema
        self._analyzer = analyzer()
        self.hot: dict[str, dict[str, list[str]]] = {}
        if hot and (folder / HOT_FILE).exists():
            self.hot = json.loads((folder / HOT_FILE).read_text(encoding="utf-8"))

    def tokens(self, text: str) -> list[str]:
        """The query's terms as the index saw the names."""
        return self._analyzer.analyze(space_cjk(text))

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

    def search(self, kind: str, text: str, count: int, offset: int) -> list[str]:
        """Ids of ``kind`` (artist, album, song) matching every term of ``text``, best first.

        The last term also matches as a prefix, so results appear while the user types.
        """
        tokens = self.tokens(text)
        if not tokens or count <= 0 or offset >= MAX_HITS:
            return []
        if len(tokens) == 1 and offset + count <= HOT_K:
            cached = self.hot.get(kind, {}).get(tokens[0])
            if cached is not None:
                return cached[offset : offset + count]
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
        # count=False: counting every match would cost as much as scoring them all.
        res = searcher.search(query, limit, count=False, offset=offset, weight_by_field="pop")
        return [searcher.doc(addr)["id"][0] for _score, addr in res.hits]
