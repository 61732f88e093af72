//! One trajectory record as it sits in a JSONL line, decoded without copying.
//!
//! The layout is the one both servers write (ours in `netsecgame::trajectory`, upstream's in
//! its coordinator and `TrajectoryRecorder`):
//! `{"trajectory": {"states": [S0, S1, ...], "actions": [A1, ...], "rewards": [R1, ...]},
//!   "end_reason": "AgentStatus.Success" | ... | null, "agent_role": "Attacker", "agent_name": "..."}`
//! with one more state than actions. Unknown keys (our `"truncated"`, a researcher's `"model"`)
//! are ignored.
//!
//! Everything here borrows from the line buffer: strings without escapes are slices of it, a
//! Data item's `content` (a host's whole logfile, the bulk of a FindData state) is skipped
//! without being read into memory, and nothing is built for keys no analysis looks at. That,
//! and not parsing into `serde_json::Value`, is what makes a line cost microseconds.
//!
//! Decoding mirrors upstream's `GameState.from_dict` and `Action.from_dict` closely enough to
//! give the same identities (see [`super::identity`]): a block entry may be `{"ip": "1.2.3.4"}`
//! or `{"ip": {"ip": "1.2.3.4"}}`, a mask may be a number or a string, `known_blocks` may be
//! absent.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// A record: one agent's episode.
#[derive(Debug, Deserialize)]
pub struct Record<'a> {
    #[serde(borrow)]
    pub trajectory: Trajectory<'a>,
    #[serde(borrow, default)]
    pub end_reason: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub agent_role: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub agent_name: Option<Cow<'a, str>>,
    /// Ours only: steps past the server's size bound were dropped.
    #[serde(default)]
    pub truncated: bool,
}

/// States and actions stay raw JSON text until they are needed: the same text always decodes
/// to the same state or action, and most of a file's text has been seen before (see
/// `super::cache`), so only new text is decoded.
#[derive(Debug, Deserialize)]
pub struct Trajectory<'a> {
    #[serde(borrow)]
    pub states: Vec<&'a RawValue>,
    #[serde(borrow)]
    pub actions: Vec<&'a RawValue>,
    pub rewards: Vec<f64>,
}

/// A game state in wire form (upstream `GameState.as_dict`).
#[derive(Debug, Deserialize)]
pub struct State<'a> {
    #[serde(borrow)]
    pub known_networks: Vec<Net<'a>>,
    #[serde(borrow)]
    pub known_hosts: Vec<Host<'a>>,
    #[serde(borrow)]
    pub controlled_hosts: Vec<Host<'a>>,
    #[serde(borrow)]
    pub known_services: Keyed<'a, Service<'a>>,
    #[serde(borrow)]
    pub known_data: Keyed<'a, Data<'a>>,
    #[serde(borrow, default)]
    pub known_blocks: Keyed<'a, BlockedHost<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct Host<'a> {
    #[serde(borrow)]
    pub ip: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
pub struct Net<'a> {
    #[serde(borrow)]
    pub ip: Cow<'a, str>,
    #[serde(borrow)]
    pub mask: Scalar<'a>,
}

#[derive(Debug, Deserialize)]
pub struct Service<'a> {
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(borrow, rename = "type")]
    pub service_type: Cow<'a, str>,
    #[serde(borrow)]
    pub version: Cow<'a, str>,
    #[serde(borrow)]
    pub is_local: Scalar<'a>,
}

/// A data item. `content` is skipped: upstream leaves it out of a state's identity.
#[derive(Debug, Deserialize)]
pub struct Data<'a> {
    #[serde(borrow)]
    pub owner: Cow<'a, str>,
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    #[serde(borrow, default = "zero")]
    pub size: Scalar<'a>,
    #[serde(borrow, rename = "type", default)]
    pub data_type: Cow<'a, str>,
    #[serde(default)]
    pub content: Option<IgnoredAny>,
}

fn zero<'a>() -> Scalar<'a> {
    Scalar::Int(0)
}

/// A `known_blocks` entry: `{"ip": "1.2.3.4"}`, or `{"ip": {"ip": "1.2.3.4"}}` as some upstream
/// versions wrote it (upstream's `from_dict` accepts both).
#[derive(Debug)]
pub struct BlockedHost<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for BlockedHost<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Inner<'a> {
            Text(#[serde(borrow)] Cow<'a, str>),
            Wrapped {
                #[serde(borrow)]
                ip: Cow<'a, str>,
            },
        }
        #[derive(Deserialize)]
        struct Outer<'a> {
            #[serde(borrow)]
            ip: Inner<'a>,
        }
        let outer = Outer::deserialize(d)?;
        Ok(BlockedHost(match outer.ip {
            Inner::Text(t) | Inner::Wrapped { ip: t } => t,
        }))
    }
}

/// A JSON object keyed by host (`known_services`, `known_data`, `known_blocks`), kept as a
/// list of pairs in file order: identity sorts them anyway, and a list costs no tree.
#[derive(Debug)]
pub struct Keyed<'a, T>(pub Vec<(Cow<'a, str>, Vec<T>)>);

impl<T> Default for Keyed<'_, T> {
    fn default() -> Self {
        Keyed(Vec::new())
    }
}

impl<'de: 'a, 'a, T: Deserialize<'de>> Deserialize<'de> for Keyed<'a, T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a, T>(std::marker::PhantomData<(&'a (), T)>);
        impl<'de: 'a, 'a, T: Deserialize<'de>> Visitor<'de> for V<'a, T> {
            type Value = Keyed<'a, T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object keyed by host address")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    out.push((key, map.next_value::<Vec<T>>()?));
                }
                Ok(Keyed(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// A JSON scalar, kept as written so it prints as Python's `str()` would print the value
/// upstream decoded from it.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Cow<'a, str>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, number, boolean or null")
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        // Integers past i64 keep their digits: they only ever get printed.
        Ok(i64::try_from(v).map_or_else(|_| Scalar::Str(Cow::Owned(v.to_string())), Scalar::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }
}

/// An action in wire form (upstream `Action.as_dict`): its type and its parameters, each a
/// scalar or a flat object (IP, Network, Service, Data, `AgentInfo`).
#[derive(Debug, Deserialize)]
pub struct RawAction<'a> {
    #[serde(borrow)]
    pub action_type: Cow<'a, str>,
    #[serde(borrow, default)]
    pub parameters: Params<'a>,
}

/// Parameters in file order.
#[derive(Debug, Default)]
pub struct Params<'a>(pub Vec<(Cow<'a, str>, Param<'a>)>);

#[derive(Debug)]
pub enum Param<'a> {
    Scalar(Scalar<'a>),
    /// A flat object's fields in file order; nested values are kept as scalars (none of
    /// upstream's parameter objects nests deeper).
    Object(Vec<(Cow<'a, str>, Scalar<'a>)>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Params<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Params<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of action parameters")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    out.push((key, map.next_value::<Param<'de>>()?));
                }
                Ok(Params(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Param<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Param<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a parameter value (scalar or object)")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Param::Scalar(Scalar::Null))
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Param::Scalar(Scalar::Null))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Param::Scalar(Scalar::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Param::Scalar(Scalar::Int(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                ScalarVisitor.visit_u64(v).map(Param::Scalar)
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Param::Scalar(Scalar::Float(v)))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Param::Scalar(Scalar::Str(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Param::Scalar(Scalar::Str(Cow::Owned(v.to_string()))))
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut fields = Vec::new();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    // A Data parameter's content does not take part in its identity: skip it.
                    if key == "content" {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                    fields.push((key, map.next_value::<Scalar<'de>>()?));
                }
                Ok(Param::Object(fields))
            }
            fn visit_seq<S: SeqAccess<'de>>(self, _seq: S) -> Result<Self::Value, S::Error> {
                Err(de::Error::custom("a parameter cannot be a list"))
            }
        }
        d.deserialize_any(V)
    }
}

/// A record detached from the decoder: where its states and actions sit in the line (byte
/// ranges), and its scalars. Workers decode lines into digests; the folding thread reads the
/// texts back from the same line bytes (see `super::pipeline`).
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    pub states: Vec<std::ops::Range<usize>>,
    /// `repeats[i]`: state `i` is known to be the text of state `i - 1` again (the fast path
    /// knows; false says nothing), so folding need not compare them.
    pub repeats: Vec<bool>,
    pub actions: Vec<std::ops::Range<usize>>,
    /// [`super::cache::text_hash`] of each state's text (0 for a known repeat) and of each
    /// action's, once [`Digest::hash_texts`] has run: hashing is the worker's job.
    pub state_hashes: Vec<super::cache::TextHash>,
    pub action_hashes: Vec<super::cache::TextHash>,
    /// Sum of the rewards (the episode's return).
    pub ret: f64,
    pub end_reason: Option<String>,
    pub agent_role: Option<String>,
    pub agent_name: Option<String>,
    pub truncated: bool,
}

impl Digest {
    /// The digest of `record`, decoded from `line`.
    pub fn of(record: &Record<'_>, line: &[u8]) -> Digest {
        let base = line.as_ptr() as usize;
        // Raw values borrow from the line, so their place in it is a pointer difference.
        let range = |raw: &&RawValue| {
            let start = raw.get().as_ptr() as usize - base;
            start..start + raw.get().len()
        };
        let t = &record.trajectory;
        Digest {
            states: t.states.iter().map(range).collect(),
            repeats: vec![false; t.states.len()],
            actions: t.actions.iter().map(range).collect(),
            state_hashes: Vec::new(),
            action_hashes: Vec::new(),
            ret: t.rewards.iter().sum(),
            end_reason: record.end_reason.as_deref().map(str::to_string),
            agent_role: record.agent_role.as_deref().map(str::to_string),
            agent_name: record.agent_name.as_deref().map(str::to_string),
            truncated: record.truncated,
        }
    }

    /// Fills `state_hashes` and `action_hashes` from `line`, the line the ranges point into.
    pub fn hash_texts(&mut self, line: &[u8]) {
        use super::cache::text_hash;
        self.state_hashes = self
            .states
            .iter()
            .zip(&self.repeats)
            .map(|(r, &again)| if again { 0 } else { text_hash(&line[r.clone()]) })
            .collect();
        self.action_hashes = self.actions.iter().map(|r| text_hash(&line[r.clone()])).collect();
    }
}
