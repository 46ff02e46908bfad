//! The schema cache of the REST test fixture (tests/fixtures/schema.sql), built in memory so the
//! plan stage can be fuzzed without a database: every relationship kind (many-to-one,
//! one-to-many, one-to-one, many-to-many through a junction), functions of each return shape.
//!
//! Plain data; must stay in step with the fixture's shape, not its rows.

use pgrest_core::schema_cache::{Column, ForeignKey, Function, FunctionParam, QualifiedName, Relation, RelationKind, ReturnShape, SchemaCache, Volatility};

fn q(name: &str) -> QualifiedName {
    QualifiedName::new("public", name)
}

fn column(name: &str, data_type: &str, nullable: bool) -> Column {
    Column { name: name.to_string(), data_type: data_type.to_string(), nullable, default: None }
}

fn table(name: &str, columns: Vec<Column>, primary_key: &[&str], unique: &[&[&str]]) -> Relation {
    let pk: Vec<String> = primary_key.iter().map(|c| c.to_string()).collect();
    let mut unique_keys = vec![pk.clone()];
    unique_keys.extend(unique.iter().map(|k| k.iter().map(|c| c.to_string()).collect()));
    Relation { name: q(name), kind: RelationKind::Table, columns, primary_key: pk, unique_keys }
}

fn fk(constraint: &str, from: &str, from_column: &str, to: &str, to_column: &str) -> ForeignKey {
    ForeignKey {
        constraint: constraint.to_string(),
        from: q(from),
        from_columns: vec![from_column.to_string()],
        to: q(to),
        to_columns: vec![to_column.to_string()],
    }
}

fn function(name: &str, params: &[(&str, &str)], returns: ReturnShape, returns_set: bool, volatility: Volatility) -> Function {
    Function {
        name: q(name),
        params: params
            .iter()
            .map(|(n, t)| FunctionParam { name: n.to_string(), data_type: t.to_string(), has_default: false, variadic: false })
            .collect(),
        returns,
        returns_set,
        volatility,
    }
}

pub fn fixture() -> SchemaCache {
    let relations = vec![
        table("users", vec![column("id", "bigint", false), column("name", "text", false), column("email", "text", true)], &["id"], &[&["email"]]),
        table(
            "posts",
            vec![
                column("id", "bigint", false),
                column("author_id", "bigint", true),
                column("title", "text", false),
                column("status", "text", false),
                column("meta", "jsonb", true),
                column("score", "integer", true),
            ],
            &["id"],
            &[],
        ),
        table("profiles", vec![column("user_id", "bigint", false), column("bio", "text", true)], &["user_id"], &[]),
        table("tags", vec![column("id", "bigint", false), column("label", "text", false)], &["id"], &[]),
        table("post_tags", vec![column("post_id", "bigint", false), column("tag_id", "bigint", false)], &["post_id", "tag_id"], &[]),
        table("counters", vec![column("name", "text", false), column("value", "integer", false)], &["name"], &[]),
    ];
    let foreign_keys = vec![
        fk("posts_author_id_fkey", "posts", "author_id", "users", "id"),
        fk("profiles_user_id_fkey", "profiles", "user_id", "users", "id"),
        fk("post_tags_post_id_fkey", "post_tags", "post_id", "posts", "id"),
        fk("post_tags_tag_id_fkey", "post_tags", "tag_id", "tags", "id"),
    ];
    let functions = vec![
        function("add", &[("a", "integer"), ("b", "integer")], ReturnShape::Scalar { data_type: "integer".into() }, false, Volatility::Immutable),
        function("published_posts", &[], ReturnShape::Relation(q("posts")), true, Volatility::Stable),
        function("touch", &[], ReturnShape::Void, false, Volatility::Volatile),
        function("whoami", &[], ReturnShape::Scalar { data_type: "json".into() }, false, Volatility::Stable),
        function("pairs", &[("n", "integer")], ReturnShape::Record { columns: vec!["k".into(), "v".into()] }, true, Volatility::Stable),
    ];
    SchemaCache {
        relations: relations.into_iter().map(|r| (r.name.clone(), r)).collect(),
        foreign_keys,
        functions: functions.into_iter().map(|f| (f.name.clone(), vec![f])).collect(),
    }
}
