//! Reads the schema cache from pg_catalog: four catalog queries, run once per (re)load.
//!
//! Must not run on the request path; the caller (`db`) hands it a connection.

use std::collections::HashMap;

use tokio_postgres::GenericClient;

use super::{CatalogExpr, Column, ForeignKey, Function, FunctionParam, QualifiedName, Relation, RelationKind, ReturnShape, SchemaCache, Volatility};

const RELATIONS_SQL: &str = "
SELECT n.nspname, c.relname, c.relkind::text,
  coalesce(json_agg(json_build_object(
      'name', a.attname,
      'type', format_type(a.atttypid, a.atttypmod),
      'nullable', NOT a.attnotnull,
      'default', pg_get_expr(d.adbin, d.adrelid)) ORDER BY a.attnum)
    FILTER (WHERE a.attnum IS NOT NULL), '[]')::text
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p') AND n.nspname = ANY($1)
GROUP BY n.nspname, c.relname, c.relkind";

const UNIQUE_KEYS_SQL: &str = "
SELECT n.nspname, c.relname, i.indisprimary,
  array_to_json(array(
    SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(num, ord)
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.num ORDER BY k.ord))::text
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE i.indisunique AND i.indpred IS NULL AND 0 <> ALL (i.indkey::int2[]) AND n.nspname = ANY($1)
ORDER BY n.nspname, c.relname, i.indisprimary DESC, i.indexrelid";

const FOREIGN_KEYS_SQL: &str = "
SELECT con.conname, n1.nspname, c1.relname, n2.nspname, c2.relname,
  array_to_json(array(
    SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord))::text,
  array_to_json(array(
    SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
    JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord))::text
FROM pg_constraint con
JOIN pg_class c1 ON c1.oid = con.conrelid
JOIN pg_namespace n1 ON n1.oid = c1.relnamespace
JOIN pg_class c2 ON c2.oid = con.confrelid
JOIN pg_namespace n2 ON n2.oid = c2.relnamespace
WHERE con.contype = 'f' AND (n1.nspname = ANY($1) OR n2.nspname = ANY($1))
ORDER BY n1.nspname, c1.relname, con.conname";

const FUNCTIONS_SQL: &str = "
SELECT n.nspname, p.proname, p.proretset, p.provolatile::text,
  t.typname = 'void' AND t.typnamespace = 'pg_catalog'::regnamespace,
  format_type(p.prorettype, NULL),
  rn.nspname, rc.relname,
  coalesce(array_to_json(p.proargnames)::text, '[]'),
  coalesce(array_to_json(p.proargmodes::text[])::text, '[]'),
  array_to_json(coalesce(p.proallargtypes::regtype[], p.proargtypes::oid[]::regtype[])::text[])::text,
  p.pronargdefaults::int4,
  CASE WHEN rc.relkind = 'c' THEN array_to_json(array(
    SELECT a.attname FROM pg_attribute a WHERE a.attrelid = rc.oid AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY a.attnum))::text END
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_type t ON t.oid = p.prorettype
LEFT JOIN pg_class rc ON rc.oid = t.typrelid
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
WHERE n.nspname = ANY($1) AND p.prokind = 'f'
ORDER BY n.nspname, p.proname, p.oid";

#[derive(serde::Deserialize)]
struct RawColumn {
    name: String,
    #[serde(rename = "type")]
    data_type: String,
    nullable: bool,
    default: Option<String>,
}

/// Why loading failed (database error or catalog output we could not read).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}")]
    Database(#[from] tokio_postgres::Error),
    #[error("unexpected catalog data: {0}")]
    Decode(#[from] serde_json::Error),
}

/// Loads everything about `schemas` the planner needs.
pub async fn load_schema_cache<C: GenericClient>(client: &C, schemas: &[String]) -> Result<SchemaCache, LoadError> {
    let mut cache = SchemaCache::default();
    for row in client.query(RELATIONS_SQL, &[&schemas]).await? {
        let name = QualifiedName::new(row.try_get::<_, String>(0)?, row.try_get::<_, String>(1)?);
        let kind = match row.try_get::<_, String>(2)?.as_str() {
            "v" => RelationKind::View,
            "m" => RelationKind::MaterializedView,
            "f" => RelationKind::ForeignTable,
            "p" => RelationKind::PartitionedTable,
            _ => RelationKind::Table,
        };
        let raw: Vec<RawColumn> = serde_json::from_str(&row.try_get::<_, String>(3)?)?;
        let columns = raw
            .into_iter()
            .map(|c| Column { name: c.name, data_type: c.data_type, nullable: c.nullable, default: c.default.map(CatalogExpr::from_catalog) })
            .collect();
        cache.relations.insert(name.clone(), Relation { name, kind, columns, primary_key: Vec::new(), unique_keys: Vec::new() });
    }
    for row in client.query(UNIQUE_KEYS_SQL, &[&schemas]).await? {
        let name = QualifiedName::new(row.try_get::<_, String>(0)?, row.try_get::<_, String>(1)?);
        let primary: bool = row.try_get(2)?;
        let cols: Vec<String> = serde_json::from_str(&row.try_get::<_, String>(3)?)?;
        if let Some(rel) = cache.relations.get_mut(&name) {
            if primary {
                rel.primary_key = cols.clone();
            }
            rel.unique_keys.push(cols);
        }
    }
    for row in client.query(FOREIGN_KEYS_SQL, &[&schemas]).await? {
        cache.foreign_keys.push(ForeignKey {
            constraint: row.try_get(0)?,
            from: QualifiedName::new(row.try_get::<_, String>(1)?, row.try_get::<_, String>(2)?),
            to: QualifiedName::new(row.try_get::<_, String>(3)?, row.try_get::<_, String>(4)?),
            from_columns: serde_json::from_str(&row.try_get::<_, String>(5)?)?,
            to_columns: serde_json::from_str(&row.try_get::<_, String>(6)?)?,
        });
    }
    let mut functions: HashMap<QualifiedName, Vec<Function>> = HashMap::new();
    for row in client.query(FUNCTIONS_SQL, &[&schemas]).await? {
        let function = function_from_row(&row, &cache)?;
        functions.entry(function.name.clone()).or_default().push(function);
    }
    cache.functions = functions;
    Ok(cache)
}

fn function_from_row(row: &tokio_postgres::Row, cache: &SchemaCache) -> Result<Function, LoadError> {
    let name = QualifiedName::new(row.try_get::<_, String>(0)?, row.try_get::<_, String>(1)?);
    let returns_set: bool = row.try_get(2)?;
    let volatility = match row.try_get::<_, String>(3)?.as_str() {
        "i" => Volatility::Immutable,
        "s" => Volatility::Stable,
        _ => Volatility::Volatile,
    };
    let is_void: bool = row.try_get(4)?;
    let return_type: String = row.try_get(5)?;
    let ret_rel = match (row.try_get::<_, Option<String>>(6)?, row.try_get::<_, Option<String>>(7)?) {
        (Some(s), Some(n)) => Some(QualifiedName::new(s, n)),
        _ => None,
    };
    let arg_names: Vec<String> = serde_json::from_str(&row.try_get::<_, String>(8)?)?;
    let arg_modes: Vec<String> = serde_json::from_str(&row.try_get::<_, String>(9)?)?;
    let arg_types: Vec<String> = serde_json::from_str(&row.try_get::<_, String>(10)?)?;
    let defaults = usize::try_from(row.try_get::<_, i32>(11)?).unwrap_or(0);
    let composite_columns: Option<Vec<String>> =
        row.try_get::<_, Option<String>>(12)?.map(|t| serde_json::from_str(&t)).transpose()?;

    let mut params = Vec::new();
    let mut out_columns = Vec::new();
    for (i, data_type) in arg_types.iter().enumerate() {
        let mode = arg_modes.get(i).map(String::as_str).unwrap_or("i");
        let arg_name = arg_names.get(i).cloned().unwrap_or_default();
        match mode {
            "o" | "t" => out_columns.push(arg_name),
            "b" => {
                out_columns.push(arg_name.clone());
                params.push(FunctionParam { name: arg_name, data_type: data_type.clone(), has_default: false, variadic: false });
            }
            _ => params.push(FunctionParam { name: arg_name, data_type: data_type.clone(), has_default: false, variadic: mode == "v" }),
        }
    }
    let first_default = params.len().saturating_sub(defaults);
    for param in params.iter_mut().skip(first_default) {
        param.has_default = true;
    }
    let returns = if is_void {
        ReturnShape::Void
    } else if !out_columns.is_empty() {
        ReturnShape::Record { columns: out_columns }
    } else {
        match ret_rel {
            Some(rel) if cache.relations.contains_key(&rel) => ReturnShape::Relation(rel),
            Some(_) => match composite_columns {
                Some(columns) => ReturnShape::Record { columns },
                None => ReturnShape::Scalar { data_type: return_type },
            },
            None => ReturnShape::Scalar { data_type: return_type },
        }
    };
    Ok(Function { name, params, returns, returns_set, volatility })
}
