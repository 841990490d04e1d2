"""The KPI SQL for Apache Spark: a DuckDB SQL file (the one source of truth, ``analytics/store/sql/``)
transpiled by sqlglot, its ``$parameters`` becoming Spark's ``:parameters``.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from analytics.store import queries


def spark_sql(name: str) -> str:
    """Return the DuckDB SQL file ``name`` (with its refs) as Spark SQL, ``$p`` becoming ``:p``.

    sqlglot does the dialect; three rewrites cover what Spark cannot run as transpiled: the CTEs
    of embedded files get names of their own (``_unique_nested_ctes``), several ``unnest`` in one
    SELECT (Spark allows one generator there) become ``FROM UNNEST(a, b) AS t(x, y)`` (Spark's
    ``INLINE(ARRAYS_ZIP(…))``), and ``median`` as a running window aggregate becomes
    ``percentile(x, 0.5)`` (the same interpolated median, allowed over a window frame).
    """
    tree = sqlglot.parse_one(queries.load(name), read="duckdb")
    tree = _unique_nested_ctes(tree.transform(_zip_unnests).transform(_median_to_percentile))
    return tree.sql(dialect="spark", pretty=True, unsupported_level=sqlglot.ErrorLevel.RAISE)


def _unique_nested_ctes(tree: exp.Expression) -> exp.Expression:
    """Give the CTEs of every subquery names of their own (``days`` -> ``days_3``).

    sqlglot lifts a subquery's WITH to the top for Spark; a ``ref`` embedded twice, or two refs
    that both name a CTE ``due``, would then clash. Innermost first, so a name is only ever
    resolved within the subquery that defines it.
    """
    nested = [w for w in tree.find_all(exp.With) if w.parent is not tree]
    nested.sort(key=_depth, reverse=True)
    for number, with_ in enumerate(nested, 1):
        scope = with_.parent
        if scope is None:
            continue
        renamed = {cte.alias: f"{cte.alias}_{number}" for cte in with_.expressions}
        for table in scope.find_all(exp.Table):
            if not table.args.get("db") and table.name in renamed:
                table.set("this", exp.to_identifier(renamed[table.name]))
        for cte in with_.expressions:
            cte.set("alias", exp.TableAlias(this=exp.to_identifier(renamed[cte.alias])))
    return tree


def _depth(node: exp.Expression) -> int:
    depth, parent = 0, node.parent
    while parent is not None:
        depth, parent = depth + 1, parent.parent
    return depth


def _zip_unnests(node: exp.Expression) -> exp.Expression:
    """``SELECT unnest(a) AS x, unnest(b) AS y`` -> ``SELECT * FROM UNNEST(a, b) AS t(x, y)``."""
    if not isinstance(node, exp.Select) or node.args.get("from") or node.args.get("from_"):
        return node
    projections = node.expressions
    if len(projections) < 2 or not all(
        isinstance(p, exp.Alias) and isinstance(p.this, (exp.Unnest, exp.Explode)) for p in projections
    ):
        return node
    arrays = [p.this.this if isinstance(p.this, exp.Explode) else p.this.expressions[0] for p in projections]
    unnest = exp.Unnest(
        expressions=arrays,
        alias=exp.TableAlias(
            this=exp.to_identifier("zipped"), columns=[exp.to_identifier(p.alias) for p in projections]
        ),
    )
    return exp.select("*").from_(unnest)


def _median_to_percentile(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Median):
        return exp.Anonymous(this="PERCENTILE", expressions=[node.this, exp.Literal.number("0.5")])
    return node
