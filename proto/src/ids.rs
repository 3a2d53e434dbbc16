//! Constructors and `Display` for the Mesos id messages (`{ required string value = 1 }`),
//! so callers write `TaskId::from("worker-1")` instead of a struct literal.

use crate::v1::{
    AgentId, ContainerId, ExecutorId, FrameworkId, OfferId, OperationId, ResourceProviderId, TaskId,
};
use std::fmt;

macro_rules! string_id {
    ($($ty:ident),*) => {$(
        impl $ty {
            /// An id with this value.
            pub fn new(value: impl Into<String>) -> Self {
                Self { value: value.into() }
            }
        }

        impl From<&str> for $ty {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        impl From<String> for $ty {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.value)
            }
        }
    )*};
}

string_id!(
    FrameworkId,
    OfferId,
    AgentId,
    TaskId,
    ExecutorId,
    ResourceProviderId,
    OperationId
);

impl ContainerId {
    /// A top-level container id (no parent).
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            parent: None,
        }
    }
}

impl fmt::Display for ContainerId {
    /// `parent.child`, as Mesos prints nested container ids.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(parent) = &self.parent {
            write!(f, "{parent}.")?;
        }
        f.write_str(&self.value)
    }
}
