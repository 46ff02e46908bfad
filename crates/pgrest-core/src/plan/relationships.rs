//! Finds the foreign-key relationship an embed refers to: many-to-one, one-to-many (one-to-one
//! when the child's key is unique) and many-to-many through a junction table, with `!hint`.
//!
//! Must not look at anything but the schema cache; ambiguity is an error, never a guess.

use super::error::{PlanError, RelationshipCandidate};
use super::types::Cardinality;
use crate::schema_cache::{ForeignKey, QualifiedName, SchemaCache};

/// A resolved relationship from a parent relation to an embedded one.
#[derive(Debug, Clone)]
pub struct Relationship {
    pub child: QualifiedName,
    pub cardinality: Cardinality,
    /// (parent column, child column)
    pub pairs: Vec<(String, String)>,
    pub junction: Option<JunctionLink>,
}

#[derive(Debug, Clone)]
pub struct JunctionLink {
    pub relation: QualifiedName,
    /// (junction column, parent column)
    pub parent_pairs: Vec<(String, String)>,
    /// (junction column, child column)
    pub child_pairs: Vec<(String, String)>,
}

struct Found {
    rel: Relationship,
    candidate: RelationshipCandidate,
}

/// Resolves `target` (a relation name, a foreign key name, or a foreign key column) from `parent`.
pub fn find_relationship(cache: &SchemaCache, parent: &QualifiedName, target: &str, hint: Option<&str>) -> Result<Relationship, PlanError> {
    let mut found: Vec<Found> = Vec::new();
    let single_column = |fk: &ForeignKey| fk.from_columns.len() == 1 && fk.from_columns.first().map(String::as_str) == Some(target);

    // Many-to-one: parent holds the foreign key.
    for fk in cache.foreign_keys_from(parent) {
        if fk.to.name == target || fk.constraint == target || single_column(fk) {
            let pairs = fk.from_columns.iter().cloned().zip(fk.to_columns.iter().cloned()).collect();
            let fits_hint = hint.is_none_or(|h| h == fk.constraint || fk.from_columns.iter().any(|c| c == h) || fk.to_columns.iter().any(|c| c == h));
            if fits_hint {
                found.push(Found {
                    rel: Relationship { child: fk.to.clone(), cardinality: Cardinality::ToOne, pairs, junction: None },
                    candidate: candidate("many-to-one", fk, parent, target),
                });
            }
        }
    }
    // One-to-many (or one-to-one): the child holds the foreign key.
    for fk in cache.foreign_keys_to(parent) {
        if fk.from.name == target || fk.constraint == target {
            let fits_hint = hint.is_none_or(|h| h == fk.constraint || fk.from_columns.iter().any(|c| c == h) || fk.to_columns.iter().any(|c| c == h));
            if !fits_hint {
                continue;
            }
            let unique = cache.relations.get(&fk.from).is_some_and(|r| r.is_unique(&fk.from_columns));
            let pairs = fk.to_columns.iter().cloned().zip(fk.from_columns.iter().cloned()).collect();
            let (cardinality, label) = if unique { (Cardinality::ToOne, "one-to-one") } else { (Cardinality::ToMany, "one-to-many") };
            found.push(Found {
                rel: Relationship { child: fk.from.clone(), cardinality, pairs, junction: None },
                candidate: candidate(label, fk, parent, target),
            });
        }
    }
    // Many-to-many: a junction with one key to the parent and one to the target.
    for to_parent in cache.foreign_keys_to(parent) {
        for to_child in cache.foreign_keys_from(&to_parent.from) {
            if to_child.constraint == to_parent.constraint || to_child.to.name != target {
                continue;
            }
            let junction = &to_parent.from;
            let fits_hint = hint.is_none_or(|h| h == junction.name || h == to_parent.constraint || h == to_child.constraint);
            if !fits_hint {
                continue;
            }
            found.push(Found {
                rel: Relationship {
                    child: to_child.to.clone(),
                    cardinality: Cardinality::ToMany,
                    pairs: Vec::new(),
                    junction: Some(JunctionLink {
                        relation: junction.clone(),
                        parent_pairs: to_parent.from_columns.iter().cloned().zip(to_parent.to_columns.iter().cloned()).collect(),
                        child_pairs: to_child.from_columns.iter().cloned().zip(to_child.to_columns.iter().cloned()).collect(),
                    }),
                },
                candidate: RelationshipCandidate {
                    cardinality: "many-to-many",
                    relationship: format!(
                        "{} using {}({}) and {}({})",
                        junction.name,
                        to_parent.constraint,
                        to_parent.from_columns.join(", "),
                        to_child.constraint,
                        to_child.from_columns.join(", ")
                    ),
                    embedding: format!("{} with {}", parent.name, target),
                    hint: junction.name.clone(),
                },
            });
        }
    }
    match found.len() {
        0 => Err(PlanError::RelationshipNotFound { parent: parent.name.clone(), target: target.to_string(), schema: parent.schema.clone() }),
        1 => found.pop().map(|f| f.rel).ok_or(PlanError::Unsupported("relationship vanished".into())),
        _ => Err(PlanError::AmbiguousRelationship {
            parent: parent.name.clone(),
            target: target.to_string(),
            candidates: found.into_iter().map(|f| f.candidate).collect(),
        }),
    }
}

fn candidate(cardinality: &'static str, fk: &ForeignKey, parent: &QualifiedName, target: &str) -> RelationshipCandidate {
    RelationshipCandidate {
        cardinality,
        relationship: format!("{} using {}({}) and {}({})", fk.constraint, fk.from.name, fk.from_columns.join(", "), fk.to.name, fk.to_columns.join(", ")),
        embedding: format!("{} with {}", parent.name, target),
        hint: fk.constraint.clone(),
    }
}
