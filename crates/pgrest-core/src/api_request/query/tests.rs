//! Query string → exact `QueryParams` for every construct the parser accepts.
//!
//! Tests only; the quirks asserted here are PostgREST's own and are kept on purpose.

use std::collections::BTreeMap;

use super::super::types::*;
use super::parse_query;

fn parse(query: &str) -> QueryParams {
    parse_query(query, false).unwrap()
}

fn select_of(query: &str) -> Vec<SelectItem> {
    parse(query).select.unwrap()
}

fn column(name: &str) -> SelectItem {
    SelectItem::Column { field: Field::plain(name), alias: None, cast: None }
}

fn key(name: &str) -> JsonStep {
    JsonStep { as_text: false, key: JsonKey::Name(name.into()) }
}

fn text_key(name: &str) -> JsonStep {
    JsonStep { as_text: true, key: JsonKey::Name(name.into()) }
}

fn embed(relation: &str, select: Vec<SelectItem>) -> EmbedSelect {
    EmbedSelect { relation: relation.into(), alias: None, hint: None, join: EmbedJoin::Left, spread: false, select }
}

fn simple(op: SimpleOp, value: &str) -> Operation {
    Operation::Simple { op, quantifier: None, value: value.into() }
}

fn filter(name: &str, negated: bool, operation: Operation) -> Filter {
    Filter { field: Field::plain(name), negated, operation }
}

/// The single root filter of `name=value`.
fn root_filter(query: &str) -> Filter {
    let filters = parse(query).filters;
    assert_eq!(filters.len(), 1, "{query}");
    let (path, filter) = filters.into_iter().next().unwrap();
    assert!(path.is_empty(), "{query}");
    filter
}

fn path(names: &[&str]) -> EmbedPath {
    names.iter().map(|name| name.to_string()).collect()
}

#[test]
fn empty_query_and_absent_select() {
    assert_eq!(parse(""), QueryParams::default());
    assert_eq!(parse("?"), QueryParams::default());
    assert_eq!(parse("select").select, None);
    assert_eq!(parse("select&select=id").select, None);
    assert_eq!(parse("select=").select, Some(vec![]));
}

#[test]
fn select_columns_star_alias_cast_and_json() {
    assert_eq!(select_of("select=id,%20name"), vec![column("id"), column("name")]);
    assert_eq!(select_of("select=*"), vec![SelectItem::Star]);
    assert_eq!(
        select_of("select=label:name::text,data->a->>b,arr->0,alias:j->-1->x::int"),
        vec![
            SelectItem::Column { field: Field::plain("name"), alias: Some("label".into()), cast: Some("text".into()) },
            SelectItem::Column {
                field: Field { name: "data".into(), json_path: vec![key("a"), text_key("b")] },
                alias: None,
                cast: None
            },
            SelectItem::Column {
                field: Field {
                    name: "arr".into(),
                    json_path: vec![JsonStep { as_text: false, key: JsonKey::Index(0) }]
                },
                alias: None,
                cast: None,
            },
            SelectItem::Column {
                field: Field {
                    name: "j".into(),
                    json_path: vec![JsonStep { as_text: false, key: JsonKey::Index(-1) }, key("x")],
                },
                alias: Some("alias".into()),
                cast: Some("int".into()),
            },
        ]
    );
    assert_eq!(
        select_of("select=%22my%20col%22,my-col,$x_1"),
        vec![column("my col"), column("my-col"), column("$x_1")]
    );
}

#[test]
fn select_embeds_hints_joins_and_spreads() {
    let items = select_of("select=id,clients(*),c:clients(id),clients!fk(id),clients!inner(id),clients!left(id)");
    let with = |alias: Option<&str>, hint: Option<&str>, join: EmbedJoin, select: Vec<SelectItem>| {
        SelectItem::Embed(EmbedSelect {
            alias: alias.map(String::from),
            hint: hint.map(String::from),
            join,
            ..embed("clients", select)
        })
    };
    assert_eq!(
        items,
        vec![
            column("id"),
            with(None, None, EmbedJoin::Left, vec![SelectItem::Star]),
            with(Some("c"), None, EmbedJoin::Left, vec![column("id")]),
            with(None, Some("fk"), EmbedJoin::Left, vec![column("id")]),
            with(None, None, EmbedJoin::Inner, vec![column("id")]),
            with(None, None, EmbedJoin::Left, vec![column("id")]),
        ]
    );
    let both_orders = select_of("select=a:t!fk!inner(x),t!inner!fk(x)");
    let expected = EmbedSelect { hint: Some("fk".into()), join: EmbedJoin::Inner, ..embed("t", vec![column("x")]) };
    assert_eq!(
        both_orders,
        vec![
            SelectItem::Embed(EmbedSelect { alias: Some("a".into()), ..expected.clone() }),
            SelectItem::Embed(expected),
        ]
    );
    assert_eq!(
        select_of("select=...clients!fk(name),projects(tasks(id))"),
        vec![
            SelectItem::Embed(EmbedSelect {
                spread: true,
                hint: Some("fk".into()),
                ..embed("clients", vec![column("name")])
            }),
            SelectItem::Embed(embed("projects", vec![SelectItem::Embed(embed("tasks", vec![column("id")]))])),
        ]
    );
    assert_eq!(
        select_of("select= id , clients ( name )"),
        vec![column("id"), SelectItem::Embed(embed("clients", vec![column("name")]))]
    );
}

#[test]
fn select_quirks_kept_from_postgrest() {
    // Parsing stops quietly when the first item cannot start, and after a stray `)`.
    assert_eq!(select_of("select=*!hint"), vec![]);
    assert_eq!(select_of("select=id)junk"), vec![column("id")]);
    // A blank after the last `)` starts a separator that never comes.
    assert!(parse_query("select=c(x)%20", false).is_err());
    // Inside a tree, a filter is negated after its column (`d.not.eq.3`), never before it.
    assert!(parse_query("or=(not.d.eq.3)", false).is_err());
}

#[test]
fn filter_operators() {
    let cases = [
        ("eq", SimpleOp::Eq),
        ("neq", SimpleOp::Neq),
        ("gt", SimpleOp::Gt),
        ("gte", SimpleOp::Gte),
        ("lt", SimpleOp::Lt),
        ("lte", SimpleOp::Lte),
        ("like", SimpleOp::Like),
        ("ilike", SimpleOp::Ilike),
        ("match", SimpleOp::Match),
        ("imatch", SimpleOp::Imatch),
        ("isdistinct", SimpleOp::IsDistinct),
        ("cs", SimpleOp::Contains),
        ("cd", SimpleOp::ContainedIn),
        ("ov", SimpleOp::Overlaps),
        ("sl", SimpleOp::StrictlyLeft),
        ("sr", SimpleOp::StrictlyRight),
        ("nxr", SimpleOp::NotExtendRight),
        ("nxl", SimpleOp::NotExtendLeft),
        ("adj", SimpleOp::Adjacent),
    ];
    for (keyword, op) in cases {
        assert_eq!(root_filter(&format!("c={keyword}.v.w")), filter("c", false, simple(op, "v.w")), "{keyword}");
        assert_eq!(root_filter(&format!("c=not.{keyword}.x")), filter("c", true, simple(op, "x")), "{keyword}");
    }
    // `*` stays as written (the planner makes it `%`); `+` is a space, `%2B` a plus.
    assert_eq!(root_filter("name=like.*a+b%2B*"), filter("name", false, simple(SimpleOp::Like, "*a b+*")));
    assert_eq!(root_filter("name=eq."), filter("name", false, simple(SimpleOp::Eq, "")));
    assert_eq!(root_filter("name=eq.%22a,b%22"), filter("name", false, simple(SimpleOp::Eq, "\"a,b\"")));
}

#[test]
fn filter_quantifiers_is_in_and_fts() {
    let quantified =
        |op, quantifier, value: &str| Operation::Simple { op, quantifier: Some(quantifier), value: value.into() };
    assert_eq!(root_filter("c=eq(any).{1,2}").operation, quantified(SimpleOp::Eq, Quantifier::Any, "{1,2}"));
    assert_eq!(root_filter("c=like(all).{a*,b*}").operation, quantified(SimpleOp::Like, Quantifier::All, "{a*,b*}"));
    assert!(root_filter("c=not.gte(any).{1}").negated);
    for (text, value) in [
        ("null", IsValue::Null),
        ("NuLL", IsValue::Null),
        ("not_null", IsValue::NotNull),
        ("TRUE", IsValue::True),
        ("false", IsValue::False),
        ("unknown", IsValue::Unknown),
    ] {
        assert_eq!(root_filter(&format!("c=is.{text}")).operation, Operation::Is(value), "{text}");
    }
    let in_values = |values: &[&str]| Operation::In(values.iter().map(|value| value.to_string()).collect());
    assert_eq!(root_filter("c=in.(1,2,3)").operation, in_values(&["1", "2", "3"]));
    assert_eq!(root_filter("c=in.(%22a,b%22,%22q%5C%22x%22,%20c%20)").operation, in_values(&["a,b", "q\"x", " c "]));
    assert_eq!(root_filter("c=in.()").operation, in_values(&[]));
    assert_eq!(root_filter("c=not.in.(a)"), filter("c", true, in_values(&["a"])));
    let fts = |kind, config: Option<&str>, value: &str| Operation::Fts {
        kind,
        config: config.map(String::from),
        value: value.into(),
    };
    assert_eq!(
        root_filter("c=fts(english).cat%20%26%20dog").operation,
        fts(FtsKind::Plain, Some("english"), "cat & dog")
    );
    assert_eq!(root_filter("c=plfts.a b").operation, fts(FtsKind::Plain2, None, "a b"));
    assert_eq!(root_filter("c=phfts(simple).a").operation, fts(FtsKind::Phrase, Some("simple"), "a"));
    assert_eq!(root_filter("c=not.wfts.a").operation, fts(FtsKind::Websearch, None, "a"));
}

#[test]
fn filter_keys_embed_paths_and_json_paths() {
    let query = parse("clients.projects.id=eq.1&data->a->>b=eq.2&clients.select=eq.3&%22a.b%22=eq.4");
    assert_eq!(
        query.filters,
        vec![
            (path(&["clients", "projects"]), filter("id", false, simple(SimpleOp::Eq, "1"))),
            (
                vec![],
                Filter {
                    field: Field { name: "data".into(), json_path: vec![key("a"), text_key("b")] },
                    negated: false,
                    operation: simple(SimpleOp::Eq, "2")
                }
            ),
            (path(&["clients"]), filter("select", false, simple(SimpleOp::Eq, "3"))),
            (vec![], filter("a.b", false, simple(SimpleOp::Eq, "4"))),
        ]
    );
}

#[test]
fn logic_trees() {
    let query = parse(
        "or=(a.eq.1,b.gt.2,and(c.is.null,d.not.eq.3))&clients.not.and=(x.in.(1,2),y.eq.%22a,b%22)&not.or=(j->>k.eq.{1,2})",
    );
    let leaf = |name: &str, negated, operation| LogicTree::Leaf(filter(name, negated, operation));
    assert_eq!(
        query.logic,
        vec![
            (
                vec![],
                LogicTree::Expr {
                    negated: false,
                    op: LogicOp::Or,
                    children: vec![
                        leaf("a", false, simple(SimpleOp::Eq, "1")),
                        leaf("b", false, simple(SimpleOp::Gt, "2")),
                        LogicTree::Expr {
                            negated: false,
                            op: LogicOp::And,
                            children: vec![
                                leaf("c", false, Operation::Is(IsValue::Null)),
                                leaf("d", true, simple(SimpleOp::Eq, "3"))
                            ],
                        },
                    ],
                }
            ),
            (
                path(&["clients"]),
                LogicTree::Expr {
                    negated: true,
                    op: LogicOp::And,
                    children: vec![
                        leaf("x", false, Operation::In(vec!["1".into(), "2".into()])),
                        leaf("y", false, simple(SimpleOp::Eq, "a,b")),
                    ],
                }
            ),
            (
                vec![],
                LogicTree::Expr {
                    negated: true,
                    op: LogicOp::Or,
                    children: vec![LogicTree::Leaf(Filter {
                        field: Field { name: "j".into(), json_path: vec![text_key("k")] },
                        negated: false,
                        operation: simple(SimpleOp::Eq, "{1,2}"),
                    })],
                }
            ),
        ]
    );
    let spaced = parse("and=( id.eq.1 , or( id.eq.2 ) )").logic;
    assert_eq!(spaced.len(), 1);
    // PostgREST glues the key to the value: `or=a.eq.1` is the filter `ora.eq.1`.
    assert_eq!(parse("or=a.eq.1").logic, vec![(vec![], leaf("ora", false, simple(SimpleOp::Eq, "1")))]);
}

#[test]
fn order_terms() {
    let term = |relation: Option<&str>, field: Field, direction, nulls| OrderTerm {
        relation: relation.map(String::from),
        field,
        direction,
        nulls,
    };
    let query = parse(
        "order=a,b.asc,c.desc,d.nullsfirst,e.desc.nullslast,j->x->>y.asc,client(name).desc&clients.order=id&order=ignored",
    );
    assert_eq!(
        query.order.get(&vec![]).unwrap(),
        &vec![
            term(None, Field::plain("a"), None, None),
            term(None, Field::plain("b"), Some(Direction::Asc), None),
            term(None, Field::plain("c"), Some(Direction::Desc), None),
            term(None, Field::plain("d"), None, Some(Nulls::First)),
            term(None, Field::plain("e"), Some(Direction::Desc), Some(Nulls::Last)),
            term(
                None,
                Field { name: "j".into(), json_path: vec![key("x"), text_key("y")] },
                Some(Direction::Asc),
                None
            ),
            term(Some("client"), Field::plain("name"), Some(Direction::Desc), None),
        ]
    );
    assert_eq!(query.order.get(&path(&["clients"])).unwrap(), &vec![term(None, Field::plain("id"), None, None)]);
    assert_eq!(query.order.len(), 2);
}

#[test]
fn limits_and_offsets() {
    let query = parse("limit=10&offset=5&clients.limit=-1&tasks.offset=3&x.limit=abc&limit=20");
    let expected: BTreeMap<EmbedPath, RangeSpec> = [
        (vec![], RangeSpec { offset: 5, limit: Some(20) }),
        (path(&["clients"]), RangeSpec { offset: 0, limit: Some(-1) }),
        (path(&["tasks"]), RangeSpec { offset: 3, limit: None }),
        (path(&["x"]), RangeSpec { offset: 0, limit: None }),
    ]
    .into_iter()
    .collect();
    assert_eq!(query.ranges, expected);
    assert_eq!(parse("limit=%20-%207%20").ranges.get(&vec![]).unwrap().limit, Some(-7));
}

#[test]
fn columns_and_on_conflict() {
    let query = parse("columns=a,%20b%20,a&on_conflict=x,%22y%20z%22");
    assert_eq!(query.columns, Some(vec!["a".into(), "b".into()]));
    assert_eq!(query.on_conflict, Some(vec!["x".into(), "y z".into()]));
}

#[test]
fn separators_and_decoding() {
    let query = parse("?a=eq.1;b=eq.2&&c&d=eq.%E9%ZZ");
    assert_eq!(
        query.filters,
        vec![
            (vec![], filter("a", false, simple(SimpleOp::Eq, "1"))),
            (vec![], filter("b", false, simple(SimpleOp::Eq, "2"))),
            (vec![], filter("d", false, simple(SimpleOp::Eq, "\u{fffd}%ZZ"))),
        ]
    );
}

#[test]
fn rpc_arguments() {
    let query = parse_query("a=1&id=eq.5&b=&select=x&order=x&clients.limit=1&c", true).unwrap();
    assert_eq!(
        query.rpc_args,
        vec![("a".into(), "1".into()), ("id".into(), "eq.5".into()), ("b".into(), String::new())]
    );
    assert_eq!(query.filters, vec![(vec![], filter("id", false, simple(SimpleOp::Eq, "5")))]);
    // A value that starts like a filter and then breaks is an error even for RPC, as upstream.
    for broken in ["a=not.sure", "a=is.maybe", "a=in.(1"] {
        assert!(parse_query(broken, true).is_err(), "{broken}");
    }
    assert!(parse_query("a=1", false).is_err());
}
