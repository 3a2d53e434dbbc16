//! The protobuf types this crate speaks, from the `proto` crate, under short names.

pub use proto::executor as exec;
pub use proto::scheduler as sched;
pub use proto::v1;
