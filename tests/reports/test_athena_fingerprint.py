"""SQL fingerprints: literals, comments, case and spacing do not split a group; structure does."""

from hypothesis import given
from hypothesis import strategies as st

from jupyter_remote_dev.reports.athena.fingerprint import (
    fingerprint,
    normalize,
    selects_star,
    tables,
    where_clause,
)

TEMPLATE = "SELECT a, count(*) FROM db.events WHERE day = {s} AND n > {n} AND id IN ({ids})"


@given(
    st.text(max_size=40),
    st.integers(min_value=0, max_value=10**12) | st.floats(min_value=0, max_value=1e9),
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20),
)
def test_fingerprint_ignores_literals(text, number, ids):
    """Any string, number or IN-list length gives the same fingerprint."""
    sql = TEMPLATE.format(
        s="'" + text.replace("'", "''") + "'", n=number, ids=", ".join(map(str, ids))
    )
    assert (
        normalize(sql) == "select a, count(*) from db.events where day = ? and n > ? and id in (?+)"
    )


def test_fingerprint_ignores_comments_case_and_spacing():
    a = "select *\n  from LOGS -- nightly\nwhere  x=1 /* tag: etl */;"
    b = "SELECT * FROM logs WHERE x = 2"
    assert fingerprint(a) == fingerprint(b)
    assert normalize(a) == "select * from logs where x = ?"


def test_fingerprint_separates_structure():
    """Different tables, columns or predicates are different groups; quoted identifiers keep
    their case."""
    assert fingerprint("SELECT a FROM t") != fingerprint("SELECT b FROM t")
    assert fingerprint("SELECT a FROM t") != fingerprint("SELECT a FROM u")
    assert fingerprint('SELECT "A" FROM t') != fingerprint('SELECT "a" FROM t')


def test_fingerprint_only_in_lists_collapse():
    """``IN (1, 2, 3)`` is any-length; other parenthesised literals keep their count."""
    assert normalize("INSERT INTO t VALUES (1, 'a')") == "insert into t values (?, ?)"
    assert normalize("SELECT round(x, 2) FROM t WHERE y NOT IN (5)") == (
        "select round(x, ?) from t where y not in (?+)"
    )


def test_fingerprint_typed_literals_are_one_literal():
    assert normalize("SELECT 1 WHERE d > DATE '2026-01-01'") == "select ? where d > ?"
    assert normalize("SELECT X'00ff', TIMESTAMP '2026-01-01 00:00'") == "select ?, ?"


def test_fingerprint_unterminated_input_does_not_fail():
    """Truncated SQL (an unclosed quote or comment) still normalises, losing nothing after it."""
    assert normalize("SELECT 'abc") == "select ?"
    assert normalize("SELECT a /* never closed") == "select a"


def test_fingerprint_tables_star_and_where():
    sql = normalize('SELECT t.* FROM "Cat".db.t t JOIN other o ON t.id = o.id WHERE dt = 1')
    assert tables(sql) == ['"Cat".db.t', "other"]
    assert selects_star(sql) and not selects_star(normalize("SELECT count(*) FROM t"))
    assert where_clause(sql) == "dt = ?"
